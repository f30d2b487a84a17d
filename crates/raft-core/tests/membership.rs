//! Membership changes: learners (add, promote, remove), single-server
//! changes, joint consensus with automatic leave (Raft §6), and step-down
//! of a removed leader.

mod common;

use ConfChangeKind::*;
use common::Cluster;
use synod_raft_core::*;

fn changes(list: &[(ConfChangeKind, NodeId)]) -> ConfChange {
    ConfChange {
        changes: list
            .iter()
            .map(|&(kind, node)| ConfChangeSingle { kind, node })
            .collect(),
    }
}

/// Starts nodes 4 and 5, adds them as learners, and returns the change
/// that swaps the two followers of `leader` for them (two voters at once:
/// a joint configuration).
fn learners_4_5_and_swap(c: &mut Cluster, leader: NodeId) -> ConfChange {
    let gone: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    c.add_joining_node(4);
    c.add_joining_node(5);
    c.change(changes(&[(AddLearner, 4), (AddLearner, 5)]))
        .unwrap();
    changes(&[
        (AddVoter, 4),
        (AddVoter, 5),
        (Remove, gone[0]),
        (Remove, gone[1]),
    ])
}

fn voters(c: &Cluster, id: NodeId) -> Vec<NodeId> {
    c.node(id).conf_state().voters
}

#[test]
fn a_learner_joins_catches_up_and_is_promoted() {
    let mut c = Cluster::bootstrapped(3, 51);
    c.run_ticks(30);
    for i in 0..5u8 {
        c.propose(&[i]).unwrap();
    }
    c.add_joining_node(4);
    c.change(ConfChange::single(AddLearner, 4)).unwrap();
    c.run_ticks(5);
    assert_eq!(c.node(4).conf_state().learners, vec![4]);
    assert_eq!(
        c.applied[&4].len(),
        5,
        "the learner received and applied the log"
    );
    let leader = c.leader().unwrap();
    assert_ne!(leader, 4);

    // A learner does not count: with both other voters cut off, the
    // leader commits nothing even though the learner acknowledges.
    let others: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    for &o in &others {
        c.cut.insert((leader, o));
    }
    let before = c.node(leader).log().committed();
    c.node_mut(leader).propose(b"x".to_vec()).unwrap();
    c.deliver(10_000);
    assert_eq!(c.node(leader).log().committed(), before);
    c.heal();
    c.run_ticks(3);

    c.change(ConfChange::single(AddVoter, 4)).unwrap();
    for id in 1..=4 {
        assert_eq!(voters(&c, id), vec![1, 2, 3, 4], "node {id}");
        assert!(c.node(id).conf_state().learners.is_empty());
    }
    c.check_applied_prefixes();
}

// Raft §6: a leader removed from the configuration steps down once the
// change commits, and the remaining voters elect a leader among them.
#[test]
fn a_removed_leader_steps_down() {
    let mut c = Cluster::bootstrapped(3, 52);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.change(ConfChange::single(Remove, leader)).unwrap();
    assert_ne!(c.node(leader).role(), Role::Leader);
    c.run_ticks(40);
    let new = c.leader().expect("the remaining voters elect one");
    assert_ne!(new, leader);
    assert!(!voters(&c, new).contains(&leader));
    c.propose(b"after").unwrap();
    c.run_ticks(3);
    let rest: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    for id in rest {
        assert_eq!(
            c.applied[&id].last().map(|e| e.1.clone()),
            Some(b"after".to_vec())
        );
    }
    c.run_ticks(50);
    assert_ne!(
        c.node(leader).role(),
        Role::Leader,
        "a removed node never campaigns"
    );
}

// Raft §6: replacing two voters at once enters C_old,new, which the leader
// leaves automatically; every node ends in C_new.
#[test]
fn joint_consensus_enters_and_leaves_automatically() {
    let mut c = Cluster::bootstrapped(3, 53);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let replace = learners_4_5_and_swap(&mut c, leader);
    c.change(replace).unwrap();
    c.run_ticks(5);
    let mut expected = vec![leader, 4, 5];
    expected.sort_unstable();
    for id in [leader, 4, 5] {
        let cs = c.node(id).conf_state();
        assert_eq!(cs.voters, expected, "node {id}");
        assert!(
            cs.voters_outgoing.is_empty(),
            "node {id} left the joint configuration"
        );
    }
    c.propose(b"new config").unwrap();
    c.run_ticks(3);
    for id in [4, 5] {
        assert_eq!(
            c.applied[&id].last().map(|e| e.1.clone()),
            Some(b"new config".to_vec())
        );
    }
    c.check_applied_prefixes();
}

