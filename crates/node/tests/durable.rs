//! Nodes on synod-wal: everything acknowledged survives a restart of the
//! whole cluster, clean or not.

use crate::support;

use std::path::Path;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Ask, Journal, converge, leader, raft_options, tokio_ticks, write};
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, DiskThread, Driver, Error, NodeOptions};
use synod_protocol::Protocol;
use synod_raft_core::{Message, RaftNode};
use synod_wal::fs::StdDir;
use synod_wal::{Options, Wal};

type WalNode = RaftNode<Wal<StdDir>, StdRng>;

struct Started {
    client: Client<Journal>,
    task: tokio::task::JoinHandle<Result<WalNode, Error>>,
}

fn start(id: u64, dir: &Path, net: &MemNetwork<Message>, options: NodeOptions) -> Started {
    let wal_options = Options {
        segment_bytes: 64 * 1024,
        ..Options::default()
    };
    let mut wal = Wal::open(StdDir::open(dir).expect("dir"), wal_options).expect("opens");
    if wal.segment_count() == 1 && synod_protocol::Storage::last_index(&wal) == Ok(0) {
        wal.bootstrap(&[1, 2, 3]).expect("bootstraps");
    }
    let node = <WalNode as Protocol>::start(id, &raft_options(), wal, StdRng::seed_from_u64(id))
        .expect("starts");
    let (client, inbox, driver) = Driver::new(
        node,
        Journal::default(),
        net.transport(id),
        DiskThread::spawn("synod-disk").expect("a thread"),
        options,
    )
    .expect("driver");
    net.attach(id, inbox);
    let task = tokio::spawn(driver.run(tokio_ticks()));
    Started { client, task }
}

fn clients(nodes: &[Started]) -> Vec<(u64, Client<Journal>)> {
    nodes
        .iter()
        .zip(1..)
        .map(|(n, id)| (id, n.client.clone()))
        .collect()
}

async fn restart_all(
    dirs: &[tempfile::TempDir],
    net: &MemNetwork<Message>,
    options: &NodeOptions,
) -> Vec<Started> {
    dirs.iter()
        .zip(1..)
        .map(|(d, id)| start(id, d.path(), net, options.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_clean_and_unclean_restarts() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let net = MemNetwork::new(41);
    // Snapshots every 40 entries: the restarts also recover from them.
    let options = NodeOptions {
        snapshot_every_entries: 40,
        ..NodeOptions::default()
    };
    let nodes = restart_all(&dirs, &net, &options).await;
    let cs = clients(&nodes);
    let mut acked = Vec::new();
    for i in 0..100u32 {
        let cmd = Bytes::from(format!("d{i}"));
        write(&cs, cmd.clone()).await;
        acked.push(cmd);
    }
    // A clean stop of every node.
    for (_, c) in &cs {
        c.shutdown().await.expect("stops");
    }
    for n in nodes {
        n.task.await.expect("joined").expect("ran");
    }

    let nodes = restart_all(&dirs, &net, &options).await;
    let cs = clients(&nodes);
    leader(&cs).await;
    let journal = converge(&cs, 100).await;
    assert_eq!(journal, acked, "a clean restart lost or reordered writes");
    for i in 100..150u32 {
        let cmd = Bytes::from(format!("d{i}"));
        write(&cs, cmd.clone()).await;
        acked.push(cmd);
    }
    // An unclean stop: the node futures are dropped mid-flight.
    for n in &nodes {
        n.task.abort();
    }
    for n in nodes {
        let _ = n.task.await;
    }
    // Let any disk job still running finish with the old handles.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let nodes = restart_all(&dirs, &net, &options).await;
    let cs = clients(&nodes);
    let l = leader(&cs).await;
    let journal = converge(&cs, 150).await;
    assert_eq!(
        journal, acked,
        "an unclean restart lost or reordered writes"
    );
    let c = &cs[(l - 1) as usize].1;
    let read = c
        .read(Ask::All, Consistency::Linearizable)
        .await
        .expect("read");
    assert_eq!(read.len(), 150);
}
