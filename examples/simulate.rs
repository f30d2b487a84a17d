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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
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

/// synod-paxos-core through the same trait, under the same profiles: the
/// profile's election timeout and lease reads (the lease profile, and the
/// safety seeds that run without skew or pauses) carry over; the rest of
/// raft's options have no Multi-Paxos meaning.
fn paxos(cfg: &SimConfig) -> Result<RunReport, SimError> {
    type Paxos = ProtocolReplica<
        synod_paxos_core::PaxosNode<synod_protocol::MemStorage, rand::rngs::StdRng>,
    >;
    // One five-node seed in three runs flexible quorums (4 promises to
    // lead, 2 acceptances to decide).
    let flexible = cfg.nodes == 5 && cfg.seed.is_multiple_of(3);
    run_with::<Paxos>(&cfg.clone().with_protocol(|o| synod_paxos_core::Config {
        election_timeout_ticks: o.election_timeout_ticks,
        phase1_quorum: flexible.then_some(4),
        phase2_quorum: flexible.then_some(2),
        lease_reads: o.lease_reads,
        ..synod_paxos_core::Config::new(1)
    }))
}

/// The protocols the runner knows, by `--protocol` name.
const PROTOCOLS: &[(&str, Runner)] = &[
    (RaftReplica::NAME, run_with::<RaftReplica>),
    ("raft-via-protocol", raft_via_protocol),
    ("paxos", paxos),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Profile {
    Safety,
    Liveness,
    Chaos,
    Lease,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Self::Safety => "safety",
            Self::Liveness => "liveness",
            Self::Chaos => "chaos",
            Self::Lease => "lease",
        }
    }

    fn config(self, seed: u64) -> SimConfig {
        match self {
            Self::Safety => SimConfig::safety(seed),
            Self::Liveness => SimConfig::liveness(seed),
            Self::Chaos => SimConfig::chaos(seed),
            Self::Lease => SimConfig::lease(seed),
        }
    }
}

/// Seeded simulations of a Synod protocol under faults.
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
    faults: Profile,
    /// The protocol to simulate.
    #[arg(long, default_value = "raft")]
    protocol: String,
    /// Print every run's event trace (forces one job).
    #[arg(long)]
    verbose: bool,
    /// Worker threads; 0 for one per core.
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Stop starting new seeds after this many failures (every failure
    /// found before that is reported).
    #[arg(long, default_value_t = 20)]
    max_failures: usize,
    /// Write the page of each failing seed whose history is not
    /// linearizable (its failing key's operations on a time axis, the
    /// failure marked) into this directory, as seed-N.html.
    #[arg(long)]
    html: Option<std::path::PathBuf>,
}

/// What the workers share: the next seed to run, the totals and the
/// failures found.
struct Shared {
    next: AtomicU64,
    totals: Mutex<(Summary, u64, u64)>,
    failures: Mutex<Vec<RunReport>>,
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
    let Some(end) = args.start.checked_add(args.seeds) else {
        eprintln!("error: --start + --seeds overflows u64");
        return ExitCode::from(2);
    };
    let jobs = match (args.verbose, args.jobs) {
        (true, _) => 1,
        (false, 0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        (false, n) => n,
    };
    println!(
        "seeds {}..{end} ({}), {} profile, {jobs} job(s)",
        args.start,
        args.seeds,
        args.faults.name()
    );
    let bar = ProgressBar::new(args.seeds);
    bar.set_style(
        ProgressStyle::with_template("[{bar:40}] {pos}/{len} seeds, {per_sec}, eta {eta}")
            .expect("a valid template")
            .progress_chars("#>-"),
    );
    if args.verbose {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let shared = Shared {
        next: AtomicU64::new(args.start),
        totals: Mutex::new((Summary::default(), 0, 0)),
        failures: Mutex::new(Vec::new()),
    };
    let started = Instant::now();
    let mut errors = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| scope.spawn(|| work(&args, runner, end, &shared, &bar)))
            .collect();
        for w in workers {
            if let Err(e) = w.join().expect("a worker panicked") {
                errors.push(e);
            }
        }
    });
    bar.finish_and_clear();
    if let Some(e) = errors.first() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let secs = started.elapsed().as_secs_f64();
    let (total, ran, unknown_checks) = shared.totals.into_inner().expect("no poisoned lock");
    print_table(&total, ran, unknown_checks);
    let mut failures = shared.failures.into_inner().expect("no poisoned lock");
    failures.sort_by_key(|r| r.seed);
    let rate = ran as f64 / secs;
    if failures.is_empty() {
        println!("\nno violations in {ran} seeds; {rate:.1} seeds/s ({secs:.1} s, {jobs} job(s))");
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "\n{} failing seed(s) of {ran} run ({} profile):",
        failures.len(),
        args.faults.name()
    );
    for r in &failures {
        let v = r.violation.as_ref().expect("a failure has a violation");
        eprintln!("  seed {}: {v:?}", r.seed);
        eprintln!("    replay: {}", r.replay_command(args.faults.name()));
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

/// One worker: takes the next seed until the range or the failure budget
/// is used up.
fn work(
    args: &Args,
    runner: Runner,
    end: u64,
    shared: &Shared,
    bar: &ProgressBar,
) -> Result<(), SimError> {
    loop {
        if shared.failures.lock().expect("no poisoned lock").len() >= args.max_failures {
            return Ok(());
        }
        let seed = shared.next.fetch_add(1, Ordering::Relaxed);
        if seed >= end {
            return Ok(());
        }
        let mut cfg = args.faults.config(seed);
        cfg.record_events = args.verbose;
        let report = runner(&cfg)?;
        if args.verbose {
            for line in &report.events {
                println!("{line}");
            }
            println!(
                "seed {seed}: {:?} trace {:016x}",
                report.summary, report.trace_hash
            );
        }
        {
            let mut totals = shared.totals.lock().expect("no poisoned lock");
            totals.0.add(&report.summary);
            totals.1 += 1;
            totals.2 += u64::from(report.check_unknown);
        }
        if let Some(v) = &report.violation {
            bar.suspend(|| eprintln!("VIOLATION at seed {seed}: {v:?}"));
            shared
                .failures
                .lock()
                .expect("no poisoned lock")
                .push(report);
        }
        bar.inc(1);
    }
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
