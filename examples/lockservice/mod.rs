//! A lock service: synod-lock's machine replicated by synod-node (raft-core
//! or Multi-Paxos over synod-tcp, its log in synod-wal with fsync), the
//! leader stamping log time every 10 ms, a JSON API for clients
//! ([`http`]), and the `lock_service` example's command line ([`cli`]).

pub mod cli;
pub mod demo;
pub mod http;

use std::time::{Duration, Instant};

use synod_lock::{LockMachine, stamp_clock};

use crate::kvstore::node::{KvConfig, start_machine};

/// How often each node, while it leads, stamps log time.
pub const STAMP_EVERY: Duration = Duration::from_millis(10);

/// A running node: its client, driver task, listener and stamper.
#[derive(Debug)]
pub struct LockNode {
    /// The node's client API.
    pub replica: crate::kvstore::node::Replica<LockMachine>,
    /// The HTTP server.
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The clock stamper.
    pub stamper: tokio::task::JoinHandle<()>,
}

/// Starts one node on the current runtime: the replica, its HTTP API at
/// its `http` address, and the stamper.
///
/// # Errors
/// The log cannot be opened or an address cannot be bound.
pub async fn start(config: &KvConfig) -> Result<LockNode, Box<dyn std::error::Error>> {
    let replica = start_machine(config, LockMachine::new()).await?;
    let me = config
        .peers
        .get(&config.id)
        .ok_or("this node is not in --peer")?;
    let listener = tokio::net::TcpListener::bind(&me.http).await?;
    let app = http::router(replica.client.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    // This process's monotonic clock; other nodes' clocks differ, and the
    // machine extends every session when the stamping leader changes.
    let started = Instant::now();
    let client = replica.client.clone();
    let stamper = tokio::spawn(async move {
        let clock = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        loop {
            if let Err(synod_node::Error::Stopped) = stamp_clock(&client, clock).await {
                return;
            }
            tokio::time::sleep(STAMP_EVERY).await;
        }
    });
    Ok(LockNode {
        replica,
        server,
        stamper,
    })
}

/// Runs one node until ctrl-c (or its driver stops).
///
/// # Errors
/// Startup failures, or the driver stopping on a storage failure.
pub async fn serve(config: KvConfig) -> Result<(), Box<dyn std::error::Error>> {
    let node = start(&config).await?;
    eprintln!(
        "lock node {} serving on {}",
        config.id, config.peers[&config.id].http
    );
    tokio::select! {
        served = node.server => served??,
        ran = node.replica.task => { ran??; }
        _ = tokio::signal::ctrl_c() => {
            node.replica.client.shutdown().await?;
        }
    }
    node.stamper.abort();
    Ok(())
}