// In C_old,new both halves must agree (Raft §6): with the new half lacking
// a quorum, neither the leave entry nor anything else commits, and the
// configuration stays joint until the new half is back.
#[test]
fn joint_leave_waits_when_one_half_lacks_a_quorum() {
    let mut c = Cluster::bootstrapped(3, 54);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let replace = learners_4_5_and_swap(&mut c, leader);
    // Cut the leader from 4 and 5 before entering the joint configuration:
    // the old half {1,2,3} can commit the entering entry, the new half
    // {leader,4,5} cannot commit the leave.
    c.cut.insert((leader, 4));
    c.cut.insert((leader, 5));
    let leader_node = c.node_mut(leader);
    leader_node.propose_conf_change(replace).unwrap();
    c.deliver(10_000);
    c.run_ticks(3);
    let cs = c.node(leader).conf_state();
    assert!(
        !cs.voters_outgoing.is_empty(),
        "joint: the leave cannot commit"
    );
    let committed = c.node(leader).log().committed();
    let _ = c.node_mut(leader).propose(b"stuck".to_vec());
    c.deliver(10_000);
    assert_eq!(
        c.node(leader).log().committed(),
        committed,
        "nothing commits without the new half"
    );
    assert_eq!(
        c.node_mut(leader)
            .propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::InvalidConfChange("another change is in progress"))
    );
    c.heal();
    c.run_ticks(5);
    let leader = c.leader().unwrap();
    let cs = c.node(leader).conf_state();
    assert!(
        cs.voters_outgoing.is_empty(),
        "left once the new half is back"
    );
    assert_eq!(cs.voters.len(), 3);
    c.check_applied_prefixes();
}

#[test]
fn invalid_changes_get_typed_errors() {
    let mut c = Cluster::bootstrapped(3, 55);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let n = c.node_mut(leader);
    assert_eq!(
        n.propose_conf_change(ConfChange::default()),
        Err(Error::InvalidConfChange("no changes"))
    );
    assert!(matches!(
        n.propose_conf_change(ConfChange::single(AddVoter, 0)),
        Err(Error::InvalidConfChange(_))
    ));
    let dup = ConfChange {
        changes: vec![
            ConfChangeSingle {
                kind: AddVoter,
                node: 7,
            },
            ConfChangeSingle {
                kind: Remove,
                node: 7,
            },
        ],
    };
    assert!(matches!(
        n.propose_conf_change(dup),
        Err(Error::InvalidConfChange(_))
    ));
    let all = ConfChange {
        changes: (1..=3)
            .map(|node| ConfChangeSingle { kind: Remove, node })
            .collect(),
    };
    assert!(matches!(
        n.propose_conf_change(all),
        Err(Error::InvalidConfChange(_))
    ));
    assert!(matches!(
        n.propose_conf_change(ConfChange::single(AddLearner, follower)),
        Err(Error::InvalidConfChange(_))
    ));
    n.propose_conf_change(ConfChange::single(AddLearner, 8))
        .unwrap();
    assert_eq!(
        n.propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::InvalidConfChange("another change is in progress"))
    );
    assert!(matches!(
        c.node_mut(follower)
            .propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::ProposalDropped(_))
    ));
}

// Vote requests from strangers are ignored; a leader's appends are not (a
// joining node learns of the cluster that way).
#[test]
fn strangers_may_lead_but_not_vote() {
    let mut c = Cluster::bootstrapped(3, 56);
    let term = c.node(1).term();
    let ask = Message {
        from: 9,
        to: 1,
        term: 5,
        body: MessageBody::VoteRequest {
            pre_vote: false,
            last_index: 9,
            last_term: 5,
            transfer: false,
        },
    };
    assert_eq!(c.node_mut(1).step(ask), Err(Error::UnknownPeer(9)));
    assert_eq!(
        c.node(1).term(),
        term,
        "the stranger's term was not adopted"
    );
}

// A leadership transfer to a node that is removed meanwhile is abandoned.
#[test]
fn removing_the_transfer_target_abandons_the_transfer() {
    let mut c = Cluster::bootstrapped(3, 57);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let target = (1..=3).find(|&id| id != leader).unwrap();
    // Keep the target behind so the transfer cannot finish at once.
    c.cut.insert((leader, target));
    let index = c
        .node_mut(leader)
        .propose_conf_change(ConfChange::single(Remove, target))
        .unwrap();
    c.node_mut(leader).transfer_leader(target).unwrap();
    assert_eq!(c.node(leader).status().transferee, Some(target));
    c.deliver(10_000);
    c.run_ticks(2);
    assert!(c.node(leader).log().committed() >= index);
    assert_eq!(c.node(leader).status().transferee, None);
    assert_eq!(c.leader(), Some(leader));
    assert!(!voters(&c, leader).contains(&target));
}
