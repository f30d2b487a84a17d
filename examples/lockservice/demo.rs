//! The `lock_service demo`: three nodes in this process (raft-core over
//! loopback TCP, logs with fsync in a temporary directory); client A takes
//! a lock and stalls past its session's time-to-live, B (queued) is
//! granted the lock with a larger token, and a resource that checks tokens
//! refuses A's late write.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use synod_lock::{Fence, SessionState};

use super::cli::client;
use crate::kvstore::node::{KvConfig, PeerAddr, ProtocolKind};

/// Runs the demo on raft-core.
///
/// # Errors
/// A node cannot start, or the service misbehaves.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    run_on(ProtocolKind::Raft).await
}

/// Runs the demo on `protocol`.
///
/// # Errors
/// A node cannot start, or the service misbehaves.
pub async fn run_on(protocol: ProtocolKind) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut peers = BTreeMap::new();
    for id in 1..=3u64 {
        let peer = PeerAddr {
            raft: crate::free_loopback_addr()?,
            http: crate::free_loopback_addr()?,
        };
        peers.insert(id, peer);
    }
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let config = KvConfig {
            id,
            peers: peers.clone(),
            data_dir: dir.path().join(format!("node{id}")),
            cluster: "synod-lock-demo".to_string(),
            tick_ms: 10,
            forward_writes: false,
            protocol,
            disk_fault_file: None,
        };
        nodes.push(super::start(&config).await?);
    }
    let http: Vec<String> = peers.values().map(|p| p.http.clone()).collect();
    println!("three lock nodes ({protocol:?}) up: {http:?}");
    let started = Instant::now();
    let (a, b) = (client(&http)?, client(&http)?);
    a.open_session(Duration::from_secs(2)).await?;
    b.open_session(Duration::from_secs(10)).await?;
    // B keeps its session alive in the background; A will not (a stall).
    tokio::spawn(b.background());
    let ga = a.lock("printer").await?;
    println!("A holds \"printer\" with fencing token {}", ga.token);
    let mut printer = Fence::new();
    printer.check("printer", ga.token)?;
    println!("the printer accepts A's job (token {})", ga.token);
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.lock("printer").await })
    };
    println!("B queues for \"printer\"; A stalls (no keep-alives) past its 2 s TTL...");
    let gb = waiting.await??;
    println!(
        "after {:.1} s A's session expired in log time and B holds \"printer\" with token {}",
        started.elapsed().as_secs_f64(),
        gb.token
    );
    printer.check("printer", gb.token)?;
    println!("the printer accepts B's job (token {})", gb.token);
    println!("A's own clock says its session is {:?}", a.session_state());
    match printer.check("printer", ga.token) {
        Err(stale) => println!("A wakes and sends its job: the printer refuses it ({stale})"),
        Ok(()) => return Err("the printer took a stale token".into()),
    }
    assert_eq!(a.session_state(), SessionState::Lost);
    b.unlock(gb).await?;
    let (events, _) = b.events(0, 100).await?;
    println!("the service's events:");
    for (index, event) in events {
        println!("  {index}: {event:?}");
    }
    for n in nodes {
        n.replica.client.shutdown().await?;
        n.stamper.abort();
        n.server.abort();
    }
    Ok(())
}
