//! Reconfiguration: membership changes are entries in force from the moment
//! a node holds them, one change at a time, only once the leader decided an
//! entry of its own ballot; a change of several voters passes through a
//! joint configuration in which both majorities must agree, left by the
//! leader once decided; new nodes join as learners and are made voters
//! once they hold every decided entry; a removed leader steps down; a
//! restarted node replays the changes after its snapshot; a snapshot
//! records the members at its own index.

use crate::support;

use ConfChangeKind::{AddLearner, AddVoter, Remove};
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::Cluster;
use synod_paxos_core::*;
use synod_protocol::{Protocol, Refusal, Role as AnyRole};

const TIMEOUT: u32 = 10;

fn config(id: NodeId) -> Config {
    Config {
        election_timeout_ticks: TIMEOUT,
        ..Config::new(id)
    }
}

fn add(node: NodeId) -> ConfChange {
    ConfChange::single(ConfChangeKind::AddVoter, node)
}

fn remove(node: NodeId) -> ConfChange {
    ConfChange::single(ConfChangeKind::Remove, node)
}

/// One change of several nodes.
fn changes_of(list: &[(ConfChangeKind, NodeId)]) -> ConfChange {
    ConfChange {
        changes: list
            .iter()
            .map(|&(kind, node)| ConfChangeSingle { kind, node })
            .collect(),
    }
}

/// The membership changes in node `id`'s log, in order.
fn changes(c: &Cluster, id: NodeId) -> Vec<ConfChange> {
    let n = &c.nodes[&id];
    let last = n.storage().last_index().unwrap();
    n.storage()
        .entries(2, last + 1, u64::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.payload {
            Payload::ConfChange(cc) => Some(cc),
            _ => None,
        })
        .collect()
}

/// Proposes `cc` on leader `l` and sends what it wrote; the entry's index
/// and ballot round.
fn propose_change(c: &mut Cluster, l: NodeId, cc: ConfChange) -> (Index, u64) {
    let at = c.nodes.get_mut(&l).unwrap().change_membership(cc).unwrap();
    c.drive(l);
    at
}

/// A leader that has decided an entry of its ballot.
fn settled_leader(c: &mut Cluster) -> NodeId {
    let l = c.until_leader(300);
    c.ticks(5);
    l
}

#[test]
fn a_new_node_joins_as_a_learner_then_votes_once_caught_up() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(4, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        for i in 0..20 {
            let _ = i;
            assert!(c.propose(l, b"before"));
        }
        assert_eq!(c.nodes[&4].status().role, AnyRole::Learner);
        let (index, _) = propose_change(&mut c, l, add(4));
        c.ticks(30);
        for n in c.nodes.values() {
            assert_eq!(n.voters(), &[1, 2, 3, 4], "seed {seed} node {}", n.id());
            assert!(n.learners().is_empty());
        }
        // First a learner, then a voter: two entries, in that order.
        assert_eq!(
            changes(&c, l),
            vec![ConfChange::single(ConfChangeKind::AddLearner, 4), add(4)],
            "seed {seed}"
        );
        assert!(c.nodes[&4].decided() >= index);
        // The four of them go on without the old leader.
        c.isolate(l);
        let mut next = None;
        for _ in 0..300 {
            c.tick();
            next = c.leader().filter(|&n| n != l);
            if next.is_some() {
                break;
            }
        }
        let next = next.expect("a leader among the other three");
        assert!(c.propose(next, b"after"));
        c.ticks(5);
        assert!(c.nodes[&4].decided() > index, "seed {seed}");
    }
}

#[test]
fn a_removed_leader_steps_down_and_the_rest_go_on() {
    for seed in 0..10 {
        let mut c = Cluster::new(4, seed, config);
        let l = settled_leader(&mut c);
        propose_change(&mut c, l, remove(l));
        c.ticks(100);
        let rest: Vec<NodeId> = (1..=4).filter(|&n| n != l).collect();
        for &n in &rest {
            assert_eq!(c.nodes[&n].voters(), &rest[..], "seed {seed}");
        }
        assert_eq!(c.nodes[&l].role(), Role::Follower);
        assert_eq!(c.nodes[&l].status().role, AnyRole::Learner);
        let next = c.leader().expect("a leader among the rest");
        assert_ne!(next, l);
        assert!(c.propose(next, b"after"));
        c.ticks(5);
        let d = c.nodes[&next].decided();
        assert!(
            rest.iter().all(|n| c.nodes[n].decided() == d),
            "seed {seed}"
        );
    }
}

