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

use clap::{Parser, ValueEnum};
use synod_examples::seeds::SeedArgs;
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
    #[command(flatten)]
    seeds: SeedArgs,
    /// The fault profile.
    #[arg(long, value_enum, default_value_t = Profile::Safety)]
    profile: Profile,
    /// The protocol under the lock machine.
    #[arg(long, value_enum, default_value_t = Protocol::Raft)]
    protocol: Protocol,
    /// The resource does not check fencing tokens.
    #[arg(long)]
    unfenced: bool,
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
    cfg.cluster.record_events = args.seeds.verbose;
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

/// A value as its flag spells it (`rare-stamps`, not `RareStamps`).
fn flag(value: &impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(end) = args.seeds.end() else {
        eprintln!("error: --start + --seeds overflows u64");
        return ExitCode::from(2);
    };
    let totals = Mutex::new(LockSummary::default());
    let run = |seed: u64| {
        let report = run(&args, seed)?;
        if args.seeds.verbose {
            report.events.iter().for_each(|l| println!("{l}"));
            println!("seed {seed}: {:?}", report.summary);
        }
        Ok::<_, SimError>(report)
    };
    let record = |report: &LockRunReport| {
        totals.lock().expect("unpoisoned").add(&report.summary);
        report.violation.as_ref().map(|v| format!("{v:?}"))
    };
    let Some(ran) = args.seeds.run_or_report(run, record) else {
        return ExitCode::from(2);
    };
    let t = totals.into_inner().expect("unpoisoned");
    println!("{t:#?}");
    if ran.failures.is_empty() {
        println!("no violations in seeds {}..{end}", args.seeds.start);
        return ExitCode::SUCCESS;
    }
    for r in &ran.failures {
        eprintln!("  seed {}: {:?}", r.seed, r.violation);
        eprintln!(
            "    replay: cargo run --release --example lock_simulate -- --protocol {} --profile {} --start {} --seeds 1 --verbose{}",
            flag(&args.protocol),
            flag(&args.profile),
            r.seed,
            if args.unfenced { " --unfenced" } else { "" }
        );
    }
    ExitCode::FAILURE
}
