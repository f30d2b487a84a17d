//! Prints the synod-wal table of docs/benchmarks.md: appends per second
//! and MB/s of payload for synod-wal, the raw write+fdatasync loop and
//! raft-engine at every point, measured in one run in rounds that
//! interleave the logs (the disk's state is shared); the median of the
//! rounds is reported.
//!
//! `cargo bench -p synod-wal-bench --bench report` (`-- --quick` for a
//! shorter run).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use peers::RaftEngineLog;
use synod_wal_bench::{Log, Point, RawLog, Runner, SynodLog};

/// Appends per second of `L` at `point` over about `seconds`.
fn measure<L: Log>(runner: &mut Runner<L>, seconds: f64) -> f64 {
    let start = Instant::now();
    let mut rounds = 0u64;
    let mut timed = 0.0;
    while start.elapsed().as_secs_f64() < seconds {
        timed += runner.run(4).as_secs_f64();
        rounds += 4;
    }
    rounds as f64 / timed
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (seconds, rounds) = if quick { (0.3, 3) } else { (1.0, 5) };
    println!(
        "| point | synod-wal | raw write+fdatasync | raft-engine 0.4 | synod / raw | synod / raft-engine |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for point in Point::all() {
        let mut synod = Runner::<SynodLog>::new(point);
        let mut raw = Runner::<RawLog>::new(point);
        let mut engine = Runner::<RaftEngineLog>::new(point);
        let (mut s, mut r, mut e) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            s.push(measure(&mut synod, seconds));
            r.push(measure(&mut raw, seconds));
            e.push(measure(&mut engine, seconds));
        }
        let per_round = point.per_sync as f64;
        let mb = point.entry_bytes as f64 * per_round / 1e6;
        let (s, r, e) = (median(s), median(r), median(e));
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
