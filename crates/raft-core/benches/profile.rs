//! One library on one workload point for a fixed number of cycles, for
//! profilers (`perf record`, `valgrind --tool=callgrind`), which want one
//! steady loop rather than criterion's sampling:
//!
//! ```sh
//! cargo bench -p synod-raft-core-bench --bench profile --no-run
//! LIB=synod PROPOSALS=1 CYCLES=20000 valgrind --tool=callgrind target/release/deps/profile-*
//! ```
//!
//! `LIB` is `synod` (default), `paxos` (synod-paxos-core), `raft-rs` or
//! `omnipaxos`; `PROPOSALS` per
//! cycle (default 64), `PACKED` commands per entry (default 1), `BYTES`
//! per command (default 16), `CYCLES` (default 2,560,000 / PROPOSALS).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use synod_raft_core_bench::{Cluster, Harness, PaxosCluster, SynodCluster, Workload};

fn var(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn go<C: Cluster>(workload: Workload, cycles: u64) {
    let mut cluster = Harness::<C>::start(workload.nodes);
    cluster.run(workload, 2048);
    let start = Instant::now();
    let report = cluster.run(workload, cycles);
    println!(
        "{} {}: {:.2} M commands/s over {cycles} cycles",
        C::NAME,
        workload.name(),
        report.commands as f64 / start.elapsed().as_secs_f64() / 1e6
    );
}

fn main() {
    let proposals = var("PROPOSALS", 64).max(1);
    let workload = Workload {
        nodes: var("NODES", 3),
        proposals_per_cycle: proposals as usize,
        commands_per_entry: var("PACKED", 1).max(1) as usize,
        command_bytes: var("BYTES", 16).max(1) as usize,
    };
    let cycles = var("CYCLES", 2_560_000 / proposals);
    match std::env::var("LIB").as_deref() {
        Ok("omnipaxos") => go::<peers::OmniPaxosCluster>(workload, cycles),
        Ok("raft-rs") => go::<peers::RaftRsCluster>(workload, cycles),
        Ok("paxos") => go::<PaxosCluster>(workload, cycles),
        _ => go::<SynodCluster>(workload, cycles),
    }
}
