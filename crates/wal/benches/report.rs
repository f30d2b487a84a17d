//! Prints the synod-wal table of docs/benchmarks.md: appends per second
//! and MB/s of payload for synod-wal, the raw write+fdatasync loop and
//! raft-engine at every point, measured in one run. A shared cloud disk's
//! bandwidth drifts by tens of percent within minutes, so the logs take
//! turns in short slices (a quarter second each, 16 turns per point) and
//! each one's rate is its total appends over its total time: all three see
//! the same drift.
//!
//! `cargo bench -p synod-wal-bench --bench report` (`-- --quick` for a
//! shorter run).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use peers::RaftEngineLog;
use synod_wal_bench::{Log, Point, RawLog, Runner, SynodLog};

/// Runs `L` for about `seconds`; returns (rounds, seconds timed).
fn slice<L: Log>(runner: &mut Runner<L>, seconds: f64) -> (u64, f64) {
    let start = Instant::now();
    let mut rounds = 0u64;
    let mut timed = 0.0;
    while start.elapsed().as_secs_f64() < seconds {
        timed += runner.run(2).as_secs_f64();
        rounds += 2;
    }
    (rounds, timed)
}

/// Adds a slice to a running total.
fn add(total: &mut (u64, f64), slice: (u64, f64)) {
    total.0 += slice.0;
    total.1 += slice.1;
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let turns = if quick { 4 } else { 16 };
    println!(
        "| point | synod-wal | raw write+fdatasync | raft-engine 0.4 | synod / raw | synod / raft-engine |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for point in Point::all() {
        let mut synod = Runner::<SynodLog>::new(point);
        let mut raw = Runner::<RawLog>::new(point);
        let mut engine = Runner::<RaftEngineLog>::new(point);
        // A first slice each, untimed: caches, allocation, file creation.
        slice(&mut synod, 0.1);
        slice(&mut raw, 0.1);
        slice(&mut engine, 0.1);
        let (mut s, mut r, mut e) = ((0, 0.0), (0, 0.0), (0, 0.0));
        for _ in 0..turns {
            add(&mut s, slice(&mut synod, 0.25));
            add(&mut r, slice(&mut raw, 0.25));
            add(&mut e, slice(&mut engine, 0.25));
        }
        let rate = |t: (u64, f64)| t.0 as f64 / t.1;
        let (s, r, e) = (rate(s), rate(r), rate(e));
        let per_round = point.per_sync as f64;
        let mb = point.entry_bytes as f64 * per_round / 1e6;
        let cell = |rounds_per_sec: f64| {
            format!(
                "{:.1} k/s, {:.1} MB/s",
                rounds_per_sec * per_round / 1e3,
                rounds_per_sec * mb
            )
        };
        println!(
            "| {} | {} | {} | {} | {:.2}x | {:.2}x |",
            point.name(),
            cell(s),
            cell(r),
            cell(e),
            s / r,
            s / e
        );
    }
}
