//! The simulation runner: many seeded runs of a protocol under a fault
//! profile, a progress line, a summary table, and a non-zero exit on any
//! violation with the command that replays it.
//!
//! ```text
//! cargo run --release --example simulate -- --seeds 1000 --start 0 --faults safety --protocol raft
//! ```
//! Profiles: `safety` (every fault), `liveness` (faults, then healing, then
//! progress required), `chaos` (far more faults, classic Raft). `--verbose`
//! prints each run's event trace (faults, leader changes, every delivered
//! message, client operations) and summary: use it with `--seeds 1` to replay one seed.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use synod_sim::{RaftReplica, Replica, RunReport, SimConfig, SimError, Summary, run_with};

/// A simulation of one protocol.
type Runner = fn(&SimConfig) -> Result<RunReport, SimError>;

/// The protocols the runner knows, by `--protocol` name.
const PROTOCOLS: &[(&str, Runner)] = &[(RaftReplica::NAME, run_with::<RaftReplica>)];

struct Args {
    seeds: u64,
    start: u64,
    faults: String,
    protocol: Runner,
    verbose: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        seeds: 100,
        start: 0,
        faults: "safety".to_string(),
        protocol: PROTOCOLS[0].1,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--seeds" => args.seeds = value()?.parse().map_err(|e| format!("--seeds: {e}"))?,
            "--start" => args.start = value()?.parse().map_err(|e| format!("--start: {e}"))?,
            "--faults" => args.faults = value()?,
            "--protocol" => {
                let name = value()?;
                let known = PROTOCOLS.iter().find(|(n, _)| *n == name);
                let names: Vec<&str> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
                args.protocol = known
                    .ok_or(format!("unknown protocol {name} (known: {names:?})"))?
                    .1;
            }
            "--verbose" => args.verbose = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let make: fn(u64) -> SimConfig = match args.faults.as_str() {
        "safety" => SimConfig::safety,
        "liveness" => SimConfig::liveness,
        "chaos" => SimConfig::chaos,
        other => {
            eprintln!("error: unknown fault profile {other} (safety, liveness, chaos)");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut total = Summary::default();
    let mut unknown_checks = 0;
    for (i, seed) in (args.start..args.start + args.seeds).enumerate() {
        let mut cfg = make(seed);
        cfg.record_events = args.verbose;
        let report = match (args.protocol)(&cfg) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        if args.verbose {
            for line in &report.events {
                println!("{line}");
            }
        }
        if let Some(v) = &report.violation {
            eprintln!(
                "\nVIOLATION at seed {seed} ({} profile): {v:?}",
                args.faults
            );
            eprintln!("summary: {:?}", report.summary);
            eprintln!("replay: {}", report.replay_command(&args.faults));
            return ExitCode::FAILURE;
        }
        unknown_checks += u64::from(report.check_unknown);
        total.add(&report.summary);
        if args.verbose {
            println!(
                "seed {seed}: {:?} trace {:016x}",
                report.summary, report.trace_hash
            );
        } else if (i + 1) % 10 == 0 || i as u64 + 1 == args.seeds {
            let done = i as u64 + 1;
            let width = 40;
            let filled = (done * width / args.seeds) as usize;
            print!(
                "\r[{}{}] {done}/{} seeds",
                "#".repeat(filled),
                " ".repeat(width as usize - filled),
                args.seeds
            );
            let _ = std::io::stdout().flush();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("\n");
    println!("| {:<28} | {:>12} |", "exercised", "total");
    println!("|{:-<30}|{:->14}|", "", "");
    let rows = [
        ("seeds", args.seeds),
        ("terms with a leader", total.terms_with_leader),
        ("leader changes", total.leader_changes),
        ("partitions", total.partitions),
        ("crashes", total.crashes),
        ("crashes losing unsynced data", total.lost_writes),
        ("torn writes", total.torn_writes),
        ("snapshots taken", total.snapshots.0),
        ("snapshots installed", total.snapshots.1),
        ("membership changes", total.conf_changes),
        ("pauses", total.pauses),
        ("skewed ticks", total.skewed_ticks),
        ("messages sent", total.messages.0),
        ("messages dropped", total.messages.1),
        ("messages duplicated", total.messages.2),
        ("operations completed", total.ops.0),
        ("operations unknown", total.ops.1),
        ("checks out of budget", unknown_checks),
    ];
    for (name, value) in rows {
        println!("| {name:<28} | {value:>12} |");
    }
    println!(
        "\nno violations; {:.1} seeds/s ({secs:.1} s on one core)",
        args.seeds as f64 / secs
    );
    ExitCode::SUCCESS
}
