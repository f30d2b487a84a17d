//! The same driver running Multi-Paxos instead of Raft: only the protocol
//! type changes. Three synod-paxos-core replicas over the in-process
//! network on tokio: writes answered after they apply, a leader cut off
//! and replaced without losing an acknowledged write, linearizable reads,
//! a follower caught up from a snapshot, and a stop-sign handing the log
//! to a configuration of other nodes.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Ask, Journal, converge, journals, leader, on_leader, tokio_ticks, write};
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, Driver, Inline, NodeOptions};
use synod_paxos_core::{Config, Message, PaxosNode};
use synod_protocol::{MemStorage, Protocol, StopSign};

type Paxos = PaxosNode<MemStorage, StdRng>;

fn start(net: &MemNetwork<Message>, options: &NodeOptions) -> Vec<(u64, Client<Journal>)> {
    start_nodes(net, options, 3)
}

/// Nodes `1..=n` over a log whose voters are 1, 2 and 3 (the others wait
/// to be added).
fn start_nodes(
    net: &MemNetwork<Message>,
    options: &NodeOptions,
    n: u64,
) -> Vec<(u64, Client<Journal>)> {
    let mut clients = Vec::new();
    for id in 1..=n {
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
    let mut acknowledged = Vec::new();
    for i in 0..20u32 {
        let cmd = Bytes::from(format!("a{i}"));
        write(&cs, cmd.clone()).await;
        acknowledged.push(cmd);
    }
    let (first, read) = on_leader(&cs, |c| async move {
        c.read(Ask::Len, Consistency::Linearizable).await
    })
    .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_sign_hands_the_log_to_the_next_configuration() {
    let net = MemNetwork::new(13);
    let cs = start_nodes(&net, &NodeOptions::default(), 5);
    let old: Vec<_> = cs.iter().filter(|(id, _)| *id <= 3).cloned().collect();
    for i in 0..10u32 {
        write(&old, Bytes::from(format!("c{i}"))).await;
    }
    // Voters {1, 2, 3} -> {3, 4, 5}: 4 and 5 join as learners first (the
    // call answers once that change applies), then the stop-sign follows.
    let stop = StopSign {
        voters: vec![3, 4, 5],
        learners: Vec::new(),
        metadata: Bytes::from_static(b"v2"),
    };
    let next: Vec<_> = cs.iter().filter(|(id, _)| *id >= 3).cloned().collect();
    hand_over(&old, &next, &stop).await;
    // Every node of the next configuration applies the stop-sign after the
    // ten commands.
    let journal = converge(&next, 11).await;
    assert!(
        journal[10].starts_with(b"stop-sign at "),
        "{:?}",
        &journal[10]
    );
    assert!(journal[10].ends_with(b"voters [3, 4, 5], v2"));
    // The old voters 1 and 2 leave; the next configuration goes on alone.
    net.isolate(1);
    net.isolate(2);
    for i in 0..10u32 {
        write(&next, Bytes::from(format!("d{i}"))).await;
    }
    let journal = converge(&next, 21).await;
    assert_eq!(
        &journal[..10],
        &(0..10u32)
            .map(|i| Bytes::from(format!("c{i}")))
            .collect::<Vec<_>>()[..]
    );
    assert!(journal.contains(&Bytes::from_static(b"d9")));
}

/// Proposes `stop` through the old configuration's leader until a node of
/// the next configuration has applied a stop-sign. Leadership may move
/// between finding the leader and proposing (the call then answers
/// `NotLeader`), and a leader that loses its ballot after the learners'
/// change forgets the stop-sign it meant to follow with, so both are tried
/// again; a stop-sign already in the log makes a second one refused.
async fn hand_over(
    old: &[(u64, Client<Journal>)],
    next: &[(u64, Client<Journal>)],
    stop: &StopSign,
) {
    for _ in 0..50 {
        let l = leader(old).await;
        let _ = old[(l - 1) as usize]
            .1
            .propose_stop_sign(stop.clone())
            .await;
        for _ in 0..100 {
            let applied = journals(next)
                .await
                .iter()
                .any(|(_, j)| j.iter().any(|cmd| cmd.starts_with(b"stop-sign at ")));
            if applied {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    panic!("no stop-sign applied after 50 proposals");
}
