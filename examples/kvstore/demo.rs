//! The cluster demo's script, shared with the kill -9 test: three
//! replicas, writes, the leader killed with SIGKILL, more writes, the old
//! leader back, and every acknowledged write checked on every replica.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use super::cluster::Cluster;

/// What the script measured.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Writes acknowledged before the kill.
    pub acked_before: usize,
    /// Writes acknowledged after it.
    pub acked_after: usize,
    /// Writes not acknowledged (timed out around the kill): they may or
    /// may not have taken effect, and are not checked.
    pub unacknowledged: usize,
    /// The first leader.
    pub first_leader: u64,
    /// The leader after the kill.
    pub second_leader: u64,
    /// Time from the kill to a new leader reporting itself.
    pub election: Duration,
    /// Time for the restarted node to apply everything.
    pub catch_up: Duration,
    /// (node, key) pairs where an acknowledged write was missing or wrong,
    /// after the old leader came back.
    pub missing: Vec<(u64, String)>,
    /// The same after every replica was restarted (durability of the log).
    pub missing_after_full_restart: Vec<(u64, String)>,
    /// Writes per second in the first phase.
    pub writes_per_sec: f64,
}

fn bar(show: bool, len: usize, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg:<28} [{bar:40}] {pos}/{len} {per_sec}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Writes `keys` (`prefix-0` ..) with 16 in flight; returns the ones
/// acknowledged.
async fn write_keys(cluster: &Cluster, prefix: &str, keys: usize, show: bool) -> Vec<String> {
    let bar = bar(show, keys, &format!("writing {prefix}-*"));
    let acked: Vec<Option<String>> = futures::stream::iter(0..keys)
        .map(|i| {
            let key = format!("{prefix}-{i}");
            let bar = bar.clone();
            async move {
                let ok = cluster
                    .put_retrying(&key, &format!("v-{key}"), Duration::from_secs(10))
                    .await;
                bar.inc(1);
                ok.then_some(key)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    bar.finish();
    acked.into_iter().flatten().collect()
}

/// Every acknowledged key on every replica, read locally.
async fn verify(cluster: &Cluster, keys: &[String], show: bool) -> Vec<(u64, String)> {
    let ids = cluster.ids();
    let bar = bar(show, keys.len() * ids.len(), "checking every replica");
    let mut missing = Vec::new();
    for &id in &ids {
        for key in keys {
            if cluster.local_value(id, key).await.as_deref() != Some(format!("v-{key}").as_str()) {
                missing.push((id, key.clone()));
            }
            bar.inc(1);
        }
    }
    bar.finish();
    missing
}

/// Runs the script with replicas started as `exe prefix..`, their data
/// under `dir`.
///
/// # Errors
/// A step that could not happen (no leader, a process not started).
pub async fn run(
    exe: &Path,
    prefix: &[&str],
    dir: &Path,
    keys: usize,
    show: bool,
) -> Result<Summary, Box<dyn std::error::Error>> {
    let say = |s: String| {
        if show {
            println!("{s}");
        }
    };
    let mut cluster = Cluster::start(exe, prefix, dir, 3)?;
    let mut summary = Summary::default();
    let started = Instant::now();
    let first = cluster
        .leader(None, Duration::from_secs(20))
        .await
        .ok_or("no leader elected in 20 s")?;
    say(format!(
        "3 nodes up; node {first} leads after {:?}",
        started.elapsed()
    ));
    summary.first_leader = first;

    let t = Instant::now();
    let mut acked = write_keys(&cluster, "before", keys, show).await;
    summary.writes_per_sec = acked.len() as f64 / t.elapsed().as_secs_f64();
    summary.acked_before = acked.len();
    summary.unacknowledged += keys - acked.len();

    say(format!("kill -9 node {first} (the leader)"));
    let killed_at = Instant::now();
    cluster.kill(first)?;
    let second = cluster
        .leader(Some(first), Duration::from_secs(20))
        .await
        .ok_or("no new leader in 20 s")?;
    summary.election = killed_at.elapsed();
    summary.second_leader = second;
    say(format!(
        "node {second} leads {:?} after the kill",
        summary.election
    ));

    let after = write_keys(&cluster, "after", keys, show).await;
    summary.acked_after = after.len();
    summary.unacknowledged += keys - after.len();
    acked.extend(after);

    say(format!("restart node {first} from its log"));
    let restarted_at = Instant::now();
    cluster.restart(first)?;
    let target = cluster.status(second).await.map_or(0, |s| s.applied);
    if !cluster
        .caught_up(first, target, Duration::from_secs(30))
        .await
    {
        return Err(format!("node {first} did not catch up to {target} in 30 s").into());
    }
    summary.catch_up = restarted_at.elapsed();
    say(format!(
        "node {first} applied up to {target} {:?} after its restart",
        summary.catch_up
    ));
    // Followers apply what the leader committed a moment later.
    for id in cluster.ids() {
        cluster.caught_up(id, target, Duration::from_secs(30)).await;
    }
    summary.missing = verify(&cluster, &acked, show).await;

    say("restart all three from their logs".into());
    for id in cluster.ids() {
        cluster.kill(id)?;
    }
    for id in cluster.ids() {
        cluster.restart(id)?;
    }
    let leader = cluster
        .leader(None, Duration::from_secs(20))
        .await
        .ok_or("no leader after the full restart")?;
    // A write in the new term commits everything before it everywhere.
    if !cluster
        .put_retrying("after-restart", "v-after-restart", Duration::from_secs(20))
        .await
    {
        return Err("no write accepted after the full restart".into());
    }
    let target = cluster.status(leader).await.map_or(0, |s| s.applied);
    for id in cluster.ids() {
        cluster.caught_up(id, target, Duration::from_secs(30)).await;
    }
    summary.missing_after_full_restart = verify(&cluster, &acked, show).await;
    cluster.stop_all();
    Ok(summary)
}
