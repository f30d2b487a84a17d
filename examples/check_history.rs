//! Checks histories recorded elsewhere for linearizability: Jepsen
//! register and cas-register histories (EDN maps or `jepsen.util` log
//! lines, as in Porcupine's etcd test data), one verdict and time per file.
//!
//! ```text
//! cargo run --release --example check_history -- --jepsen history1.log history2.edn [--explain] [--html DIR]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use synod_sim::models::CasRegister;
use synod_sim::{PartResult, check_model_parts, history_html, jepsen_register_history};

/// Linearizability of recorded histories.
#[derive(Debug, Parser)]
struct Args {
    /// Jepsen register / cas-register histories.
    #[arg(long = "jepsen", required = true, num_args = 1..)]
    files: Vec<std::path::PathBuf>,
    /// Explain each failure: the longest linearization found and why the
    /// rest cannot go next.
    #[arg(long)]
    explain: bool,
    /// Write each file's page (operations on a time axis, the failure
    /// marked) into this directory, as FILE-STEM.html.
    #[arg(long)]
    html: Option<std::path::PathBuf>,
    /// Search steps allowed per part.
    #[arg(long, default_value_t = 100_000_000)]
    budget: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut failed = false;
    for path in &args.files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
                continue;
            }
        };
        let started = Instant::now();
        let verdict = jepsen_register_history(&text)
            .map_err(|e| e.to_string())
            .and_then(|ops| {
                let parts = check_model_parts(&CasRegister, &ops, args.budget)
                    .map_err(|e| e.to_string())?;
                let steps: u64 = parts.iter().map(|p| p.steps).sum();
                let failing = parts.iter().find_map(|p| match &p.result {
                    PartResult::NotLinearizable(r) => Some(r),
                    _ => None,
                });
                if let Some(report) = failing
                    && args.explain
                {
                    print!("{}", report.describe(&CasRegister, &ops));
                }
                if let Some(dir) = &args.html {
                    let stem = path
                        .file_stem()
                        .map_or("history".into(), |s| s.to_string_lossy());
                    let page =
                        history_html(&CasRegister, &ops, failing, &path.display().to_string());
                    let out = dir.join(format!("{stem}.html"));
                    std::fs::write(&out, page).map_err(|e| format!("{}: {e}", out.display()))?;
                }
                let verdict = if failing.is_some() {
                    "NOT linearizable"
                } else if parts.iter().any(|p| p.result == PartResult::Unknown) {
                    "unknown (budget)"
                } else {
                    "linearizable"
                };
                Ok((ops.len(), steps, verdict))
            });
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match verdict {
            Ok((ops, steps, word)) => {
                println!(
                    "{}: {word} ({ops} operations, {steps} steps, {ms:.1} ms)",
                    path.display()
                );
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
