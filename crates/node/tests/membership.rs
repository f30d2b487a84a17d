//! Membership changes and leadership transfer through the client API.

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::{clients, cluster, converge, leader, write};
use synod_node::memory::MemNetwork;
use synod_node::{Error, NodeOptions};
use synod_protocol::{ConfChange, ConfChangeKind, Refusal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moves_where_it_is_sent_and_a_removed_voter_stops_counting() {
    let net = MemNetwork::new(61);
    let nodes = cluster(&net, NodeOptions::default());
    let cs = clients(&nodes);
    let l = leader(&cs).await;
    write(&cs, Bytes::from_static(b"before")).await;

    // Transfer leadership to another voter.
    let to = l % 3 + 1;
    let c = &cs[(l - 1) as usize].1;
    c.transfer_leadership(to)
        .await
        .expect("the transfer starts");
    let mut moved = false;
    for _ in 0..500 {
        if cs[(to - 1) as usize]
            .1
            .status()
            .await
            .expect("status")
            .protocol
            .leader
            == Some(to)
            && cs[(to - 1) as usize]
                .1
                .status()
                .await
                .expect("status")
                .protocol
                .role
                == synod_protocol::Role::Leader
        {
            moved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(moved, "leadership did not move to {to}");
    // The old leader now refuses with the new one's name.
    let mut refused = None;
    for _ in 0..500 {
        refused = Some(c.propose(Bytes::from_static(b"x")).await);
        if refused == Some(Err(Error::NotLeader { leader: Some(to) })) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(refused, Some(Err(Error::NotLeader { leader: Some(to) })));
    // A transfer to a stranger is refused.
    let new = &cs[(to - 1) as usize].1;
    assert!(matches!(
        new.transfer_leadership(42).await,
        Err(Error::Refused(Refusal::Membership(_)))
    ));

    // Remove a follower; the change answers once applied.
    let gone = [1u64, 2, 3].into_iter().find(|&id| id != to).expect("one");
    let index = new
        .change_membership(ConfChange::single(ConfChangeKind::Remove, gone))
        .await
        .expect("the change is applied");
    assert!(index > 0);
    // With the removed node cut off, the remaining two still commit.
    net.isolate(gone);
    let rest: Vec<_> = cs.iter().filter(|(id, _)| *id != gone).cloned().collect();
    for i in 0..10u32 {
        write(&rest, Bytes::from(format!("after{i}"))).await;
    }
    let journal = converge(&rest, 11).await;
    assert!(journal.contains(&Bytes::from_static(b"after9")));
    // A second change while none is pending is taken; an invalid one is refused.
    assert!(matches!(
        new.change_membership(ConfChange::default()).await,
        Err(Error::Refused(Refusal::Membership(_)))
    ));
    // Raft has no stop-signs: refused as unsupported, nothing appended.
    let stop = synod_protocol::StopSign {
        voters: vec![1, 2, 3],
        ..synod_protocol::StopSign::default()
    };
    assert_eq!(
        new.propose_stop_sign(stop).await,
        Err(Error::Refused(Refusal::Unsupported))
    );
}