#[test]
fn changes_are_refused_when_they_cannot_be_made_safely() {
    let mut c = Cluster::new(3, 1, config);
    let l = c.until_leader(300);
    let follower = if l == 1 { 2 } else { 1 };
    let n = c.nodes.get_mut(&l).unwrap();
    // Before this leader decided an entry of its own ballot.
    assert!(matches!(
        n.change_membership(remove(follower)),
        Err(ProposeError::Membership(_))
    ));
    c.ticks(5);
    let f = c.nodes.get_mut(&follower).unwrap();
    assert!(matches!(
        f.change_membership(remove(3)),
        Err(ProposeError::NotLeader { .. })
    ));
    let n = c.nodes.get_mut(&l).unwrap();
    let refused =
        |r: Result<(Index, u64), ProposeError>| matches!(r, Err(ProposeError::Membership(_)));
    assert!(refused(n.change_membership(ConfChange::default())), "empty");
    assert!(refused(n.change_membership(add(l))), "already a voter");
    assert!(
        refused(n.change_membership(ConfChange::single(ConfChangeKind::AddLearner, follower))),
        "demoting a voter"
    );
    assert!(refused(n.change_membership(remove(9))), "not a member");
    assert!(refused(n.change_membership(add(0))), "node 0");
    assert!(
        refused(n.change_membership(add(MAX_NODE_ID + 1))),
        "id out of range"
    );
    assert!(
        refused(n.change_membership(changes_of(&[(Remove, 1), (Remove, 2), (Remove, 3)]))),
        "no voters left"
    );
    assert!(
        refused(n.change_membership(changes_of(&[(AddVoter, 7), (AddLearner, 7)]))),
        "a joining voter demoted in the same change"
    );
    // One at a time: a second change waits for the first to be decided.
    n.change_membership(ConfChange::single(ConfChangeKind::AddLearner, 7))
        .unwrap();
    assert!(refused(n.change_membership(ConfChange::single(
        ConfChangeKind::AddLearner,
        8
    ))));
    // Through the protocol trait: the same refusal, typed.
    assert!(matches!(
        Protocol::change_membership(n, ConfChange::single(ConfChangeKind::AddLearner, 8)),
        Err(Refusal::Membership(_))
    ));
    // Flexible quorums are fixed sizes: no membership change.
    let mut f = Cluster::new(3, 2, |id| Config {
        phase1_quorum: Some(3),
        phase2_quorum: Some(1),
        ..config(id)
    });
    let fl = settled_leader(&mut f);
    assert!(refused(f.nodes.get_mut(&fl).unwrap().change_membership(
        ConfChange::single(ConfChangeKind::AddLearner, 7)
    )));
}

#[test]
fn a_restarted_node_replays_the_decided_changes_and_snapshots_record_their_own_members() {
    let mut c = Cluster::with_voters(4, &[1, 2, 3], 3, config);
    let l = settled_leader(&mut c);
    let before = c.nodes[&l].conf_state();
    assert_eq!(before.voters, vec![1, 2, 3]);
    propose_change(&mut c, l, add(4));
    c.ticks(30);
    assert_eq!(c.nodes[&l].voters(), &[1, 2, 3, 4]);
    assert_eq!(c.nodes[&l].conf_state().voters, vec![1, 2, 3, 4]);
    // Restart every node from its storage (no snapshot: the bootstrap
    // configuration is [1, 2, 3]); each replays the changes it decided.
    for id in 1..=4 {
        let storage = c.nodes[&id].storage().clone();
        let n = PaxosNode::new(config(id), storage, StdRng::seed_from_u64(99 + id)).unwrap();
        assert_eq!(n.voters(), &[1, 2, 3, 4], "node {id} after restart");
        c.nodes.insert(id, n);
    }
    let l = c.until_leader(300);
    assert!(c.propose(l, b"after restart"));
    c.ticks(5);
}

