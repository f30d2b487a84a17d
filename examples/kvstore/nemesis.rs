//! The Jepsen way on loopback: three kv replicas as processes, clients
//! recording a history over HTTP while a nemesis kills (SIGKILL), pauses
//! (SIGSTOP / SIGCONT) and partitions them (a proxy in front of every
//! peer port), removes and re-adds them, fails their disks (EIO, ENOSPC),
//! then healing, a progress bound, every
//! replica converged on what was acknowledged, and the history checked
//! with synod-sim's linearizability checker against the key-value model.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use serde::Deserialize;
use synod_sim::models::{KeyValue, KvInput, KvOutput};
use synod_sim::{ModelOp, ModelVerdict, Outcome, check_model};

use super::cluster::Cluster;
use super::proxy::{Mode, Proxy};

/// The faults of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// SIGKILL of a random replica or of the leader, restarted after a
    /// while.
    Kill,
    /// SIGSTOP of a random replica or of the leader for longer than an
    /// election timeout, then SIGCONT.
    Pause,
    /// A replica (the leader half the time) cut off from the others by
    /// the proxy in front of every peer port, then healed.
    Partition,
    /// A replica (the leader half the time) can no longer send to the
    /// others over the connections it dials, while they still reach it:
    /// a one-way partition.
    OneWay,
    /// A replica's links slowed by the proxy (20-80 ms a chunk, up to 50
    /// ms of jitter, in order), then healed.
    SlowLinks,
    /// A replica restarted with a clock that runs fast or slow (a tick of
    /// 3 to 30 ms where the others tick every 10).
    ClockSkew,
    /// A bridge: the replicas but one split in two halves that cannot
    /// reach each other, the one left (the leader half the time) reaching
    /// both. Runs five replicas (alone; in the mix, three).
    Bridge,
    /// A replica (the leader half the time) removed from the
    /// configuration while writes continue, then added back.
    Churn,
    /// A replica's log disk fails every write and sync with EIO; it must
    /// stop (fail-stop), then it restarts on a healed disk.
    DiskError,
    /// A replica's log disk is full (ENOSPC on every write, allocation
    /// and sync); as `DiskError`.
    DiskFull,
    /// All of them, mixed.
    Combined,
}

impl Scenario {
    /// Every single fault, in the order the suite runs them.
    pub const FAULTS: [Scenario; 10] = [
        Scenario::Kill,
        Scenario::Pause,
        Scenario::Partition,
        Scenario::OneWay,
        Scenario::SlowLinks,
        Scenario::ClockSkew,
        Scenario::Bridge,
        Scenario::Churn,
        Scenario::DiskError,
        Scenario::DiskFull,
    ];
}

/// What a scenario did and found.
#[derive(Debug)]
pub struct Findings {
    /// Faults injected.
    pub faults: u64,
    /// Operations that returned, and that ended unknown.
    pub ops: (usize, usize),
    /// The checker's verdict on the history.
    pub verdict: ModelVerdict,
    /// Replicas whose state differed from the leader's after healing.
    pub diverged: Vec<u64>,
    /// How long the first write after healing took.
    pub recovery: Duration,
    /// Partitions (both ways or one way) that cut the leader off, and in
    /// how many of them the others elected a new leader while it was cut
    /// off (proof that the proxy really partitions).
    pub leader_cut_off: (u64, u64),
    /// Replicas removed from the configuration, and added back.
    pub churn: (u64, u64),
    /// Disk faults injected, and replicas that stopped on one (a replica
    /// that kept running on a failing disk would have hidden the fault).
    pub disk: (u64, u64),
    /// Writes through a leader whose links were slowed or throttled (and
    /// which kept leading meanwhile), and how many of them took at least
    /// what the slowing adds: proof that the proxy slows the cluster.
    pub slowed: (u64, u64),
}

