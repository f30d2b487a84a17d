//! One replica of the replicated key-value store: an HTTP JSON API over
//! synod-node (raft-core, synod-tcp, synod-wal).
//!
//! ```sh
//! cargo run --release --example kv -- --id 1 --data-dir /tmp/kv1 \
//!   --peer 1=127.0.0.1:7001,127.0.0.1:8001 \
//!   --peer 2=127.0.0.1:7002,127.0.0.1:8002 \
//!   --peer 3=127.0.0.1:7003,127.0.0.1:8003
//! curl -L -XPUT localhost:8001/kv/a -H 'content-type: application/json' -d '{"value":"1"}'
//! curl localhost:8002/kv/a
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    synod_examples::kvstore::cli::run_node(std::env::args().skip(1))
}
