//! Prints the table of docs/benchmarks.md: for each workload point, each
//! library's committed-and-applied commands per second, messages per entry
//! and latency in cycles, measured in one run, in rounds that interleave
//! the libraries so they share the machine's state; the median of the
//! rounds is reported.
//!
//! `cargo bench -p synod-raft-core-bench --bench report` (add `-- --quick`
//! for a shorter run, `-- --nodes 5` for five-node clusters).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use peers::{OmniPaxosCluster, RaftRsCluster};
use synod_raft_core_bench::{Cluster, Report, SynodCluster, Workload, run};

/// One library's measurement of one workload point.
struct Measured {
    commands_per_sec: f64,
    report: Report,
}

fn measure<C: Cluster>(workload: Workload, cycles: u64) -> Measured {
    let mut cluster = C::start(workload.nodes);
    // Warm up: allocator, caches, the log's first compaction.
    run(&mut cluster, workload, cycles / 10 + 1);
    let start = Instant::now();
    let report = run(&mut cluster, workload, cycles);
    let secs = start.elapsed().as_secs_f64();
    Measured {
        commands_per_sec: report.commands as f64 / secs,
        report,
    }
}

fn median(mut runs: Vec<Measured>) -> Measured {
    runs.sort_by(|a, b| a.commands_per_sec.total_cmp(&b.commands_per_sec));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let nodes = args
        .iter()
        .position(|a| a == "--nodes")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let rounds = if quick { 1 } else { 5 };
    println!(
        "| workload | synod-raft-core | {} | {} | synod / raft-rs | synod / OmniPaxos |",
        RaftRsCluster::NAME,
        OmniPaxosCluster::NAME
    );
    println!("|---|---|---|---|---|---|");
    for workload in Workload::standard(nodes) {
        let entries_per_cycle = workload.proposals_per_cycle as u64;
        let mut cycles = 1_280_000 / entries_per_cycle.max(1) / 4;
        if workload.command_bytes * workload.commands_per_entry >= 64 * 1024 {
            cycles /= 4;
        }
        if quick {
            cycles /= 20;
        }
        let (mut ours, mut rs, mut op) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(measure::<SynodCluster>(workload, cycles));
            rs.push(measure::<RaftRsCluster>(workload, cycles));
            op.push(measure::<OmniPaxosCluster>(workload, cycles));
        }
        let (ours, rs, op) = (median(ours), median(rs), median(op));
        let cell = |m: &Measured| {
            format!(
                "{:.2} M/s, {:.2} msg/entry, p50 {} p99 {} cycles",
                m.commands_per_sec / 1e6,
                m.report.messages_per_entry(),
                m.report.latency_quantile(0.5),
                m.report.latency_quantile(0.99)
            )
        };
        println!(
            "| {} | {} | {} | {} | {:.2}x | {:.2}x |",
            workload.name(),
            cell(&ours),
            cell(&rs),
            cell(&op),
            ours.commands_per_sec / rs.commands_per_sec,
            ours.commands_per_sec / op.commands_per_sec
        );
    }
}