/// Writes through `leader` while its links are in `mode` and says whether
/// the write took at least what the mode must add (a delay, or the
/// value's bytes at the throttled rate), or `None` when it proves nothing
/// (the write failed, leadership moved meanwhile, or the links stall).
async fn probe_slowness(cluster: &Cluster, leader: u64, mode: Mode) -> Option<bool> {
    let (value, floor) = match mode {
        // One slowed hop at least: the append out or its acknowledgement.
        Mode::Slow { delay, .. } => ("s".repeat(16), delay),
        // The append carries the value to a follower over a throttled
        // link.
        Mode::Throttle { bytes_per_sec } => {
            // Small enough to pass before the clients' backlog grows
            // behind the limit, big enough to take measurable time.
            let bytes = 4 * 1024;
            let secs = bytes as f64 / bytes_per_sec.max(1) as f64;
            ("t".repeat(bytes), Duration::from_secs_f64(secs * 0.9))
        }
        Mode::Open | Mode::Cut | Mode::Stall => return None,
    };
    let before = cluster.status(leader).await?;
    let start = Instant::now();
    let written = cluster.put(leader, "slowness-probe", &value).await;
    let took = start.elapsed();
    let after = cluster.status(leader).await?;
    let held = before.role == "leader" && after.role == "leader" && before.term == after.term;
    if std::env::var_os("SYNOD_NEMESIS_DEBUG").is_some() {
        eprintln!(
            "probe {mode:?}: written {written}, held {held} ({before:?} -> {after:?}), took {took:?}, floor {floor:?}"
        );
    }
    (written && held).then_some(took >= floor)
}

type History = Arc<Mutex<Vec<ModelOp<KvInput, KvOutput>>>>;

const KEYS: u64 = 4;

/// Microseconds since `start`: the history's clock.
fn at(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// One client: operations on random keys through random replicas until
/// `until`, each recorded with its outcome.
async fn client(
    id: u64,
    addrs: Vec<String>,
    history: History,
    start: Instant,
    until: Instant,
    stale_reads: bool,
) {
    #[derive(Deserialize)]
    struct Read {
        value: String,
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(1_000))
        .build()
        .expect("an HTTP client");
    let mut rng = StdRng::seed_from_u64(id);
    let mut seq = 0u64;
    while Instant::now() < until {
        let key = format!("n{}", rng.next_u64() % KEYS);
        let addr = &addrs[(rng.next_u64() % addrs.len() as u64) as usize];
        let invoked = at(start);
        let (input, outcome) = if rng.next_u64().is_multiple_of(2) {
            seq += 1;
            let value = format!("c{id}-{seq}");
            let sent = (http.put(format!("http://{addr}/kv/{key}")))
                .json(&serde_json::json!({ "value": value }))
                .send()
                .await;
            let outcome = match sent {
                Ok(r) if r.status().is_success() => Outcome::Returned {
                    time: at(start),
                    output: KvOutput::Ok,
                },
                // Nothing listened (the replica is down): never sent.
                Err(e) if e.is_connect() => Outcome::Failed,
                // A definite refusal: not the leader and none known, the
                // proposal lost to a leader change, the leader unreachable
                // from the replica that forwards (examples/kvstore/http.rs).
                Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => Outcome::Failed,
                // A timeout, a reset, a refusal after forwarding: it may
                // still take effect.
                _ => Outcome::Unknown {
                    gave_up: Some(at(start)),
                },
            };
            (KvInput::Put(key, value), outcome)
        } else {
            let query = if stale_reads {
                "?consistency=stale"
            } else {
                ""
            };
            let sent = http
                .get(format!("http://{addr}/kv/{key}{query}"))
                .send()
                .await;
            let output = match sent {
                Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                    Some(KvOutput::Value(None))
                }
                Ok(r) if r.status().is_success() => r
                    .json::<Read>()
                    .await
                    .ok()
                    .map(|v| KvOutput::Value(Some(v.value))),
                _ => None,
            };
            let outcome = match output {
                Some(output) => Outcome::Returned {
                    time: at(start),
                    output,
                },
                // A read that got no answer changed nothing.
                None => Outcome::Failed,
            };
            (KvInput::Get(key), outcome)
        };
        history.lock().expect("unpoisoned").push(ModelOp {
            client: id,
            input,
            invoked,
            outcome,
        });
    }
}

/// Sets `target`'s links: every one (both ways) or only those it dials.
fn cut(proxy: &Proxy, ids: &[u64], target: u64, one_way: bool, mode: Mode) {
    for &other in ids.iter().filter(|&&o| o != target) {
        if one_way {
            proxy.set_one_way(target, other, mode);
        } else {
            proxy.set(target, other, mode);
        }
    }
}

