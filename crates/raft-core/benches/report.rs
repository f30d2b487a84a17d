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

use std::time::{Duration, Instant};

use peers::{OmniPaxosCluster, RaftRsCluster};
use synod_raft_core_bench::{Cluster, Harness, PaxosCluster, Report, SynodCluster, Workload};

/// One library's measurement of one workload point.
struct Measured {
    commands_per_sec: f64,
    report: Report,
}

fn measure<C: Cluster>(workload: Workload, seconds: f64) -> Measured {
    let mut cluster = Harness::<C>::start(workload.nodes);
    // Batches of about 64 entries' worth of cycles, until `seconds` passed;
    // the first tenth is a warm-up (allocator, caches, a compaction).
    let batch = (4096 / workload.proposals_per_cycle as u64).max(16);
    let warm_until = Instant::now() + Duration::from_secs_f64(seconds / 10.0);
    while Instant::now() < warm_until {
        cluster.run(workload, batch);
    }
    let start = Instant::now();
    let mut total: Option<Report> = None;
    while start.elapsed().as_secs_f64() < seconds {
        let r = cluster.run(workload, batch);
        total = Some(match total {
            None => r,
            Some(mut t) => {
                t.cycles += r.cycles;
                t.commands += r.commands;
                t.entries += r.entries;
                t.messages += r.messages;
                t.latency_cycles.extend(r.latency_cycles);
                t
            }
        });
    }
    let secs = start.elapsed().as_secs_f64();
    let mut report = total.expect("at least one batch");
    report.latency_cycles.sort_unstable();
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
    let rounds = if quick { 1 } else { 3 };
    println!(
        "| workload | synod-raft-core | {} | {} | {} | synod / raft-rs | synod / OmniPaxos | paxos-core / OmniPaxos |",
        PaxosCluster::NAME,
        RaftRsCluster::NAME,
        OmniPaxosCluster::NAME
    );
    println!("|---|---|---|---|---|---|---|---|");
    for workload in Workload::standard(nodes) {
        let seconds = if quick { 0.2 } else { 1.0 };
        let (mut ours, mut rs, mut op) = (Vec::new(), Vec::new(), Vec::new());
        let mut px = Vec::new();
        for _ in 0..rounds {
            ours.push(measure::<SynodCluster>(workload, seconds));
            px.push(measure::<PaxosCluster>(workload, seconds));
            rs.push(measure::<RaftRsCluster>(workload, seconds));
            op.push(measure::<OmniPaxosCluster>(workload, seconds));
        }
        let (ours, rs, op, px) = (median(ours), median(rs), median(op), median(px));
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
            "| {} | {} | {} | {} | {} | {:.2}x | {:.2}x | {:.2}x |",
            workload.name(),
            cell(&ours),
            cell(&px),
            cell(&rs),
            cell(&op),
            ours.commands_per_sec / rs.commands_per_sec,
            ours.commands_per_sec / op.commands_per_sec,
            px.commands_per_sec / op.commands_per_sec
        );
    }
}
