//! The command line of one replica, shared by the `kv` example and the
//! processes `cluster_demo` and the kill -9 test start.

use std::path::PathBuf;

use clap::Parser;

use super::node::KvConfig;
use super::parse_peers;

/// A replicated key-value server.
#[derive(Debug, Parser)]
#[command(name = "kv")]
pub struct Args {
    /// This node's id (one of the --peer ids).
    #[arg(long)]
    pub id: u64,
    /// A member: ID=RAFT_ADDR,HTTP_ADDR (repeat for each, this node included).
    #[arg(long = "peer", required = true)]
    pub peers: Vec<String>,
    /// Where the log lives.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The cluster's name; nodes of another cluster are refused.
    #[arg(long, default_value = "synod-kv")]
    pub cluster: String,
    /// Milliseconds per protocol tick (elections take 15 to 30 ticks).
    #[arg(long, default_value_t = 10)]
    pub tick_ms: u64,
    /// What a follower does with a write: `redirect` (307 to the leader)
    /// or `forward` (send it to the leader and relay the answer).
    #[arg(long, default_value = "redirect", value_parser = ["redirect", "forward"])]
    pub follower_writes: String,
    /// The consensus protocol: `raft` or `paxos` (every node of a cluster
    /// must run the same).
    #[arg(long, default_value = "raft", value_parser = ["raft", "paxos"])]
    pub protocol: String,
    /// Fault injection for tests: a file whose content (`eio` or
    /// `enospc`) makes every write and sync of the log fail.
    #[arg(long)]
    pub disk_fault_file: Option<PathBuf>,
}

impl Args {
    /// The replica's configuration.
    ///
    /// # Errors
    /// Malformed `--peer` values, or an `--id` not among them.
    pub fn config(self) -> Result<KvConfig, String> {
        let peers = parse_peers(&self.peers)?;
        if !peers.contains_key(&self.id) {
            return Err(format!("--id {} is not among the --peer ids", self.id));
        }
        Ok(KvConfig {
            id: self.id,
            peers,
            data_dir: self.data_dir,
            cluster: self.cluster,
            tick_ms: self.tick_ms.max(1),
            forward_writes: self.follower_writes == "forward",
            protocol: if self.protocol == "paxos" {
                super::node::ProtocolKind::Paxos
            } else {
                super::node::ProtocolKind::Raft
            },
            disk_fault_file: self.disk_fault_file,
        })
    }
}

/// Runs a replica from command-line words (without the program name).
///
/// # Errors
/// Bad arguments, startup failures, or the driver stopping.
pub fn run_node(words: impl IntoIterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::try_parse_from(std::iter::once("kv".to_string()).chain(words))?;
    let config = args.config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(super::serve(config))
}

/// For a test binary that is also the replica (`harness = false`): runs
/// the replica when the first word is `node` (and returns its result),
/// returns `Some(Ok(()))` when `cargo test` passed a filter naming another
/// test, and `None` when the test itself should run.
#[must_use]
pub fn replica_or_filtered(test: &str) -> Option<Result<(), Box<dyn std::error::Error>>> {
    let words: Vec<String> = std::env::args().skip(1).collect();
    if words.first().map(String::as_str) == Some("node") {
        return Some(run_node(words.into_iter().skip(1)));
    }
    // `cargo test` passes its own flags; a filter that names another test
    // means this one is not wanted.
    let other = (words.iter()).any(|w| !w.starts_with('-') && !test.contains(w.as_str()));
    other.then_some(Ok(()))
}
