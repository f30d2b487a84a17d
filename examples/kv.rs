//! One replica of the replicated key-value store: an HTTP JSON API over
//! synod-node (raft-core, synod-tcp, synod-wal).
//!
//! ```sh
//! cargo run --release --example kv -- --id 1 --data-dir /tmp/kv1 \
//!   --peer 1=127.0.0.1:7001,127.0.0.1:8001 \
//!   --peer 2=127.0.0.1:7002,127.0.0.1:8002 \
//!   --peer 3=127.0.0.1:7003,127.0.0.1:8003
//! curl -XPUT localhost:8001/kv/a -d '{"value":"1"}' -H 'content-type: application/json' -L
//! curl localhost:8002/kv/a
//! ```

use std::path::PathBuf;

use clap::Parser;
use synod_examples::kvstore::{node::KvConfig, parse_peers, serve};

/// A replicated key-value server.
#[derive(Debug, Parser)]
struct Args {
    /// This node's id (one of the --peer ids).
    #[arg(long)]
    id: u64,
    /// A member: ID=RAFT_ADDR,HTTP_ADDR (repeat for each, this node included).
    #[arg(long = "peer", required = true)]
    peers: Vec<String>,
    /// Where the log lives.
    #[arg(long)]
    data_dir: PathBuf,
    /// The cluster's name; nodes of another cluster are refused.
    #[arg(long, default_value = "synod-kv")]
    cluster: String,
    /// Milliseconds per protocol tick (elections take 15 to 30 ticks).
    #[arg(long, default_value_t = 10)]
    tick_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let peers = parse_peers(&args.peers)?;
    if !peers.contains_key(&args.id) {
        return Err(format!("--id {} is not among the --peer ids", args.id).into());
    }
    serve(KvConfig {
        id: args.id,
        peers,
        data_dir: args.data_dir,
        cluster: args.cluster,
        tick_ms: args.tick_ms.max(1),
    })
    .await
}
