//! Leadership transfer and `TimeoutNow` at the edges of membership (the
//! scenarios etcd raft's transfer tests cover, written for this crate):
//! who may receive a transfer, what happens to a second one, a target
//! that needs a snapshot first, and a candidate stuck at a higher term.

use crate::common;

use common::{Cluster, msg};
use synod_raft_core::*;

fn others(c: &Cluster, leader: NodeId) -> Vec<NodeId> {
    c.nodes.keys().copied().filter(|&id| id != leader).collect()
}

/// `leader` tells `to`, in its term, to campaign now.
fn timeout_now(c: &mut Cluster, leader: NodeId, to: NodeId) {
    let term = c.node(leader).term();
    let _ = c
        .node_mut(to)
        .step(msg(leader, to, term, MessageBody::TimeoutNow));
    c.process(to);
}

#[test]
fn campaigning_while_leading_changes_nothing() {
    let mut c = Cluster::new(3, 7);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let term = c.node(leader).term();
    c.node_mut(leader).campaign();
    c.deliver(10_000);
    assert_eq!(c.node(leader).role(), Role::Leader);
    assert_eq!(c.node(leader).term(), term);
}

#[test]
fn a_transfer_to_an_unknown_node_is_refused_and_changes_nothing() {
    let mut c = Cluster::new(3, 11);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    assert_eq!(
        c.node_mut(leader).transfer_leader(9),
        Err(Error::UnknownPeer(9))
    );
    assert_eq!(c.leader(), Some(leader));
    assert!(c.propose(b"x").is_some(), "proposals still taken");
}

#[test]
fn a_learner_is_no_transfer_target_and_ignores_timeout_now() {
    let mut c = Cluster::bootstrapped(3, 9);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.add_joining_node(4);
    c.change(ConfChange::single(ConfChangeKind::AddLearner, 4))
        .unwrap();
    c.run_ticks(30);
    assert!(c.node(leader).conf_state().learners.contains(&4));
    assert!(c.node_mut(leader).transfer_leader(4).is_err());
    // A TimeoutNow that reaches it anyway (from its leader, in its term).
    timeout_now(&mut c, leader, 4);
    c.run_ticks(50);
    assert_eq!(c.node(4).role(), Role::Follower);
    assert_eq!(c.leader(), Some(leader));
}

#[test]
fn a_removed_voter_ignores_timeout_now() {
    let mut c = Cluster::new(3, 10);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let removed = others(&c, leader)[0];
    c.change(ConfChange::single(ConfChangeKind::Remove, removed))
        .unwrap();
    c.run_ticks(30);
    assert!(!c.node(leader).conf_state().voters.contains(&removed));
    let term = c.node(leader).term();
    timeout_now(&mut c, leader, removed);
    assert_ne!(c.node(removed).role(), Role::Candidate);
    assert_eq!(c.node(removed).term(), term, "no campaign, no new term");
}

#[test]
fn a_second_transfer_replaces_a_pending_one() {
    let mut c = Cluster::new(3, 12);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let [unreachable, target] = others(&c, leader)[..] else {
        unreachable!()
    };
    c.isolate(unreachable);
    c.node_mut(leader).transfer_leader(unreachable).unwrap();
    c.node_mut(leader).transfer_leader(target).unwrap();
    c.deliver(10_000);
    c.run_ticks(3);
    assert_eq!(c.leader(), Some(target));
}

#[test]
fn a_transfer_target_behind_the_compacted_log_gets_the_snapshot_first() {
    let mut c = Cluster::new(3, 13);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let target = others(&c, leader)[0];
    c.isolate(target);
    for i in 0..20 {
        c.propose(format!("v{i}").as_bytes());
    }
    c.deliver(10_000);
    c.compact(leader, 0);
    c.heal();
    c.node_mut(leader).transfer_leader(target).unwrap();
    c.deliver(10_000);
    c.run_ticks(5);
    assert_eq!(c.leader(), Some(target));
    assert!(c.installed.get(&target).copied().unwrap_or(0) > 0);
    c.check_applied_prefixes();
}

#[test]
fn no_membership_change_while_a_transfer_is_pending() {
    let mut c = Cluster::new(3, 14);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let target = others(&c, leader)[0];
    c.isolate(target);
    c.node_mut(leader).transfer_leader(target).unwrap();
    assert_eq!(
        c.node_mut(leader)
            .propose_conf_change(ConfChange::single(ConfChangeKind::Remove, target)),
        Err(Error::ProposalDropped(DropReason::Transferring {
            to: target
        }))
    );
    // The transfer gets one election timeout, then proposals resume.
    c.run_ticks(30);
    assert_eq!(c.leader(), Some(leader));
    assert!(
        c.node_mut(leader)
            .propose_conf_change(ConfChange::single(ConfChangeKind::Remove, target))
            .is_ok()
    );
}

/// With check-quorum and without pre-vote, a node cut off campaigns term
/// after term; once it rejoins, the cluster adopts its term and elects a
/// leader again (the voters' stickiness must not leave it stuck forever).
#[test]
fn a_candidate_stuck_at_a_higher_term_is_freed_on_rejoining() {
    let mut c = Cluster::with_config(3, 8, |id| Config {
        check_quorum: true,
        pre_vote: false,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let stuck = others(&c, leader)[0];
    c.isolate(stuck);
    c.run_ticks(60);
    let stuck_term = c.node(stuck).term();
    assert!(stuck_term > c.node(leader).term());
    assert_eq!(c.node(stuck).role(), Role::Candidate);
    c.heal();
    c.run_ticks(60);
    let now = c.leader().expect("a leader again");
    assert!(c.node(now).term() >= stuck_term);
    assert_eq!(c.node(stuck).leader(), Some(now));
    c.check_applied_prefixes();
}