#[test]
fn the_members_a_snapshot_records_are_those_at_the_applied_index() {
    // A node that decided a change but has not applied it reports the
    // members before it (a snapshot taken at its applied index must not
    // claim the change).
    let mut n = PaxosNode::new(
        config(1),
        MemStorage::bootstrap(&[1]),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    let mut applied = 0;
    let mut step = |n: &mut PaxosNode<MemStorage, StdRng>, apply: bool| {
        while n.has_ready() {
            let r = n.ready().unwrap();
            n.storage_mut().apply_write(r.write).unwrap();
            n.on_written(r.after_write.written().receipt);
            if apply && let Some(last) = r.committed.last() {
                applied = last.index;
                n.on_applied(applied);
            }
        }
    };
    step(&mut n, true);
    assert_eq!(n.role(), Role::Leader);
    n.change_membership(ConfChange::single(ConfChangeKind::AddLearner, 2))
        .unwrap();
    step(&mut n, false);
    assert_eq!(n.learners(), &[2], "decided: in force");
    assert!(
        n.conf_state().learners.is_empty(),
        "not applied: not in a snapshot"
    );
    n.on_applied(n.decided());
    assert_eq!(n.conf_state().learners, vec![2]);
}

/// The leader among `among`, if one leads there.
fn leader_among(c: &Cluster, among: &[NodeId]) -> Option<NodeId> {
    among
        .iter()
        .copied()
        .find(|n| c.nodes[n].role() == Role::Leader)
}

/// Ticks one at a time (at most `budget`) until node `id`'s voters
/// include `node`.
fn until_voter(c: &mut Cluster, id: NodeId, node: NodeId, budget: u64) -> bool {
    for _ in 0..budget {
        if c.nodes[&id].voters().contains(&node) {
            return true;
        }
        c.tick();
    }
    false
}

// A voter that missed its own promotion (its log still says learner)
// must still be heard: the others count it in their quorums. Here node 5
// is promoted while cut off, then the leader and one more voter are lost:
// the two voters left reach a quorum of five only with node 5's beats and
// promises. (Before every node beat, node 5 stayed silent as a learner and
// the cluster never elected again: liveness seed 229706462200169.)
#[test]
fn a_voter_that_missed_its_promotion_still_counts_toward_an_election() {
    let mut exercised = 0;
    for seed in 0..10 {
        let mut c = Cluster::with_voters(5, &[1, 2, 3, 4], seed, config);
        let l = settled_leader(&mut c);
        propose_change(&mut c, l, add(5));
        // The leader appends the promotion once node 5 caught up; node 5
        // is cut off before the entry reaches it.
        assert!(until_voter(&mut c, l, 5, 300), "seed {seed}: no promotion");
        if c.nodes[&5].voters().contains(&5) {
            continue;
        }
        c.isolate(5);
        c.ticks(30);
        assert_eq!(c.nodes[&l].voters(), &[1, 2, 3, 4, 5], "seed {seed}");
        let last = c.nodes[&l].storage().last_index().unwrap();
        assert_eq!(c.nodes[&l].decided(), last, "seed {seed}");
        assert_eq!(c.nodes[&5].voters(), &[1, 2, 3, 4], "seed {seed}");
        exercised += 1;
        // Lose the leader and one more voter; node 5 comes back.
        let v = (1..=4).find(|&n| n != l).unwrap();
        c.heal();
        c.isolate(l);
        c.isolate(v);
        let rest: Vec<NodeId> = (1..=5).filter(|&n| n != l && n != v).collect();
        c.ticks(400);
        let next = leader_among(&c, &rest).unwrap_or_else(|| panic!("seed {seed}: no leader"));
        assert_ne!(next, 5);
        assert!(c.propose(next, b"after"));
        c.ticks(10);
        let d = c.nodes[&next].decided();
        for n in &rest {
            assert_eq!(c.nodes[n].decided(), d, "seed {seed} node {n}");
        }
        assert_eq!(c.nodes[&5].voters(), &[1, 2, 3, 4, 5], "seed {seed}");
    }
    assert!(exercised >= 5, "only {exercised} seeds cut node 5 in time");
}

// A node holding an undecided change that removes it must still be heard
// while the others' logs count it. Here the leader appends its own removal
// and is cut off at once, with one more voter; the leader comes back: the
// two other voters reach a quorum of four only with the old leader's
// beats and promises (which carry its removal, adopted by the new leader).
#[test]
fn a_node_holding_its_own_undecided_removal_still_counts_toward_an_election() {
    for seed in 0..10 {
        let mut c = Cluster::new(4, seed, config);
        let l = settled_leader(&mut c);
        let v = (1..=4).find(|&n| n != l).unwrap();
        c.nodes
            .get_mut(&l)
            .unwrap()
            .change_membership(remove(l))
            .unwrap();
        // Nothing the old leader sends from now on arrives.
        c.isolate(l);
        c.isolate(v);
        c.drive(l);
        assert!(!c.nodes[&l].voters().contains(&l), "seed {seed}");
        c.ticks(100);
        let rest: Vec<NodeId> = (1..=4).filter(|&n| n != l && n != v).collect();
        assert_eq!(leader_among(&c, &rest), None, "seed {seed}: 2 of 4 elected");
        // The old leader comes back, still removed in its own log only.
        c.heal();
        c.isolate(v);
        c.ticks(400);
        let next = leader_among(&c, &rest).unwrap_or_else(|| panic!("seed {seed}: no leader"));
        assert!(c.propose(next, b"after"));
        c.ticks(10);
        let d = c.nodes[&next].decided();
        assert!(
            rest.iter().all(|n| c.nodes[n].decided() == d),
            "seed {seed}"
        );
        assert_eq!(c.nodes[&l].status().role, AnyRole::Learner, "seed {seed}");
    }
}

// A voter that missed the changes adding a node must still let that node
// lead. Here node 4 is added and the leader removed while one voter is
// cut off; then the one voter that knows everything goes down: the lagging
// voter (which still counts the removed leader, not node 4) and node 4
// are a majority of the new voters and must elect one of them.
#[test]
fn a_lagging_voter_and_a_node_added_behind_its_back_elect_a_leader() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(4, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        let others: Vec<NodeId> = (1..=3).filter(|&n| n != l).collect();
        let (steady, lagging) = (others[0], others[1]);
        c.isolate(lagging);
        propose_change(&mut c, l, add(4));
        assert!(until_voter(&mut c, l, 4, 300), "seed {seed}: no promotion");
        c.ticks(10);
        propose_change(&mut c, l, remove(l));
        c.ticks(100);
        let mut new = [steady, lagging, 4];
        new.sort_unstable();
        assert_eq!(c.nodes[&4].voters(), &new[..], "seed {seed}");
        assert!(!c.nodes[&lagging].voters().contains(&4), "seed {seed}");
        c.heal();
        c.isolate(steady);
        c.ticks(400);
        let next = leader_among(&c, &[lagging, 4])
            .unwrap_or_else(|| panic!("seed {seed}: no leader among {lagging} and 4"));
        assert!(c.propose(next, b"after"));
        c.ticks(10);
        assert_eq!(c.nodes[&lagging].voters(), &new[..], "seed {seed}");
        assert_eq!(
            c.nodes[&lagging].decided(),
            c.nodes[&4].decided(),
            "seed {seed}"
        );
    }
}

