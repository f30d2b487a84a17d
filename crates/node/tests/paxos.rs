//! The same driver running Multi-Paxos instead of Raft: only the protocol
//! type changes. Three synod-paxos-core replicas over the in-process
//! network on tokio: writes answered after they apply, a leader cut off
//! and replaced without losing an acknowledged write, linearizable reads,
//! and a follower caught up from a snapshot.

mod support;

use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Ask, Journal, converge, leader, tokio_ticks, write};
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, Driver, Inline, NodeOptions};
use synod_paxos_core::{Config, Message, PaxosNode};
use synod_protocol::{MemStorage, Protocol};

type Paxos = PaxosNode<MemStorage, StdRng>;

fn start(net: &MemNetwork<Message>, options: &NodeOptions) -> Vec<(u64, Client<Journal>)> {
    let mut clients = Vec::new();
    for id in 1..=3u64 {
        let node = <Paxos as Protocol>::start(
            id,
            &Config::new(id),
            MemStorage::bootstrap(&[1, 2, 3]),
            StdRng::seed_from_u64(id),
        )
        .expect("starts");
        let (client, inbox, driver) = Driver::new(
            node,
            Journal::default(),
            net.transport(id),
            Inline,
            options.clone(),
        )
        .expect("driver");
        net.attach(id, inbox);
        tokio::spawn(driver.run(tokio_ticks()));
        clients.push((id, client));
    }
    clients
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_the_loss_of_the_leader() {
    let net = MemNetwork::new(11);
    let cs = start(&net, &NodeOptions::default());
    let first = leader(&cs).await;
    let mut acknowledged = Vec::new();
    for i in 0..20u32 {
        let cmd = Bytes::from(format!("a{i}"));
        write(&cs, cmd.clone()).await;
        acknowledged.push(cmd);
    }
    let c = &cs[(first - 1) as usize].1;
    let read = c.read(Ask::Len, Consistency::Linearizable).await;
    assert!(read.is_ok(), "a linearizable read on the leader: {read:?}");
    net.isolate(first);
    let rest: Vec<_> = cs.iter().filter(|(id, _)| *id != first).cloned().collect();
    let second = leader(&rest).await;
    assert_ne!(second, first);
    for i in 0..20u32 {
        let cmd = Bytes::from(format!("b{i}"));
        write(&rest, cmd.clone()).await;
        acknowledged.push(cmd);
    }
    net.heal();
    let journal = converge(&cs, 40).await;
    for cmd in &acknowledged {
        assert!(journal.contains(cmd), "acknowledged {cmd:?} lost");
    }
    // The old leader learned the new ballot and follows.
    let s = cs[(first - 1) as usize].1.status().await.expect("status");
    assert_ne!(s.protocol.leader, Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_follower_catches_up_from_a_snapshot() {
    let net = MemNetwork::new(12);
    let options = NodeOptions {
        snapshot_every_entries: 10,
        // No tail: a follower behind is sent the snapshot.
        compaction_tail_entries: 0,
        ..NodeOptions::default()
    };
    let cs = start(&net, &options);
    let l = leader(&cs).await;
    let lagging = l % 3 + 1;
    net.isolate(lagging);
    let rest: Vec<_> = cs
        .iter()
        .filter(|(id, _)| *id != lagging)
        .cloned()
        .collect();
    for i in 0..50u32 {
        write(&rest, Bytes::from(format!("s{i}"))).await;
    }
    net.heal();
    converge(&cs, 50).await;
    let s = cs[(lagging - 1) as usize].1.status().await.expect("status");
    assert!(
        s.snapshots_restored >= 1,
        "caught up without a snapshot: {s:?}"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
}
