//! The main demo: three replicated key-value nodes on loopback, each its
//! own process with its log on disk; writes with a progress bar; the
//! leader killed with SIGKILL; a new election timed; more writes; the old
//! leader restarted and caught up; every acknowledged write checked on
//! every node, then again after restarting all three.
//!
//! ```sh
//! cargo run --release --example cluster_demo
//! ```

use clap::Parser;
use synod_examples::kvstore::{cli, demo};

/// Runs the demo (or, as `cluster_demo node ...`, one of its replicas).
#[derive(Debug, Parser)]
struct Args {
    /// Keys written before the kill, and again after it.
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// The consensus protocol the replicas run: `raft` or `paxos`.
    #[arg(long, default_value = "raft", value_parser = ["raft", "paxos"])]
    protocol: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let words: Vec<String> = std::env::args().skip(1).collect();
    if words.first().map(String::as_str) == Some("node") {
        return cli::run_node(words.into_iter().skip(1));
    }
    let args = Args::parse();
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    println!("data and logs in {}", dir.path().display());
    let runtime = tokio::runtime::Runtime::new()?;
    let prefix = ["node", "--protocol", args.protocol.as_str()];
    let s = runtime.block_on(demo::run(&exe, &prefix, dir.path(), args.keys, true))?;
    println!();
    println!("| | |");
    println!("|---|---|");
    println!(
        "| writes acknowledged before the kill | {} ({:.0}/s) |",
        s.acked_before, s.writes_per_sec
    );
    println!("| leader killed (SIGKILL) | node {} |", s.first_leader);
    println!(
        "| new leader | node {} after {:?} |",
        s.second_leader, s.election
    );
    println!("| writes acknowledged after the kill | {} |", s.acked_after);
    println!("| writes left unacknowledged | {} |", s.unacknowledged);
    println!("| old leader restarted, caught up in | {:?} |", s.catch_up);
    println!(
        "| acknowledged writes missing on some node | {} |",
        s.missing.len()
    );
    println!(
        "| missing after restarting all three | {} |",
        s.missing_after_full_restart.len()
    );
    if s.missing.is_empty() && s.missing_after_full_restart.is_empty() {
        println!("\nevery acknowledged write is on every node");
        Ok(())
    } else {
        Err(format!(
            "lost writes: {:?} {:?}",
            s.missing, s.missing_after_full_restart
        )
        .into())
    }
}