// Joint consensus (Raft §6, here in the Paxos log): a change of several
// voters at once is in force from the moment a node holds it, and until
// the leader leaves it with an empty change, every quorum needs a
// majority of the new voters and one of the old.

/// The voters of `[1, 2, 3]` other than `l`.
fn old_voters_but(l: NodeId) -> Vec<NodeId> {
    [1, 2, 3].into_iter().filter(|&n| n != l).collect()
}

#[test]
fn several_voters_change_at_once_through_a_joint_configuration() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(5, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        assert!(c.propose(l, b"before"));
        let gone = old_voters_but(l);
        let cc = changes_of(&[
            (AddVoter, 4),
            (AddVoter, 5),
            (Remove, gone[0]),
            (Remove, gone[1]),
        ]);
        propose_change(&mut c, l, cc.clone());
        c.ticks(60);
        let mut want = [l, 4, 5];
        want.sort_unstable();
        for id in [l, 4, 5] {
            let n = &c.nodes[&id];
            assert_eq!(n.voters(), &want[..], "seed {seed} node {id}");
            assert!(n.voters_outgoing().is_empty(), "seed {seed}: left");
            assert!(n.learners().is_empty(), "seed {seed}");
        }
        // The new nodes as learners first, then the change (entering the
        // joint configuration), then the leader's empty change leaving it.
        assert_eq!(
            changes(&c, l),
            vec![
                changes_of(&[(AddLearner, 4), (AddLearner, 5)]),
                cc,
                ConfChange::default()
            ],
            "seed {seed}"
        );
        // The removed voters have no say any more.
        for &g in &gone {
            c.isolate(g);
        }
        assert_eq!(c.nodes[&l].role(), Role::Leader, "seed {seed}");
        assert!(c.propose(l, b"after"));
        c.ticks(5);
        let d = c.nodes[&l].decided();
        assert_eq!(c.term(l, d), c.term(4, d), "seed {seed}");
        assert!(
            [4, 5].iter().all(|n| c.nodes[n].decided() == d),
            "seed {seed}"
        );
    }
}

