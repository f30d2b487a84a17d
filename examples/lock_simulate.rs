//! The lock-service simulation runner: many seeded runs of synod-lock on
//! raft-core or Multi-Paxos under faults (see `synod_sim::run_lock`), on
//! every core, with a progress bar, the totals, and every failing seed
//! with the command that replays it.
//!
//! ```text
//! cargo run --release --example lock_simulate -- --seeds 1000 --protocol paxos
//! cargo run --release --example lock_simulate -- --start 573 --seeds 1 --verbose
//! ```
//! Profiles: `safety` (every fault, stamps every 10 ticks), `rare-stamps`
//! (stamps every 40 ticks, clocks up to 250 ticks apart), `modes` (a
//! read-write lock and a semaphore beside a mutex), `calm` (no faults). `--unfenced` turns fencing off at the resource: runs then
//! lose increments, which is what fencing is for.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use synod_sim::{
    LockRunReport, LockSimConfig, LockSummary, ProtocolReplica, RaftReplica, SimError,
    run_lock_with,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Profile {
    Safety,
    RareStamps,
    Modes,
    Calm,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Protocol {
    Raft,
    Paxos,
}

/// Seeded simulations of the lock service under faults.
#[derive(Debug, Parser)]
struct Args {
    /// How many seeds to run.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// The fault profile.
    #[arg(long, value_enum, default_value_t = Profile::Safety)]
    profile: Profile,
    /// The protocol under the lock machine.
    #[arg(long, value_enum, default_value_t = Protocol::Raft)]
    protocol: Protocol,
    /// The resource does not check fencing tokens.
    #[arg(long)]
    unfenced: bool,
    /// Print each run's event trace (forces one job).
    #[arg(long)]
    verbose: bool,
}

fn config(args: &Args, seed: u64) -> LockSimConfig {
    let mut cfg = match args.profile {
        Profile::Safety => LockSimConfig::safety(seed),
        Profile::RareStamps => LockSimConfig {
            stamp_ticks: 40,
            clock_offset_ticks: 250,
            ..LockSimConfig::safety(seed)
        },
        Profile::Modes => LockSimConfig::modes(seed),
        Profile::Calm => LockSimConfig::calm(seed),
    };
    cfg.fenced = !args.unfenced;
    cfg.cluster.record_events = args.verbose;
    cfg
}

fn run(args: &Args, seed: u64) -> Result<LockRunReport, SimError> {
    let cfg = config(args, seed);
    match args.protocol {
        Protocol::Raft => run_lock_with::<RaftReplica>(&cfg),
        Protocol::Paxos => {
            type Paxos = ProtocolReplica<
                synod_paxos_core::PaxosNode<synod_protocol::MemStorage, rand::rngs::StdRng>,
            >;
            run_lock_with::<Paxos>(&cfg.with_protocol(|o| synod_paxos_core::Config {
                election_timeout_ticks: o.election_timeout_ticks,
                ..synod_paxos_core::Config::new(1)
            }))
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(end) = args.start.checked_add(args.seeds) else {
        eprintln!("error: --start + --seeds overflows u64");
        return ExitCode::from(2);
    };
    let jobs = if args.verbose {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let bar = ProgressBar::new(args.seeds);
    bar.set_style(
        ProgressStyle::with_template("[{bar:40}] {pos}/{len} seeds, {per_sec}, eta {eta}")
            .expect("a valid template")
            .progress_chars("#>-"),
    );
    if args.verbose {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let next = AtomicU64::new(args.start);
    let totals = Mutex::new(LockSummary::default());
    let failures: Mutex<Vec<LockRunReport>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<SimError>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end || failures.lock().expect("unpoisoned").len() >= 20 {
                        return;
                    }
                    let report = match run(&args, seed) {
                        Ok(r) => r,
                        Err(e) => return errors.lock().expect("unpoisoned").push(e),
                    };
                    if args.verbose {
                        report.events.iter().for_each(|l| println!("{l}"));
                        println!("seed {seed}: {:?}", report.summary);
                    }
                    totals.lock().expect("unpoisoned").add(&report.summary);
                    if let Some(v) = &report.violation {
                        bar.suspend(|| eprintln!("VIOLATION at seed {seed}: {v:?}"));
                        failures.lock().expect("unpoisoned").push(report);
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = errors.into_inner().expect("unpoisoned").first() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let t = totals.into_inner().expect("unpoisoned");
    println!("{t:#?}");
    let mut failures = failures.into_inner().expect("unpoisoned");
    failures.sort_by_key(|r| r.seed);
    if failures.is_empty() {
        println!("no violations in seeds {}..{end}", args.start);
        return ExitCode::SUCCESS;
    }
    for r in &failures {
        eprintln!("  seed {}: {:?}", r.seed, r.violation);
        eprintln!(
            "    replay: cargo run --release --example lock_simulate -- --protocol {:?} --profile {:?} --start {} --seeds 1 --verbose{}",
            args.protocol,
            args.profile,
            r.seed,
            if args.unfenced { " --unfenced" } else { "" }
        );
    }
    ExitCode::FAILURE
}
