//! The nemesis suite on real processes (examples/kvstore/nemesis.rs):
//! three kv replicas on loopback under SIGKILL, under SIGSTOP/SIGCONT
//! pauses, under partitions (a replica cut off by the proxy in front of
//! every peer port), under one-way partitions (a replica that can no
//! longer send over the connections it dials), under slowed links (the same proxy), under a replica
//! whose clock runs fast or slow, under membership churn (a replica
//! removed and added back while writes continue), under failing disks
//! (EIO and ENOSPC on one replica's log: it must stop, and restart
//! cleanly on a healed disk), and under all of them mixed, on raft and
//! on Multi-Paxos. Each must end with
//! the history linearizable, every replica holding what the leader holds,
//! and a write within 15 s of healing; and clients that read replicas'
//! own state (stale reads, planted) must be caught. `SYNOD_NEMESIS_SECS` sets each
//! scenario's length (6 s by default; CI's setting);
//! `SYNOD_NEMESIS_ONLY=churn,kill,stale` runs only the named ones. A failing run keeps
//! its directory (history and every replica's log) and prints how to
//! re-check it. The test binary is also the replica (`nemesis node ...`).

use synod_examples::kvstore::cli;
use synod_examples::kvstore::nemesis::{Scenario, run};
use synod_sim::ModelVerdict;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(done) = cli::replica_or_filtered("nemesis") {
        return done;
    }
    let secs: u64 = std::env::var("SYNOD_NEMESIS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    // SYNOD_NEMESIS_ONLY=churn,kill (names, any case) runs only those
    // scenarios (and skips the planted check unless "stale" is named).
    let only: Option<Vec<String>> = std::env::var("SYNOD_NEMESIS_ONLY")
        .ok()
        .map(|s| s.split(',').map(|w| w.trim().to_lowercase()).collect());
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|o| o.iter().any(|w| w == &name.to_lowercase()))
    };
    let exe = std::env::current_exe()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut failed = Vec::new();
    let mut seed = 0;
    for protocol in ["raft", "paxos"] {
        for scenario in Scenario::FAULTS.into_iter().chain([Scenario::Combined]) {
            seed += 1;
            if !wanted(&format!("{scenario:?}")) {
                continue;
            }
            let dir = tempfile::tempdir()?;
            let prefix = [
                "node",
                "--protocol",
                protocol,
                "--follower-writes",
                "forward",
            ];
            let result =
                runtime.block_on(run(&exe, &prefix, dir.path(), scenario, secs, seed, false));
            let problem = match &result {
                Err(e) => Some(e.to_string()),
                Ok(f) if f.verdict != ModelVerdict::Linearizable => {
                    Some(format!("history: {:?}", f.verdict))
                }
                Ok(f) if !f.diverged.is_empty() => Some(format!(
                    "replicas {:?} did not catch up with the leader or differ from it",
                    f.diverged
                )),
                Ok(f) if f.ops.0 < 20 || f.faults == 0 => {
                    Some(format!("too little exercised: {f:?}"))
                }
                // The first fault cuts the leader off: the others must
                // elect another while it is cut off.
                Ok(f)
                    if matches!(scenario, Scenario::Partition | Scenario::OneWay)
                        && f.leader_cut_off.1 == 0 =>
                {
                    Some(format!("no new leader behind the partition: {f:?}"))
                }
                // Every write through a slowed leader was slowed, and the
                // first fault found one to write through.
                Ok(f)
                    if scenario == Scenario::SlowLinks
                        && (f.slowed.0 == 0 || f.slowed.1 != f.slowed.0) =>
                {
                    Some(format!("slowed links did not provably slow writes: {f:?}"))
                }
                // A failing disk stopped its replica at least once.
                Ok(f)
                    if matches!(scenario, Scenario::DiskError | Scenario::DiskFull)
                        && f.disk.1 == 0 =>
                {
                    Some(format!("no replica stopped on a failing disk: {f:?}"))
                }
                // Every removal was undone, and there was at least one.
                Ok(f)
                    if scenario == Scenario::Churn
                        && (f.churn.0 == 0 || f.churn.0 != f.churn.1) =>
                {
                    Some(format!(
                        "membership churn not exercised or not undone: {f:?}"
                    ))
                }
                Ok(_) => None,
            };
            match (&result, problem) {
                (Ok(f), None) => println!(
                    "nemesis {protocol} {scenario:?}: {} faults, {} ops returned, {} unknown, leader cut off {} time(s) and replaced {}, {} removed and {} re-added, {} disk faults stopped {} replica(s), {} of {} probes slowed, first write after healing in {:?}: ok",
                    f.faults,
                    f.ops.0,
                    f.ops.1,
                    f.leader_cut_off.0,
                    f.leader_cut_off.1,
                    f.churn.0,
                    f.churn.1,
                    f.disk.0,
                    f.disk.1,
                    f.slowed.1,
                    f.slowed.0,
                    f.recovery
                ),
                (_, problem) => {
                    let kept = dir.keep();
                    let problem = problem.unwrap_or_default();
                    eprintln!(
                        "nemesis {protocol} {scenario:?} FAILED: {problem}\n  kept {} (history.json, node-N.log)\n  re-check: cargo run --release --example check_history -- --kv-json {}/history.json --explain",
                        kept.display(),
                        kept.display()
                    );
                    failed.push(format!("{protocol} {scenario:?}"));
                }
            }
        }
    }
    if !wanted("stale") {
        return if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("nemesis scenarios failed: {failed:?}").into())
        };
    }
    // The checks have teeth: clients reading each replica's own state
    // (stale reads, a planted mistake) must be caught.
    let dir = tempfile::tempdir()?;
    let prefix = ["node", "--protocol", "raft", "--follower-writes", "forward"];
    let planted = runtime.block_on(run(
        &exe,
        &prefix,
        dir.path(),
        Scenario::Pause,
        secs,
        99,
        true,
    ))?;
    if matches!(planted.verdict, ModelVerdict::NotLinearizable(_)) {
        println!(
            "nemesis raft Pause with stale reads: caught ({} ops)",
            planted.ops.0
        );
    } else {
        eprintln!("stale reads were NOT caught: {:?}", planted.verdict);
        failed.push("stale reads not caught".to_string());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("nemesis scenarios failed: {failed:?}").into())
    }
}
