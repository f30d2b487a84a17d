//! Membership changes and leadership transfer through the client API.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use support::{Journal, clients, cluster, converge, leader, on_leader, write};
use synod_node::memory::MemNetwork;
use synod_node::{Client, Error, NodeOptions};
use synod_protocol::{ConfChange, ConfChangeKind, Refusal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moves_where_it_is_sent_and_a_removed_voter_stops_counting() {
    let net = MemNetwork::new(61);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    write(&cs, Bytes::from_static(b"before")).await;

    // Transfer leadership to another voter. An election on a loaded
    // machine can move leadership first (the transfer is then refused or
    // overtaken), so the leader of the moment is asked again.
    let mut moved = None;
    for _ in 0..20 {
        let l = leader(&cs).await;
        let to = l % 3 + 1;
        if cs[(l - 1) as usize].1.transfer_leadership(to).await.is_ok()
            && leads(&cs[(to - 1) as usize].1, to).await
        {
            moved = Some((l, to));
            break;
        }
    }
    let (from, to) = moved.expect("leadership never moved where it was sent");
    // The old leader now refuses, naming a leader other than itself.
    let old = &cs[(from - 1) as usize].1;
    let mut refused = None;
    for _ in 0..500 {
        refused = Some(old.propose(Bytes::from_static(b"x")).await);
        if matches!(refused, Some(Err(Error::NotLeader { leader: Some(l) })) if l != from) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        matches!(refused, Some(Err(Error::NotLeader { leader: Some(l) })) if l != from),
        "{refused:?}"
    );
    // A transfer to a stranger is refused.
    let (_, stranger) = on_leader(&cs, |c| async move { c.transfer_leadership(42).await }).await;
    assert!(
        matches!(stranger, Err(Error::Refused(Refusal::Membership(_)))),
        "{stranger:?}"
    );

    // Remove a voter; the change answers once applied. A leader lost while
    // the change waits answers `Unknown` (it may still commit), and the
    // next leader then refuses to remove a node already gone.
    let gone = [1u64, 2, 3].into_iter().find(|&id| id != to).expect("one");
    let remove = ConfChange::single(ConfChangeKind::Remove, gone);
    let mut unknown = false;
    let mut removed = false;
    for _ in 0..20 {
        let change = remove.clone();
        match on_leader(&cs, |c| {
            let change = change.clone();
            async move { c.change_membership(change).await }
        })
        .await
        {
            (_, Ok(index)) => {
                assert!(index > 0);
                removed = true;
                break;
            }
            (_, Err(Error::Unknown)) => unknown = true,
            (_, Err(Error::Refused(Refusal::Membership(_)))) if unknown => {
                removed = true;
                break;
            }
            (_, other) => panic!("removing {gone}: {other:?}"),
        }
    }
    assert!(removed, "{gone} was never removed");
    // With the removed node cut off, the remaining two still commit.
    net.isolate(gone);
    let rest: Vec<_> = cs.iter().filter(|(id, _)| *id != gone).cloned().collect();
    for i in 0..10u32 {
        write(&rest, Bytes::from(format!("after{i}"))).await;
    }
    let journal = converge(&rest, 11).await;
    assert!(journal.contains(&Bytes::from_static(b"after9")));
    // An empty change is refused.
    let (_, empty) = on_leader(&rest, |c| async move {
        c.change_membership(ConfChange::default()).await
    })
    .await;
    assert!(
        matches!(empty, Err(Error::Refused(Refusal::Membership(_)))),
        "{empty:?}"
    );
    // Raft has no stop-signs: refused as unsupported, nothing appended.
    let stop = synod_protocol::StopSign {
        voters: vec![1, 2, 3],
        ..synod_protocol::StopSign::default()
    };
    let (_, unsupported) = on_leader(&rest, |c| {
        let stop = stop.clone();
        async move { c.propose_stop_sign(stop).await }
    })
    .await;
    assert_eq!(unsupported, Err(Error::Refused(Refusal::Unsupported)));
}

/// Whether node `id` reports itself leader within a second.
async fn leads(c: &Client<Journal>, id: u64) -> bool {
    for _ in 0..500 {
        let s = c.status().await.expect("status");
        if s.protocol.leader == Some(id) && s.protocol.role == synod_protocol::Role::Leader {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    false
}
