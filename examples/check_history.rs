//! Checks histories recorded elsewhere for linearizability, one verdict
//! and time per file: Jepsen register and cas-register histories (EDN maps
//! or `jepsen.util` log lines, as in Porcupine's etcd test data) and
//! Porcupine's key-value histories (get, put, append).
//!
//! ```text
//! cargo run --release --example check_history -- --jepsen h1.log h2.edn [--explain] [--html DIR]
//! cargo run --release --example check_history -- --porcupine-kv c10-ok.txt
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use synod_sim::models::{CasRegister, KeyValue, KvInput, KvOutput};
use synod_sim::{
    Model, ModelOp, ModelVerdict, PartResult, check_model, check_model_parts, history_html,
    jepsen_register_history, porcupine_kv_history,
};

/// Linearizability of recorded histories.
#[derive(Debug, Parser)]
struct Args {
    /// Jepsen register / cas-register histories.
    #[arg(long = "jepsen", num_args = 1..)]
    jepsen: Vec<PathBuf>,
    /// Porcupine key-value histories.
    #[arg(long = "porcupine-kv", num_args = 1..)]
    kv: Vec<PathBuf>,
    /// Key-value histories as JSON (`ModelOp`s of `KvInput` and
    /// `KvOutput`, as the nemesis test keeps them).
    #[arg(long = "kv-json", num_args = 1..)]
    kv_json: Vec<PathBuf>,
    /// Explain each failure: the longest linearization found and why the
    /// rest cannot go next.
    #[arg(long)]
    explain: bool,
    /// Write each file's page (operations on a time axis, the failure
    /// marked) into this directory, as FILE-STEM.html.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Search steps allowed per part (the memo of a part being searched
    /// grew by up to about 290 bytes a step on Porcupine's key-value
    /// histories, far less on register histories; one part per core is
    /// searched at a time).
    #[arg(long, default_value_t = 10_000_000)]
    budget: u64,
    /// Search every part to the end and print each one's operations,
    /// search steps and result (by default the search stops once the
    /// verdict is known).
    #[arg(long)]
    parts: bool,
}

/// Checks one history; its operation count, search steps (when every
/// part is searched to the end, `--parts`) and verdict.
fn check<M>(
    model: &M,
    ops: &[ModelOp<M::Input, M::Output>],
    args: &Args,
    path: &Path,
) -> Result<(usize, Option<u64>, &'static str, f64), String>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let started = Instant::now();
    let (failing, unknown, steps) = if args.parts {
        let parts = check_model_parts(model, ops, args.budget).map_err(|e| e.to_string())?;
        for p in &parts {
            let result = match &p.result {
                PartResult::Linearizable => "linearizable".to_string(),
                PartResult::Unknown => "unknown (budget)".to_string(),
                PartResult::NotLinearizable(r) => {
                    format!("NOT linearizable from time {}", r.failed_at)
                }
            };
            println!(
                "  part {:>20}: {:>5} operations, {:>9} steps, {result}",
                p.part, p.operations, p.steps
            );
        }
        let steps = parts.iter().map(|p| p.steps).sum();
        let unknown = parts.iter().any(|p| p.result == PartResult::Unknown);
        let failing = parts.into_iter().find_map(|p| match p.result {
            PartResult::NotLinearizable(r) => Some(r),
            _ => None,
        });
        (failing, unknown, Some(steps))
    } else {
        match check_model(model, ops, args.budget).map_err(|e| e.to_string())? {
            ModelVerdict::NotLinearizable(r) => (Some(r), false, None),
            ModelVerdict::Unknown { .. } => (None, true, None),
            _ => (None, false, None),
        }
    };
    let checking = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(report) = &failing
        && args.explain
    {
        print!("{}", report.describe(model, ops));
    }
    if let Some(dir) = &args.html {
        let stem = path
            .file_stem()
            .map_or("history".into(), |s| s.to_string_lossy());
        let page = history_html(model, ops, failing.as_ref(), &path.display().to_string());
        let out = dir.join(format!("{stem}.html"));
        std::fs::write(&out, page).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let verdict = if failing.is_some() {
        "NOT linearizable"
    } else if unknown {
        "unknown (budget)"
    } else {
        "linearizable"
    };
    Ok((ops.len(), steps, verdict, checking))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut failed = false;
    #[derive(Clone, Copy)]
    enum Format {
        Jepsen,
        Porcupine,
        Json,
    }
    let files = (args.jepsen.iter().map(|p| (p, Format::Jepsen)))
        .chain(args.kv.iter().map(|p| (p, Format::Porcupine)))
        .chain(args.kv_json.iter().map(|p| (p, Format::Json)));
    for (path, format) in files {
        let started = Instant::now();
        let result = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| match format {
                Format::Jepsen => {
                    let ops = jepsen_register_history(&text).map_err(|e| e.to_string())?;
                    check(&CasRegister, &ops, &args, path)
                }
                Format::Porcupine => {
                    let ops = porcupine_kv_history(&text).map_err(|e| e.to_string())?;
                    check(&KeyValue, &ops, &args, path)
                }
                Format::Json => {
                    let ops: Vec<ModelOp<KvInput, KvOutput>> =
                        serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    check(&KeyValue, &ops, &args, path)
                }
            });
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok((ops, steps, verdict, checking)) => {
                let steps = steps.map_or(String::new(), |s| format!("{s} steps, "));
                println!(
                    "{}: {verdict} ({ops} operations, {steps}{checking:.1} ms checking, {ms:.1} ms in all)",
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
