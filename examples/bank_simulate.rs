//! A user-defined service in the simulator: the bank of
//! `synod_examples::bank` (transfers, deposits, balance and total reads)
//! replicated by raft-core or Multi-Paxos under a fault profile, each
//! seed's history checked against the bank's own model.
//!
//! ```text
//! cargo run --release --example bank_simulate -- --seeds 200 --faults safety --protocol raft
//! cargo run --release --example bank_simulate -- --seeds 200 --bug snapshot-drops-total --html /tmp/bank
//! ```
//! Clients send an overdue request again until it is answered (the
//! simulator's client sessions apply it once), so few operations end with
//! an unknown outcome; `--give-up` makes them abandon it instead, and the
//! many transfers of unknown outcome leave most checks out of budget.
//! `--bug` plants a mistake in the bank (a snapshot that drops the running
//! total, a transfer without an overdraft check) to watch the checks find
//! it; `--html DIR` writes the page of each history that is not
//! linearizable. A failing seed replays by its number (`--start N --seeds
//! 1 --verbose`).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Parser, ValueEnum};
use synod_examples::bank::{Bank, BankInput, BankOutput, Bug, next_input};
use synod_examples::seeds::{Paxos, Profile, SeedArgs, paxos_config};
use synod_sim::{ModelVerdict, RaftReplica, ServiceRunReport, SimError, Violation, run_service};

type Report = ServiceRunReport<BankInput, BankOutput>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    Raft,
    Paxos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlantedBug {
    None,
    SnapshotDropsTotal,
    NoOverdraftCheck,
}

/// Seeded simulations of a replicated bank, checked against its model.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    seeds: SeedArgs,
    /// The fault profile.
    #[arg(long, value_enum, default_value_t = Profile::Safety)]
    faults: Profile,
    /// The protocol replicating the bank.
    #[arg(long, value_enum, default_value_t = Protocol::Raft)]
    protocol: Protocol,
    /// Accounts in the bank (each opens with 10).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..))]
    accounts: u8,
    /// A mistake to plant in the bank.
    #[arg(long, value_enum, default_value_t = PlantedBug::None)]
    bug: PlantedBug,
    /// Write the page of each history that is not linearizable into this
    /// directory, as seed-N.html.
    #[arg(long)]
    html: Option<std::path::PathBuf>,
    /// Clients give up on an overdue request (its outcome unknown) instead
    /// of sending it again until answered: the transfers of unknown
    /// outcome pile up and most checks run out of budget.
    #[arg(long)]
    give_up: bool,
}

/// A violation in one line: the first line of a linearizability account
/// (the full account comes with `--verbose`, the picture with `--html`).
fn headline(v: &Violation) -> String {
    match v {
        Violation::NotLinearizable(account) => {
            let first = account.lines().next().unwrap_or_default();
            format!(
                "not linearizable: {}",
                first.split("; the longest").next().unwrap_or(first)
            )
        }
        other => format!("{other:?}"),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.seeds.end().is_none() {
        eprintln!("error: --start + --seeds overflows u64");
        return ExitCode::from(2);
    }
    let bug = match args.bug {
        PlantedBug::None => Bug::None,
        PlantedBug::SnapshotDropsTotal => Bug::SnapshotDropsTotal,
        PlantedBug::NoOverdraftCheck => Bug::NoOverdraftCheck,
    };
    let bank = Bank::new(args.accounts, 10, bug);
    let model = bank.model();
    println!(
        "bank of {} accounts on {:?}, seeds {}..+{} ({} profile), planted bug: {:?}",
        args.accounts,
        args.protocol,
        args.seeds.start,
        args.seeds.seeds,
        args.faults.name(),
        bug
    );
    let run = |seed: u64| -> Result<Report, SimError> {
        let mut cfg = args.faults.config(seed);
        cfg.record_events = args.seeds.verbose;
        cfg.retry_until_answered = !args.give_up;
        let workload = next_input(args.accounts);
        let report = match args.protocol {
            Protocol::Raft => run_service::<RaftReplica, _>(&cfg, bank.clone(), &model, workload),
            Protocol::Paxos => {
                run_service::<Paxos, _>(&paxos_config(&cfg), bank.clone(), &model, workload)
            }
        }?;
        if args.seeds.verbose {
            for line in &report.events {
                println!("{line}");
            }
            println!(
                "seed {seed}: {:?} trace {:016x}",
                report.summary, report.trace_hash
            );
        }
        Ok(report)
    };
    let out_of_budget = AtomicU64::new(0);
    let record = |r: &Report| {
        if matches!(r.verdict, Some(ModelVerdict::Unknown { .. })) {
            out_of_budget.fetch_add(1, Ordering::Relaxed);
        }
        r.violation.as_ref().map(headline)
    };
    let Some(ran) = args.seeds.run_or_report(run, record) else {
        return ExitCode::from(2);
    };
    println!(
        "{} seeds in {:.1} s ({} job(s)), {} failing, {} check(s) out of budget",
        ran.ran,
        ran.secs,
        ran.jobs,
        ran.failures.len(),
        out_of_budget.load(Ordering::Relaxed)
    );
    for r in &ran.failures {
        if let Some(v) = &r.violation {
            eprintln!("  seed {}: {}", r.seed, headline(v));
            if args.seeds.verbose {
                eprintln!("{v:?}");
            }
        }
        eprintln!(
            "    replay: cargo run --release --example bank_simulate -- --start {} --seeds 1 --faults {} --protocol {} --accounts {} --bug {}{} --verbose",
            r.seed,
            args.faults.name(),
            args.protocol
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            args.accounts,
            args.bug
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            if args.give_up { " --give-up" } else { "" },
        );
        if let Some(dir) = &args.html
            && let Some(page) = r.history_html(&model)
        {
            let path = dir.join(format!("seed-{}.html", r.seed));
            match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, page)) {
                Ok(()) => eprintln!("    page: {}", path.display()),
                Err(e) => eprintln!("    page: {}: {e}", path.display()),
            }
        }
    }
    if ran.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