/// Enters the joint configuration `{1, 2, 3} -> {l, 4, 5}` (4 and 5
/// already learners) while the leader `l` is cut off from the two other
/// old voters, and ticks less than an election timeout. Returns the
/// cluster, the leader and the joint entry's index.
fn joint_change_without_the_old_majority(
    seed: u64,
    config: impl Fn(NodeId) -> Config,
) -> (Cluster, NodeId, Index) {
    let mut c = Cluster::with_voters(5, &[1, 2, 3], seed, config);
    let l = settled_leader(&mut c);
    propose_change(&mut c, l, changes_of(&[(AddLearner, 4), (AddLearner, 5)]));
    c.ticks(10);
    assert_eq!(c.nodes[&l].learners(), &[4, 5], "seed {seed}");
    let old = old_voters_but(l);
    for &o in &old {
        c.cut.insert((l, o));
        c.cut.insert((o, l));
    }
    let cc = changes_of(&[
        (AddVoter, 4),
        (AddVoter, 5),
        (Remove, old[0]),
        (Remove, old[1]),
    ]);
    let (index, _) = propose_change(&mut c, l, cc);
    c.ticks(3);
    (c, l, index)
}

#[test]
fn a_joint_configuration_needs_the_old_majority_too() {
    for seed in 0..10 {
        let (mut c, l, index) = joint_change_without_the_old_majority(seed, config);
        // In force on the leader and on the new voters, which accepted it:
        // a majority of the new voters, but only one of the old.
        for id in [l, 4, 5] {
            assert_eq!(c.nodes[&id].voters_outgoing(), &[1, 2, 3], "seed {seed}");
            assert!(c.term(id, index).is_some(), "seed {seed}");
        }
        assert!(
            c.nodes[&l].decided() < index,
            "seed {seed}: decided without a majority of the old voters"
        );
        // A read needs both majorities too: not confirmed by the new.
        let rid = c.nodes.get_mut(&l).unwrap().read_index().expect("leads");
        c.drive(l);
        c.ticks(3);
        assert!(
            !c.answered.iter().any(|&(n, r, _)| n == l && r == rid),
            "seed {seed}: a read confirmed without the old voters"
        );
        // Healed, the cluster settles on one log and one configuration.
        c.heal();
        c.ticks(150);
        let leader = c.leader().expect("a leader after healing");
        assert!(c.propose(leader, b"healed"));
        c.ticks(10);
        let voters = c.nodes[&leader].voters().to_vec();
        let d = c.nodes[&leader].decided();
        for &id in &voters {
            let n = &c.nodes[&id];
            assert_eq!(n.voters(), &voters[..], "seed {seed} node {id}");
            assert!(n.voters_outgoing().is_empty(), "seed {seed} node {id}");
            assert_eq!(n.decided(), d, "seed {seed} node {id}");
            for i in 1..=d {
                assert_eq!(c.term(id, i), c.term(leader, i), "seed {seed} index {i}");
            }
        }
    }
}

