//! Three raft-core replicas on the driver, on tokio, over the in-process
//! network: writes, reads, leader loss, message loss, snapshots.

use crate::support;

use bytes::Bytes;
use support::{Ask, clients, cluster, converge, journals, leader, on_leader, write};
use synod_node::memory::MemNetwork;
use synod_node::{Consistency, Error, NodeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_answers_after_it_is_applied_with_the_state_machines_response() {
    let net = MemNetwork::new(1);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let propose =
        |command: &'static [u8]| on_leader(&cs, move |c| async move { c.propose(command).await });
    assert_eq!(propose(b"a").await.1, Ok(1));
    let (l, second) = propose(b"b").await;
    assert_eq!(second, Ok(2));
    let c = &cs[(l - 1) as usize].1;
    // Applied on the node that answered before the answer: a stale read
    // there sees it.
    let here = c.read(Ask::All, Consistency::Stale).await.expect("read");
    assert_eq!(
        here,
        vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]
    );
    // A linearizable read from a follower sees it too.
    let f = &cs[(l % 3) as usize].1;
    let there = f
        .read(Ask::All, Consistency::Linearizable)
        .await
        .expect("read");
    assert_eq!(there.len(), 2);
    let s = c.status().await.expect("status");
    assert!(s.protocol.applied >= 2, "{s:?}");
    assert_eq!(s.proposals_in_flight, 0);
    let report = c.shutdown().await.expect("shuts down");
    assert_eq!(report.proposals_abandoned, 0);
    assert_eq!(
        c.propose(Bytes::from_static(b"c")).await,
        Err(Error::Stopped)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_names_the_leader() {
    let net = MemNetwork::new(2);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    // Every follower names the leader, once it has heard from it (asked
    // again of the new leader's followers if leadership moves meanwhile).
    let mut answers = Vec::new();
    for _ in 0..500 {
        let l = leader(&cs).await;
        answers.clear();
        for (id, c) in cs.iter().filter(|(id, _)| *id != l) {
            answers.push((*id, c.propose(Bytes::from_static(b"x")).await));
        }
        let named = Err(Error::NotLeader { leader: Some(l) });
        if answers.iter().all(|(_, answer)| *answer == named) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("the followers never all named the leader: {answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_proposals_each_apply_once() {
    let net = MemNetwork::new(3);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let l = leader(&cs).await;
    let c = cs[(l - 1) as usize].1.clone();
    let calls: Vec<_> = (0..256u32)
        .map(|i| {
            let c = c.clone();
            let cs = cs.clone();
            tokio::spawn(async move {
                let command = Bytes::from(i.to_le_bytes().to_vec());
                match c.propose(command.clone()).await {
                    // Refused, or replaced by a new leader's entry: it did
                    // not take effect, so it goes to whoever leads now.
                    Err(Error::NotLeader { .. } | Error::Lost) => {
                        on_leader(&cs, |c| {
                            let command = command.clone();
                            async move { c.propose(command).await }
                        })
                        .await
                        .1
                    }
                    answer => answer,
                }
            })
        })
        .collect();
    let mut positions = Vec::new();
    for call in calls {
        positions.push(call.await.expect("joined").expect("committed"));
    }
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=256).collect::<Vec<_>>(),
        "each applied once"
    );
    converge(&cs, 256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_when_the_leader_is_cut_off() {
    let net = MemNetwork::new(4);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let mut acked = Vec::new();
    for i in 0..20u32 {
        let cmd = Bytes::from(format!("w{i}"));
        write(&cs, cmd.clone()).await;
        acked.push(cmd);
    }
    let old = leader(&cs).await;
    net.isolate(old);
    // Proposals to the cut-off leader are appended there but cannot
    // commit; the new leader fills their indexes with its own no-op and
    // commands.
    let c = cs[(old - 1) as usize].1.clone();
    let stranded: Vec<_> = (0..3)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.propose(Bytes::from(format!("stranded{i}"))).await })
        })
        .collect();
    let mut appended = 0;
    for _ in 0..500 {
        appended = c.status().await.expect("status").proposals_in_flight;
        if appended == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!(appended, 3, "the old leader did not append the proposals");
    let rest: Vec<_> = cs.iter().filter(|(id, _)| *id != old).cloned().collect();
    let new = leader(&rest).await;
    assert_ne!(new, old);
    for i in 20..40u32 {
        let cmd = Bytes::from(format!("w{i}"));
        write(&rest, cmd.clone()).await;
        acked.push(cmd);
    }
    net.heal();
    for call in stranded {
        // The new leader never had them: other entries took their indexes.
        assert_eq!(call.await.expect("joined"), Err(Error::Lost));
    }
    let journal = converge(&cs, 40).await;
    for cmd in &acked {
        assert!(journal.contains(cmd), "acknowledged {cmd:?} is missing");
    }
    assert!(!journal.iter().any(|c| c.starts_with(b"stranded")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_message_loss() {
    let net = MemNetwork::new(5);
    net.set_loss(100_000); // 10 %
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let mut acked = Vec::new();
    for i in 0..60u32 {
        let cmd = Bytes::from(format!("lossy{i}"));
        write(&cs, cmd.clone()).await;
        acked.push(cmd);
    }
    net.set_loss(0);
    let journal = converge(&cs, 60).await;
    for cmd in &acked {
        assert_eq!(journal.iter().filter(|c| *c == cmd).count(), 1, "{cmd:?}");
    }
    let (_, lost) = net.counts();
    assert!(lost > 0, "the network lost nothing: the test tests nothing");
}

/// Isolates a follower while 50 entries are written (the leader
/// snapshots every 10), heals, and returns the snapshots it restored.
async fn lagging_follower_restores(compaction_tail_entries: u64) -> u64 {
    let net = MemNetwork::new(6);
    let options = NodeOptions {
        snapshot_every_entries: 10,
        compaction_tail_entries,
        ..NodeOptions::default()
    };
    let nodes = cluster(&net, options);
    let cs = clients(&nodes);
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
    let taken = cs[(l - 1) as usize]
        .1
        .status()
        .await
        .expect("status")
        .snapshots_taken;
    assert!(taken >= 1, "the leader never snapshotted");
    net.heal();
    let journal = converge(&cs, 50).await;
    assert_eq!(journal.len(), 50);
    let s = cs[(lagging - 1) as usize].1.status().await.expect("status");
    let _ = journals(&cs).await;
    s.snapshots_restored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_follower_catches_up_from_a_snapshot() {
    let restored = lagging_follower_restores(0).await;
    assert!(restored >= 1, "the follower caught up without a snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_slightly_behind_catches_up_from_the_entries_kept_after_a_snapshot() {
    // The 100 entries kept below each snapshot cover the 50 it missed.
    let restored = lagging_follower_restores(100).await;
    assert_eq!(
        restored, 0,
        "sent a snapshot although the entries were kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_without_a_quorum_times_out() {
    let net = MemNetwork::new(7);
    let options = NodeOptions {
        read_timeout_ticks: 20,
        ..NodeOptions::default()
    };
    let nodes = cluster(&net, options);
    let cs = clients(&nodes);
    let l = leader(&cs).await;
    write(&cs, Bytes::from_static(b"before")).await;
    net.isolate(l);
    let c = &cs[(l - 1) as usize].1;
    let got = c.read(Ask::Len, Consistency::Linearizable).await;
    assert!(
        matches!(got, Err(Error::Timeout) | Err(Error::NotLeader { .. })),
        "a cut-off leader answered a linearizable read: {got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_stop_waiting_are_forgotten_and_the_rest_still_answered() {
    let net = MemNetwork::new(8);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let l = leader(&cs).await;
    write(&cs, Bytes::from_static(b"before")).await;
    // A leader cut off from its followers: its proposals wait.
    net.isolate(l);
    let c = cs[(l - 1) as usize].1.clone();
    let waiting: Vec<_> = (0..32u8)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.propose(vec![i]).await })
        })
        .collect();
    // Polls the node's count of waiting proposals until it is `want` (or
    // a second has passed); returns the last count seen.
    let in_flight_reaches = |want: usize| {
        let c = c.clone();
        async move {
            let mut seen = usize::MAX;
            for _ in 0..500 {
                seen = c
                    .status()
                    .await
                    .map_or(usize::MAX, |s| s.proposals_in_flight);
                if seen == want {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            seen
        }
    };
    let seen = in_flight_reaches(32).await;
    assert_eq!(seen, 32, "the proposals never all reached the node");
    // Half the callers give up: the node drops their calls on a tick.
    for task in &waiting[..16] {
        task.abort();
    }
    let seen = in_flight_reaches(16).await;
    assert_eq!(seen, 16, "abandoned calls were kept");
    // The others still get an answer when the node stops.
    let report = c.shutdown().await.expect("shuts down");
    assert_eq!(report.proposals_abandoned, 16);
    for task in waiting.into_iter().skip(16) {
        let answer = task.await.expect("the caller's task");
        assert_eq!(answer, Err(Error::Unknown));
    }
}
