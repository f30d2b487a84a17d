//! Prints the synod-wal tables of docs/benchmarks.md: appends per second
//! and MB/s of payload for synod-wal and raft-engine (each fresh, and in
//! the steady state of a node that compacts, whose files are recycled) and
//! the raw write+fdatasync loop (on a growing file, and over a file of
//! zeros written beforehand) at every point, measured in one run. A shared cloud disk's bandwidth drifts by tens of percent
//! within minutes, so the logs take turns in short slices (a quarter
//! second each, 16 turns per point, the order rotating from turn to turn)
//! and each one's rate is its total appends over its total time: all six
//! see the same drift. A short burst of slow syncs (this machine's virtual disk
//! has them: a tenth of the rounds taking three or four times the median)
//! still lands on whichever log holds the disk then, so the table also
//! gives the median over the turns of each turn's ratio, which such a burst
//! moves little.
//!
//! `cargo bench -p synod-wal-bench --bench report` (`-- --quick` for a
//! shorter run).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use peers::{RaftEngineLog, SteadyRaftEngineLog};
use synod_wal_bench::{Log, Point, RawLog, RawZeroedLog, Runner, SteadySynodLog, SynodLog};

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

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let turns = if quick { 4 } else { 16 };
    let (mut fresh, mut steady_rows) = (Vec::new(), Vec::new());
    for point in Point::all() {
        let mut synod = Runner::<SynodLog>::new(point);
        let mut raw = Runner::<RawLog>::new(point);
        let mut zeroed = Runner::<RawZeroedLog>::new(point);
        let mut engine = Runner::<RaftEngineLog>::new(point);
        let mut steady = Runner::<SteadySynodLog>::new(point);
        let mut steady_engine = Runner::<SteadyRaftEngineLog>::new(point);
        // A first slice each, untimed: caches, allocation, file creation.
        slice(&mut synod, 0.1);
        slice(&mut raw, 0.1);
        slice(&mut zeroed, 0.1);
        slice(&mut engine, 0.1);
        slice(&mut steady, 0.1);
        slice(&mut steady_engine, 0.1);
        let rate = |t: (u64, f64)| t.0 as f64 / t.1;
        let mut totals = [(0, 0.0); 6];
        let (mut to_raw, mut to_engine) = (Vec::new(), Vec::new());
        let (mut steady_to_raw, mut steady_to_engine) = (Vec::new(), Vec::new());
        for turn in 0..turns {
            // Each log goes first, second, ... in turn, so none always
            // follows the same one (whose writes the disk may still be
            // busy with).
            let mut t = [(0, 0.0); 6];
            for k in 0..6 {
                let which = (turn + k) % 6;
                t[which] = match which {
                    0 => slice(&mut synod, 0.25),
                    1 => slice(&mut raw, 0.25),
                    2 => slice(&mut zeroed, 0.25),
                    3 => slice(&mut engine, 0.25),
                    4 => slice(&mut steady, 0.25),
                    _ => slice(&mut steady_engine, 0.25),
                };
            }
            to_raw.push(rate(t[0]) / rate(t[1]));
            to_engine.push(rate(t[0]) / rate(t[3]));
            steady_to_raw.push(rate(t[4]) / rate(t[1]));
            steady_to_engine.push(rate(t[4]) / rate(t[5]));
            for (total, slice) in totals.iter_mut().zip(t) {
                add(total, slice);
            }
        }
        let [s, r, z, e, y, ye] = totals.map(rate);
        let per_round = point.per_sync as f64;
        let mb = point.entry_bytes as f64 * per_round / 1e6;
        let cell = |rounds_per_sec: f64| {
            format!(
                "{:.1} k/s, {:.1} MB/s",
                rounds_per_sec * per_round / 1e3,
                rounds_per_sec * mb
            )
        };
        fresh.push(format!(
            "| {} | {} | {} | {} | {} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x |",
            point.name(),
            cell(s),
            cell(r),
            cell(z),
            cell(e),
            s / r,
            s / z,
            s / e,
            median(to_raw),
            median(to_engine)
        ));
        steady_rows.push(format!(
            "| {} | {} | {} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x |",
            point.name(),
            cell(y),
            cell(ye),
            y / r,
            y / z,
            y / ye,
            median(steady_to_raw),
            median(steady_to_engine)
        ));
    }
    println!("Fresh logs (each reset every 256 MiB: its first segments are new files):");
    println!();
    println!(
        "| point | synod-wal | raw write+fdatasync | raw over zeros | raft-engine 0.4 | synod / raw | synod / raw over zeros | synod / raft-engine | synod / raw, median turn | synod / raft-engine, median turn |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in fresh {
        println!("{row}");
    }
    println!();
    println!(
        "Logs in a steady state (compacting, their rolls reusing compacted files), same turns; raw columns above:"
    );
    println!();
    println!(
        "| point | synod-wal, recycling | raft-engine 0.4, recycling | synod / raw | synod / raw over zeros | synod / raft-engine | synod / raw, median turn | synod / raft-engine, median turn |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in steady_rows {
        println!("{row}");
    }
}