/// Runs `scenario` for `secs` against a fresh cluster of `exe` (which runs
/// a replica when given `prefix`), in `dir`. The history is written to
/// `dir/history.json`. With `stale_reads` the clients read each replica's
/// own state (`?consistency=stale`): the planted mistake the checker must
/// catch.
///
/// # Errors
/// The cluster could not be started or healed.
pub async fn run(
    exe: &Path,
    prefix: &[&str],
    dir: &Path,
    scenario: Scenario,
    secs: u64,
    seed: u64,
    stale_reads: bool,
) -> Result<Findings, Box<dyn std::error::Error>> {
    let replicas = if scenario == Scenario::Bridge { 5 } else { 3 };
    let (mut cluster, proxy) = Cluster::start_proxied(exe, prefix, dir, replicas).await?;
    cluster
        .leader(None, Duration::from_secs(20))
        .await
        .ok_or("no leader at the start")?;
    let addrs: Vec<String> = (cluster.ids().iter())
        .filter_map(|&id| cluster.http_addr(id).map(str::to_string))
        .collect();
    let history: History = Arc::default();
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let history = history.clone();
            tokio::spawn(client(c, addrs.clone(), history, start, until, stale_reads))
        })
        .collect();

    let mut rng = StdRng::seed_from_u64(seed);
    let mut faults = 0;
    let mut leader_cut_off = (0, 0);
    let mut churn = (0, 0);
    let mut disk = (0, 0);
    let mut slowed = (0, 0);
    // Removed and not yet added back (a re-add that timed out).
    let mut out = std::collections::BTreeSet::new();
    let ids = cluster.ids();
    while Instant::now() + Duration::from_millis(1_500) < until {
        tokio::time::sleep(Duration::from_millis(300 + rng.next_u64() % 700)).await;
        // The leader half the time, and always at the first fault.
        let leader = if faults == 0 {
            // The first fault must find the leader: wait for one.
            cluster.leader(None, Duration::from_secs(5)).await
        } else if rng.next_u64().is_multiple_of(2) {
            cluster.leader(None, Duration::from_millis(500)).await
        } else {
            None
        };
        let target = leader.unwrap_or(ids[(rng.next_u64() % ids.len() as u64) as usize]);
        let fault = match scenario {
            Scenario::Combined => {
                Scenario::FAULTS[(rng.next_u64() % Scenario::FAULTS.len() as u64) as usize]
            }
            other => other,
        };
        faults += 1;
        let lasts = Duration::from_millis(400 + rng.next_u64() % 1_100);
        match fault {
            Scenario::Kill => {
                cluster.kill(target)?;
                tokio::time::sleep(Duration::from_millis(200 + rng.next_u64() % 800)).await;
                cluster.restart(target)?;
            }
            Scenario::Pause => {
                // Longer than an election timeout (15 to 30 ticks of 10 ms).
                cluster.signal(target, "STOP")?;
                tokio::time::sleep(lasts).await;
                cluster.signal(target, "CONT")?;
            }
            Scenario::OneWay | Scenario::Partition => {
                let one_way = fault == Scenario::OneWay;
                cut(&proxy, &ids, target, one_way, Mode::Cut);
                let cut_at = Instant::now();
                if leader == Some(target) {
                    leader_cut_off.0 += 1;
                    if cluster.leader(Some(target), lasts).await.is_some() {
                        leader_cut_off.1 += 1;
                    }
                }
                tokio::time::sleep(lasts.saturating_sub(cut_at.elapsed())).await;
                cut(&proxy, &ids, target, one_way, Mode::Open);
            }
            Scenario::SlowLinks => {
                // The first fault (on the leader) is never a stall, so
                // every run can prove the slowing with a write.
                let kinds = if faults == 1 { 2 } else { 3 };
                let mode = match rng.next_u64() % kinds {
                    0 => Mode::Slow {
                        delay: Duration::from_millis(20 + rng.next_u64() % 60),
                        jitter: Duration::from_millis(rng.next_u64() % 50),
                    },
                    1 => Mode::Throttle {
                        bytes_per_sec: 16_384 + rng.next_u64() % 49_152,
                    },
                    _ => Mode::Stall,
                };
                let slowed_at = Instant::now();
                proxy.set_node(target, mode);
                if leader == Some(target) {
                    // A probe proves nothing if leadership moved meanwhile:
                    // try a few times.
                    for _ in 0..3 {
                        if let Some(bit) = probe_slowness(&cluster, target, mode).await {
                            slowed.0 += 1;
                            slowed.1 += u64::from(bit);
                            break;
                        }
                    }
                }
                tokio::time::sleep(lasts.saturating_sub(slowed_at.elapsed())).await;
                proxy.set_node(target, Mode::Open);
            }
            Scenario::ClockSkew => {
                let tick = 3 + rng.next_u64() % 28;
                cluster.set_args(target, vec!["--tick-ms".into(), tick.to_string()]);
                cluster.restart(target)?;
                tokio::time::sleep(lasts).await;
            }
            Scenario::Bridge => {
                let mut others: Vec<u64> = ids.iter().copied().filter(|&i| i != target).collect();
                let turn = (rng.next_u64() % others.len().max(1) as u64) as usize;
                others.rotate_left(turn);
                let (left, right) = others.split_at(others.len() / 2);
                let set = |mode| {
                    for &a in left {
                        for &b in right {
                            proxy.set(a, b, mode);
                        }
                    }
                };
                set(Mode::Cut);
                tokio::time::sleep(lasts).await;
                set(Mode::Open);
            }
            Scenario::Churn => {
                // One change at a time: the previous removal is undone
                // before another node goes.
                if let Some(&back) = out.iter().next() {
                    if cluster.change_member(back, true, lasts).await {
                        out.remove(&back);
                        churn.1 += 1;
                    }
                } else if cluster.change_member(target, false, lasts).await {
                    churn.0 += 1;
                    tokio::time::sleep(lasts).await;
                    if cluster.change_member(target, true, lasts * 4).await {
                        churn.1 += 1;
                    } else {
                        out.insert(target);
                    }
                }
            }
            Scenario::DiskError | Scenario::DiskFull => {
                let fault = if fault == Scenario::DiskError {
                    "eio"
                } else {
                    "enospc"
                };
                cluster.set_disk_fault(target, Some(fault))?;
                disk.0 += 1;
                tokio::time::sleep(lasts).await;
                cluster.set_disk_fault(target, None)?;
                // A write that failed just before the switch turned may
                // still be stopping the process: give it time to exit
                // (the switch is polled every 5 ms).
                tokio::time::sleep(Duration::from_millis(200)).await;
                // The disk is replaced: a replica that stopped on it
                // starts again over what it had synced.
                if cluster.exited(target) {
                    disk.1 += 1;
                    cluster.restart(target)?;
                }
            }
            // Combined was resolved to one of the others above.
            Scenario::Combined => {}
        }
    }
    for c in clients {
        c.await?;
    }

    proxy.heal();
    // Healing includes the disks: a replica that stopped on a failing
    // disk after its fault was checked starts again too.
    for id in cluster.ids() {
        if cluster.exited(id) {
            cluster.restart(id)?;
        }
    }
    for back in std::mem::take(&mut out) {
        if !cluster
            .change_member(back, true, Duration::from_secs(15))
            .await
        {
            return Err(format!("replica {back} could not be added back").into());
        }
        churn.1 += 1;
    }
    // Healed: every replica runs and reaches every other. A write must land within the bound, and
    // then every replica must hold what the leader holds.
    let healed = Instant::now();
    if !cluster
        .put_retrying("after-healing", "yes", Duration::from_secs(15))
        .await
    {
        return Err("no write within 15 s of healing".into());
    }
    let recovery = healed.elapsed();
    let leader = (cluster.leader(None, Duration::from_secs(10)).await).ok_or("no leader")?;
    let applied = (cluster.status(leader).await)
        .ok_or("leader silent")?
        .applied;
    let mut diverged = Vec::new();
    for id in cluster.ids() {
        if !cluster
            .caught_up(id, applied, Duration::from_secs(10))
            .await
        {
            diverged.push(id);
            continue;
        }
        for k in 0..KEYS {
            let key = format!("n{k}");
            if cluster.local_value(id, &key).await != cluster.local_value(leader, &key).await {
                diverged.push(id);
                break;
            }
        }
    }
    let pids = cluster.pids();
    cluster.stop_all();
    for pid in pids {
        if Path::new(&format!("/proc/{pid}")).exists() {
            return Err(format!("replica process {pid} outlived the test").into());
        }
    }

    let history = std::mem::take(&mut *history.lock().expect("unpoisoned"));
    std::fs::write(dir.join("history.json"), serde_json::to_string(&history)?)?;
    let done = (history.iter())
        .filter(|o| matches!(o.outcome, Outcome::Returned { .. }))
        .count();
    let unknown = history.iter().filter(|o| o.outcome.is_unknown()).count();
    let verdict = check_model(&KeyValue, &history, 20_000_000)?;
    Ok(Findings {
        faults,
        ops: (done, unknown),
        verdict,
        diverged,
        recovery,
        leader_cut_off,
        churn,
        disk,
        slowed,
    })
}
