//! The simulation runner: many seeded runs of a protocol under a fault
//! profile on every core, a progress bar, a summary table, and every
//! failing seed (up to `--max-failures`) with the command that replays it.
//!
//! ```text
//! cargo run --release --example simulate -- --seeds 1000 --start 0 --faults safety --protocol raft
//! ```
//! Profiles: `safety` (every fault), `liveness` (faults, then healing, then
//! progress required), `chaos` (far more faults, classic Raft), `lease`
//! (lease reads, the leader isolated from its peers but not its clients). `--verbose`
//! prints each run's event trace (faults, leader changes, every delivered
//! message, client operations) and summary: use it with `--seeds 1` to
//! replay one seed. A seed's run does not depend on `--jobs` or on which
//! other seeds run: any failure replays by its number alone.

use std::process::ExitCode;
use std::sync::Mutex;

use clap::Parser;
use synod_examples::seeds::{Paxos, Profile, SeedArgs, paxos_config};
use synod_sim::{
    ProtocolReplica, RaftReplica, Replica, RunReport, SimConfig, SimError, Summary, run_with,
};

/// A simulation of one protocol.
type Runner = fn(&SimConfig) -> Result<RunReport, SimError>;

/// raft-core driven through synod-protocol's `Protocol` trait alone: the
/// path every protocol behind the trait takes.
fn raft_via_protocol(cfg: &SimConfig) -> Result<RunReport, SimError> {
    type Generic =
        ProtocolReplica<synod_raft_core::RaftNode<synod_raft_core::MemStorage, rand::rngs::StdRng>>;
    run_with::<Generic>(&cfg.clone().with_protocol(|o| o.config(1)))
}

/// synod-paxos-core through the same trait, under the same profiles.
fn paxos(cfg: &SimConfig) -> Result<RunReport, SimError> {
    run_with::<Paxos>(&paxos_config(cfg))
}

/// The protocols the runner knows, by `--protocol` name.
const PROTOCOLS: &[(&str, Runner)] = &[
    (RaftReplica::NAME, run_with::<RaftReplica>),
    ("raft-via-protocol", raft_via_protocol),
    ("paxos", paxos),
];

/// Seeded simulations of a Synod protocol under faults.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    seeds: SeedArgs,
    /// The fault profile.
    #[arg(long, value_enum, default_value_t = Profile::Safety)]
    faults: Profile,
    /// The protocol to simulate.
    #[arg(long, default_value = "raft")]
    protocol: String,
    /// Write the page of each failing seed whose history is not
    /// linearizable (its failing key's operations on a time axis, the
    /// failure marked) into this directory, as seed-N.html.
    #[arg(long)]
    html: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(&(_, runner)) = PROTOCOLS.iter().find(|(n, _)| *n == args.protocol) else {
        let names: Vec<&str> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
        eprintln!(
            "error: unknown protocol {} (known: {names:?})",
            args.protocol
        );
        return ExitCode::from(2);
    };
    let Some(end) = args.seeds.end() else {
        eprintln!("error: --start + --seeds overflows u64");
        return ExitCode::from(2);
    };
    println!(
        "seeds {}..{end} ({}), {} profile, {} job(s)",
        args.seeds.start,
        args.seeds.seeds,
        args.faults.name(),
        args.seeds.jobs()
    );
    let totals = Mutex::new((Summary::default(), 0u64));
    let run = |seed: u64| {
        let mut cfg = args.faults.config(seed);
        cfg.record_events = args.seeds.verbose;
        let report = runner(&cfg)?;
        if args.seeds.verbose {
            for line in &report.events {
                println!("{line}");
            }
            println!(
                "seed {seed}: {:?} trace {:016x}",
                report.summary, report.trace_hash
            );
        }
        Ok::<_, SimError>(report)
    };
    let record = |report: &RunReport| {
        let mut totals = totals.lock().expect("unpoisoned");
        totals.0.add(&report.summary);
        totals.1 += u64::from(report.check_unknown);
        report.violation.as_ref().map(|v| format!("{v:?}"))
    };
    let Some(ran) = args.seeds.run_or_report(run, record) else {
        return ExitCode::from(2);
    };
    let (total, unknown_checks) = totals.into_inner().expect("unpoisoned");
    print_table(&total, ran.ran, unknown_checks);
    let rate = ran.ran as f64 / ran.secs;
    if ran.failures.is_empty() {
        println!(
            "\nno violations in {} seeds; {rate:.1} seeds/s ({:.1} s, {} job(s))",
            ran.ran, ran.secs, ran.jobs
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "\n{} failing seed(s) of {} run ({} profile):",
        ran.failures.len(),
        ran.ran,
        args.faults.name()
    );
    for r in &ran.failures {
        if let Some(v) = &r.violation {
            eprintln!("  seed {}: {v:?}", r.seed);
        }
        eprintln!("    replay: {}", r.replay_command());
        if let Some(dir) = &args.html
            && let Some(page) = r.history_html(args.faults.config(r.seed).check_budget)
        {
            let path = dir.join(format!("seed-{}.html", r.seed));
            match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, page)) {
                Ok(()) => eprintln!("    page: {}", path.display()),
                Err(e) => eprintln!("    page: {}: {e}", path.display()),
            }
        }
    }
    ExitCode::FAILURE
}

fn print_table(total: &Summary, ran: u64, unknown_checks: u64) {
    println!("| {:<28} | {:>12} |", "exercised", "total");
    println!("|{:-<30}|{:->14}|", "", "");
    let rows = [
        ("seeds", ran),
        ("terms with a leader", total.terms_with_leader),
        ("leader changes", total.leader_changes),
        ("partitions", total.partitions),
        ("crashes", total.crashes),
        ("crashes losing unsynced data", total.lost_writes),
        ("torn writes", total.torn_writes),
        ("snapshots taken", total.snapshots.0),
        ("snapshots installed", total.snapshots.1),
        ("membership changes", total.conf_changes),
        ("  joint (2 voters at once)", total.joint_changes),
        ("  stop-signs", total.stop_signs),
        ("  removed, stopped at heal", total.retired),
        ("pauses", total.pauses),
        ("skewed ticks", total.skewed_ticks),
        ("messages sent", total.messages.0),
        ("messages dropped", total.messages.1),
        ("messages duplicated", total.messages.2),
        ("messages held up", total.slowed),
        ("operations completed", total.ops.0),
        ("operations unknown", total.ops.1),
        ("reads served by read index", total.reads_served),
        ("checks out of budget", unknown_checks),
    ];
    for (name, value) in rows {
        println!("| {name:<28} | {value:>12} |");
    }
}