// Teeth for the test above: the planted mutant that counts quorums among
// the new voters only decides the joint entry with `{l, 4, 5}`, while the
// old voters, a majority of the old configuration, could elect and decide
// without it.
#[cfg(feature = "mutations")]
#[test]
fn the_mutant_that_ignores_the_old_voters_decides_without_them() {
    use synod_paxos_core::mutation::Mutation;
    let mutant = |id| Config {
        mutation: Some(Mutation::JointCountsNewVotersOnly),
        ..config(id)
    };
    for seed in 0..10 {
        let (c, l, index) = joint_change_without_the_old_majority(seed, mutant);
        assert!(c.nodes[&l].decided() >= index, "seed {seed}");
    }
}

#[test]
fn a_leader_removed_by_a_joint_change_leads_until_it_is_left() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(5, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        let stays = old_voters_but(l)[0];
        let other = old_voters_but(l)[1];
        let cc = changes_of(&[(AddVoter, 4), (AddVoter, 5), (Remove, l), (Remove, other)]);
        propose_change(&mut c, l, cc);
        c.ticks(100);
        let mut want = vec![stays, 4, 5];
        want.sort_unstable();
        for &id in &want {
            assert_eq!(c.nodes[&id].voters(), &want[..], "seed {seed} node {id}");
            assert!(c.nodes[&id].voters_outgoing().is_empty(), "seed {seed}");
        }
        // The leave entry is the old leader's: it led through the joint
        // configuration, then stepped down once the leave was decided.
        let left = changes(&c, stays);
        assert_eq!(left.last(), Some(&ConfChange::default()), "seed {seed}");
        assert_eq!(c.nodes[&l].role(), Role::Follower, "seed {seed}");
        let next = leader_among(&c, &want).expect("a leader among the new voters");
        assert!(c.propose(next, b"after"));
        c.ticks(5);
        let d = c.nodes[&next].decided();
        assert!(
            want.iter().all(|n| c.nodes[n].decided() == d),
            "seed {seed}"
        );
    }
}

#[test]
fn changes_wait_while_a_joint_configuration_is_in_force() {
    let (mut c, l, _) = joint_change_without_the_old_majority(1, config);
    let n = c.nodes.get_mut(&l).unwrap();
    // Undecided: another change waits.
    assert!(matches!(
        n.change_membership(ConfChange::single(AddLearner, 7)),
        Err(ProposeError::Membership(_))
    ));
    c.heal();
    c.ticks(150);
    // Whatever came of it, the cluster takes changes again once settled.
    let leader = c.leader().expect("a leader");
    c.ticks(5);
    let n = c.nodes.get_mut(&leader).unwrap();
    assert!(n.voters_outgoing().is_empty());
    n.change_membership(ConfChange::single(AddLearner, 7))
        .unwrap();
}

#[test]
fn a_node_restarted_from_a_joint_snapshot_counts_both_majorities() {
    // Voters {3, 4} coming in, {1, 2} going out, as a snapshot records it.
    let conf_state = ConfState {
        voters: vec![3, 4],
        voters_outgoing: vec![1, 2],
        learners: vec![],
    };
    let mut storage = MemStorage::bootstrap(&[1, 2]);
    storage
        .apply_snapshot(Snapshot {
            meta: SnapshotMeta {
                index: 5,
                term: 1,
                conf_state: conf_state.clone(),
            },
            data: Bytes::from_static(b"state"),
        })
        .unwrap();
    let n = PaxosNode::new(config(3), storage.clone(), StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(n.voters(), &[3, 4]);
    assert_eq!(n.voters_outgoing(), &[1, 2]);
    assert_eq!(n.conf_state(), conf_state);
    // The old voters are voters still: node 1 may campaign.
    let one = PaxosNode::new(config(1), storage.clone(), StdRng::seed_from_u64(2)).unwrap();
    assert_eq!(one.status().role, AnyRole::Follower);
    // Flexible quorum sizes cannot count a joint configuration.
    let fixed = Config {
        phase1_quorum: Some(2),
        phase2_quorum: Some(1),
        ..config(3)
    };
    assert!(matches!(
        PaxosNode::new(fixed, storage, StdRng::seed_from_u64(3)),
        Err(Error::InvalidMembership(_))
    ));
}
