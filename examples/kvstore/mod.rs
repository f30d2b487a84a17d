//! A replicated key-value service: synod-node running raft-core over
//! synod-tcp, its log in synod-wal, an HTTP JSON API in front. The `kv`
//! example is its command line; `cluster_demo` runs three of them.

pub mod cli;
pub mod cluster;
pub mod demo;
pub mod faulty_disk;
pub mod http;
pub mod nemesis;
pub mod node;
pub mod proxy;
pub mod store;

use std::collections::BTreeMap;

/// Parses `--peer` values: `ID=RAFT_ADDR,HTTP_ADDR`.
///
/// # Errors
/// A description of the first malformed value.
pub fn parse_peers(values: &[String]) -> Result<BTreeMap<u64, node::PeerAddr>, String> {
    let mut peers = BTreeMap::new();
    for v in values {
        let (id, addrs) = v
            .split_once('=')
            .ok_or_else(|| format!("{v:?}: expected ID=RAFT_ADDR,HTTP_ADDR"))?;
        let id: u64 = id.parse().map_err(|_| format!("{v:?}: bad node id"))?;
        if id == 0 {
            return Err(format!("{v:?}: node ids start at 1"));
        }
        let (raft, http) = addrs
            .split_once(',')
            .ok_or_else(|| format!("{v:?}: expected ID=RAFT_ADDR,HTTP_ADDR"))?;
        let peer = node::PeerAddr {
            raft: raft.to_string(),
            http: http.to_string(),
        };
        if peers.insert(id, peer).is_some() {
            return Err(format!("node {id} given twice"));
        }
    }
    Ok(peers)
}

/// Runs one replica with its HTTP API until ctrl-c (or the driver stops).
///
/// # Errors
/// Startup failures, or the driver stopping on a storage failure.
pub async fn serve(config: node::KvConfig) -> Result<(), Box<dyn std::error::Error>> {
    let replica = node::start(&config).await?;
    let http: BTreeMap<u64, String> = config
        .peers
        .iter()
        .map(|(&id, a)| (id, a.http.clone()))
        .collect();
    let me = config
        .peers
        .get(&config.id)
        .ok_or("this node is not in --peer")?;
    let listener = tokio::net::TcpListener::bind(&me.http).await?;
    let limits = http::Limits {
        forward_writes: config.forward_writes,
        ..http::Limits::default()
    };
    let app = http::router(replica.client.clone(), http, limits);
    let server = axum::serve(listener, app);
    tokio::select! {
        served = server => served?,
        ran = replica.task => { ran??; }
        _ = tokio::signal::ctrl_c() => {
            let report = replica.client.shutdown().await?;
            eprintln!("node {}: stopped ({} proposals abandoned)", config.id, report.proposals_abandoned);
        }
    }
    drop(replica.listening);
    Ok(())
}

/// One replica alone (it elects itself) with its HTTP API served in the
/// background on a free loopback port, its log in `dir`: what the tests of
/// the API and of the load generator start. Returns the replica and the
/// HTTP address (`127.0.0.1:PORT`).
///
/// # Errors
/// No free port, or the replica or its listener could not start.
pub async fn single_node(
    dir: &std::path::Path,
    limits: http::Limits,
) -> Result<(node::Replica, String), Box<dyn std::error::Error>> {
    let (raft, web) = (crate::free_loopback_addr()?, crate::free_loopback_addr()?);
    let config = node::KvConfig {
        id: 1,
        peers: BTreeMap::from([(
            1,
            node::PeerAddr {
                raft,
                http: web.clone(),
            },
        )]),
        data_dir: dir.to_path_buf(),
        cluster: "single".into(),
        tick_ms: 5,
        forward_writes: false,
        protocol: node::ProtocolKind::Raft,
        disk_fault_file: None,
    };
    let replica = node::start(&config).await?;
    let app = http::router(
        replica.client.clone(),
        BTreeMap::from([(1, web.clone())]),
        limits,
    );
    let listener = tokio::net::TcpListener::bind(&web).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((replica, web))
}
