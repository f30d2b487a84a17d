//! Stop-signs: an entry that ends the configuration in force and names the
//! next one whole, which continues the same log. The new voters join as
//! learners first; from the moment a node holds the stop-sign until it is
//! decided, commands are refused and (when the voters change) the old and
//! the new majority must both agree; once it is decided the next voters
//! alone decide, with no leave entry, and a leader it leaves out steps
//! down.

use crate::support;

use ConfChangeKind::AddLearner;
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::Cluster;
use synod_paxos_core::*;
use synod_protocol::{Protocol, Refusal};

const TIMEOUT: u32 = 10;

fn config(id: NodeId) -> Config {
    Config {
        election_timeout_ticks: TIMEOUT,
        ..Config::new(id)
    }
}

fn stop_sign(voters: &[NodeId], learners: &[NodeId]) -> StopSign {
    StopSign {
        voters: voters.to_vec(),
        learners: learners.to_vec(),
        metadata: Bytes::from_static(b"state machine v2"),
    }
}

/// The entries of node `id`'s log from index 2 (after the bootstrap).
fn log(c: &Cluster, id: NodeId) -> Vec<Entry> {
    let s = c.nodes[&id].storage();
    let last = s.last_index().unwrap();
    s.entries(2, last + 1, u64::MAX).unwrap()
}

/// Where the stop-sign sits in node `id`'s log.
fn stop_sign_index(c: &Cluster, id: NodeId) -> Option<Index> {
    log(c, id)
        .into_iter()
        .find(|e| matches!(e.payload, Payload::StopSign(_)))
        .map(|e| e.index)
}

/// The membership changes (not stop-signs) in node `id`'s log.
fn changes(c: &Cluster, id: NodeId) -> Vec<ConfChange> {
    log(c, id)
        .into_iter()
        .filter_map(|e| match e.payload {
            Payload::ConfChange(cc) => Some(cc),
            _ => None,
        })
        .collect()
}

/// A leader that has decided an entry of its ballot.
fn settled_leader(c: &mut Cluster) -> NodeId {
    let l = c.until_leader(300);
    c.ticks(5);
    l
}

/// Proposes on leader `l` a stop-sign naming `voters` (sorted here) and
/// sends what it wrote; the entry's index.
fn propose_next(c: &mut Cluster, l: NodeId, voters: &[NodeId]) -> Index {
    let mut next = voters.to_vec();
    next.sort_unstable();
    let n = c.nodes.get_mut(&l).unwrap();
    let (index, _) = n.propose_stop_sign(stop_sign(&next, &[])).unwrap();
    c.drive(l);
    index
}

fn leader_among(c: &Cluster, among: &[NodeId]) -> Option<NodeId> {
    c.leader().filter(|l| among.contains(l))
}

#[test]
fn a_stop_sign_replaces_every_voter_and_the_next_configuration_continues_the_log() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(6, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        for _ in 0..5 {
            assert!(c.propose(l, b"before"));
        }
        propose_next(&mut c, l, &[4, 5, 6]);
        c.ticks(150);
        let next = [4, 5, 6];
        for id in next {
            let n = &c.nodes[&id];
            assert_eq!(n.voters(), &next, "seed {seed} node {id}");
            assert!(n.voters_outgoing().is_empty(), "seed {seed} node {id}");
            assert!(!n.stopping(), "seed {seed} node {id}");
        }
        // The new nodes were learners first; no leave entry follows the
        // stop-sign.
        assert_eq!(
            changes(&c, 4),
            vec![ConfChange {
                changes: next
                    .iter()
                    .map(|&node| ConfChangeSingle {
                        kind: AddLearner,
                        node
                    })
                    .collect()
            }],
            "seed {seed}"
        );
        let at = stop_sign_index(&c, 4).expect("the stop-sign");
        let held = log(&c, 4);
        assert_eq!(
            held.iter().find(|e| e.index == at).map(|e| &e.payload),
            Some(&Payload::StopSign(Box::new(stop_sign(&next, &[])))),
            "seed {seed}"
        );
        // The old leader left; the old voters have no say any more.
        assert_eq!(c.nodes[&l].role(), Role::Follower, "seed {seed}");
        for old in 1..=3 {
            c.isolate(old);
        }
        let mut leader = leader_among(&c, &next);
        for _ in 0..300 {
            if leader.is_some() {
                break;
            }
            c.tick();
            leader = leader_among(&c, &next);
        }
        let leader = leader.expect("a leader among the next voters");
        assert!(c.propose(leader, b"after"));
        c.ticks(5);
        let d = c.nodes[&leader].decided();
        assert!(d > at, "seed {seed}");
        for id in next {
            assert_eq!(c.nodes[&id].decided(), d, "seed {seed} node {id}");
            for i in 1..=d {
                assert_eq!(c.term(id, i), c.term(leader, i), "seed {seed} index {i}");
            }
        }
        // Everything before the stop-sign is the old configuration's log,
        // kept whole.
        for i in 1..=at {
            assert_eq!(c.term(l, i), c.term(leader, i), "seed {seed} index {i}");
        }
    }
}

/// Proposes a stop-sign `{1, 2, 3} -> {l, 4, 5}` (4 and 5 already
/// learners) while the leader `l` is cut off from the two other old voters,
/// and ticks less than an election timeout. Returns the cluster, the leader
/// and the stop-sign's index.
fn stop_sign_without_the_old_majority(
    seed: u64,
    config: impl Fn(NodeId) -> Config,
) -> (Cluster, NodeId, Index) {
    let mut c = Cluster::with_voters(5, &[1, 2, 3], seed, config);
    let l = settled_leader(&mut c);
    let learners = ConfChange {
        changes: [4, 5]
            .map(|node| ConfChangeSingle {
                kind: AddLearner,
                node,
            })
            .to_vec(),
    };
    c.nodes
        .get_mut(&l)
        .unwrap()
        .change_membership(learners)
        .unwrap();
    c.drive(l);
    c.ticks(10);
    assert_eq!(c.nodes[&l].learners(), &[4, 5], "seed {seed}");
    let old: Vec<NodeId> = [1, 2, 3].into_iter().filter(|&n| n != l).collect();
    for &o in &old {
        c.cut.insert((l, o));
        c.cut.insert((o, l));
    }
    let index = propose_next(&mut c, l, &[l, 4, 5]);
    c.ticks(3);
    (c, l, index)
}

#[test]
fn an_undecided_stop_sign_needs_both_majorities_and_stops_commands() {
    for seed in 0..10 {
        let (mut c, l, index) = stop_sign_without_the_old_majority(seed, config);
        for id in [l, 4, 5] {
            let n = &c.nodes[&id];
            assert_eq!(n.voters_outgoing(), &[1, 2, 3], "seed {seed} node {id}");
            assert!(n.stopping(), "seed {seed} node {id}");
            assert!(c.term(id, index).is_some(), "seed {seed}");
        }
        assert!(
            c.nodes[&l].decided() < index,
            "seed {seed}: decided without a majority of the old voters"
        );
        let n = c.nodes.get_mut(&l).unwrap();
        assert_eq!(
            n.propose(Bytes::from_static(b"x")),
            Err(ProposeError::Stopped)
        );
        assert_eq!(
            Protocol::propose(n, Bytes::from_static(b"x")),
            Err(Refusal::Busy)
        );
        assert!(matches!(
            n.change_membership(ConfChange::single(AddLearner, 7)),
            Err(ProposeError::Membership(_))
        ));
        assert!(matches!(
            n.propose_stop_sign(stop_sign(&[1, 2, 3], &[])),
            Err(ProposeError::Membership(_))
        ));
        // Healed: the stop-sign is decided (by this leader or by one that
        // adopted it), the next voters alone are in force with no leave
        // entry, and commands are taken again.
        c.heal();
        c.ticks(150);
        let leader = c.leader().expect("a leader after healing");
        c.ticks(5);
        let voters = c.nodes[&leader].voters().to_vec();
        assert!(c.propose(leader, b"healed"), "seed {seed}");
        c.ticks(10);
        let d = c.nodes[&leader].decided();
        for &id in &voters {
            let n = &c.nodes[&id];
            assert!(n.voters_outgoing().is_empty(), "seed {seed} node {id}");
            assert!(!n.stopping(), "seed {seed} node {id}");
            assert_eq!(n.decided(), d, "seed {seed} node {id}");
            assert!(
                !changes(&c, id).contains(&ConfChange::default()),
                "seed {seed}: a leave entry"
            );
        }
        if stop_sign_index(&c, leader) == Some(index) {
            assert_eq!(voters, c.nodes[&l].voters(), "seed {seed}");
        }
    }
}

// Teeth for the test above: the planted mutant that skips the joint
// configuration decides the stop-sign with `{l, 4, 5}` alone, while the
// other two old voters, a majority of the old configuration, could elect a
// leader that never saw it.
#[cfg(feature = "mutations")]
#[test]
fn the_mutant_that_skips_the_joint_configuration_decides_without_the_old_voters() {
    use synod_paxos_core::mutation::Mutation;
    let mutant = |id| Config {
        mutation: Some(Mutation::StopSignSkipsJoint),
        ..config(id)
    };
    for seed in 0..10 {
        let (c, l, index) = stop_sign_without_the_old_majority(seed, mutant);
        assert!(c.nodes[&l].decided() >= index, "seed {seed}");
    }
}

#[test]
fn a_leader_that_adopts_an_undecided_stop_sign_decides_it_with_its_own_entry() {
    for seed in 0..10 {
        let (mut c, l, index) = stop_sign_without_the_old_majority(seed, config);
        // The old leader is lost, and the two other old voters cannot reach
        // each other, so neither can win the old majority alone: the leader
        // comes from 4 or 5, must win both majorities, adopts the
        // stop-sign and decides it with an entry of its own ballot. (Had
        // the two old voters elected one of them, the stop-sign, never
        // decided, would have been replaced: that is Paxos too.)
        c.isolate(l);
        let old: Vec<NodeId> = [1, 2, 3].into_iter().filter(|&n| n != l).collect();
        c.cut.insert((old[0], old[1]));
        c.cut.insert((old[1], old[0]));
        let mut leader = None;
        for _ in 0..400 {
            c.tick();
            leader = c.leader().filter(|&n| n != l);
            if leader.is_some_and(|n| c.nodes[&n].decided() >= index) {
                break;
            }
        }
        let leader = leader.expect("a leader without the old one");
        c.ticks(20);
        let mut next = [l, 4, 5];
        next.sort_unstable();
        for id in [4, 5] {
            let n = &c.nodes[&id];
            assert!(n.decided() >= index, "seed {seed} node {id}");
            assert_eq!(stop_sign_index(&c, id), Some(index), "seed {seed}");
            assert_eq!(n.voters(), &next[..], "seed {seed} node {id}");
            assert!(n.voters_outgoing().is_empty(), "seed {seed} node {id}");
        }
        // Once decided, the leader goes on with the next voters only if
        // it is one of them; otherwise 4 and 5 (a majority of the next
        // voters) elect one.
        let leader = if next.contains(&leader) {
            leader
        } else {
            for _ in 0..300 {
                if leader_among(&c, &[4, 5]).is_some() {
                    break;
                }
                c.tick();
            }
            leader_among(&c, &[4, 5]).expect("a leader among 4 and 5")
        };
        c.ticks(5);
        assert!(c.propose(leader, b"after"), "seed {seed}");
        c.ticks(5);
        assert!(c.nodes[&4].decided() > index, "seed {seed}");
    }
}

#[test]
fn a_stop_sign_that_keeps_the_voters_stops_commands_until_decided() {
    let mut c = Cluster::with_voters(4, &[1, 2, 3], 7, config);
    let l = settled_leader(&mut c);
    let n = c.nodes.get_mut(&l).unwrap();
    let (index, _) = n.propose_stop_sign(stop_sign(&[1, 2, 3], &[4])).unwrap();
    // The same voters: no joint configuration, but the stop holds.
    assert!(n.voters_outgoing().is_empty());
    assert!(n.stopping());
    assert_eq!(
        n.propose(Bytes::from_static(b"x")),
        Err(ProposeError::Stopped)
    );
    c.drive(l);
    c.ticks(5);
    let n = &c.nodes[&l];
    assert!(n.decided() >= index);
    assert!(!n.stopping());
    assert_eq!(n.learners(), &[4]);
    assert!(c.propose(l, b"after"));
    c.ticks(5);
    assert!(c.nodes[&4].decided() > index);
}

#[test]
fn invalid_stop_signs_are_refused_with_a_reason() {
    let mut c = Cluster::new(3, 1, config);
    let l = settled_leader(&mut c);
    let follower = (1..=3).find(|&n| n != l).unwrap();
    assert!(matches!(
        c.nodes
            .get_mut(&follower)
            .unwrap()
            .propose_stop_sign(stop_sign(&[1], &[])),
        Err(ProposeError::NotLeader { .. })
    ));
    let n = c.nodes.get_mut(&l).unwrap();
    for bad in [
        stop_sign(&[], &[4]),
        stop_sign(&[0, 1], &[]),
        stop_sign(&[1, MAX_NODE_ID + 1], &[]),
        stop_sign(&[1, 2, 2], &[]),
        stop_sign(&[1, 2], &[2]),
        stop_sign(&[1, 2], &[4, 4]),
        stop_sign(&[u64::MAX], &[]),
    ] {
        let before = n.storage().last_index().unwrap();
        assert!(
            matches!(
                n.propose_stop_sign(bad.clone()),
                Err(ProposeError::Membership(_))
            ),
            "{bad:?}"
        );
        assert_eq!(n.storage().last_index().unwrap(), before);
        assert!(!n.stopping());
    }
    // Fixed phase quorum sizes cannot count a joint configuration.
    let fixed = |id| Config {
        phase1_quorum: Some(2),
        phase2_quorum: Some(2),
        ..config(id)
    };
    let mut c = Cluster::new(3, 2, fixed);
    let l = settled_leader(&mut c);
    assert!(matches!(
        c.nodes
            .get_mut(&l)
            .unwrap()
            .propose_stop_sign(stop_sign(&[1, 2, 3], &[])),
        Err(ProposeError::Membership(_))
    ));
}

#[test]
fn a_restarted_node_replays_a_stop_sign_decided_or_not() {
    // Decided: the next voters alone after a restart, and a snapshot's
    // members say so.
    let mut c = Cluster::with_voters(5, &[1, 2, 3], 4, config);
    let l = settled_leader(&mut c);
    let mut next = vec![l, 4, 5];
    next.sort_unstable();
    propose_next(&mut c, l, &next);
    c.ticks(60);
    for id in 1..=5 {
        let before = &c.nodes[&id];
        if next.contains(&id) {
            // What a snapshot at the applied index would record.
            assert_eq!(before.conf_state().voters, next, "node {id}");
            assert!(before.conf_state().voters_outgoing.is_empty(), "node {id}");
        }
        let storage = before.storage().clone();
        let n = PaxosNode::new(config(id), storage, StdRng::seed_from_u64(70 + id)).unwrap();
        if next.contains(&id) {
            assert_eq!(n.voters(), &next[..], "node {id}");
            assert!(n.voters_outgoing().is_empty(), "node {id}");
            assert!(!n.stopping(), "node {id}");
        }
        c.nodes.insert(id, n);
    }
    let leader = {
        let mut found = None;
        for _ in 0..300 {
            c.tick();
            found = leader_among(&c, &next);
            if found.is_some() {
                break;
            }
        }
        found.expect("a leader among the next voters after restarts")
    };
    c.ticks(5);
    assert!(c.propose(leader, b"after restart"));

    // Not decided: the joint configuration and the stop after a restart.
    let (c, l, index) = stop_sign_without_the_old_majority(3, config);
    let storage = c.nodes[&4].storage().clone();
    assert!(storage.term(index).is_ok());
    let n = PaxosNode::new(config(4), storage, StdRng::seed_from_u64(9)).unwrap();
    assert!(n.decided() < index);
    assert!(n.stopping());
    assert_eq!(n.voters_outgoing(), &[1, 2, 3]);
    let mut next = [l, 4, 5];
    next.sort_unstable();
    assert_eq!(n.voters(), &next[..]);
}

#[test]
fn an_old_voter_that_missed_the_decision_disrupts_the_next_configuration_at_most_once() {
    for seed in 0..10 {
        let mut c = Cluster::with_voters(5, &[1, 2, 3], seed, config);
        let l = settled_leader(&mut c);
        for node in [4, 5] {
            let n = c.nodes.get_mut(&l).unwrap();
            n.change_membership(ConfChange::single(AddLearner, node))
                .unwrap();
            c.drive(l);
            c.ticks(5);
        }
        // The stop-sign leaves out the two other old voters. One of them
        // accepts it, then is cut off before it hears that it is decided.
        let old: Vec<NodeId> = [1, 2, 3].into_iter().filter(|&n| n != l).collect();
        let missed = old[0];
        let mut next = [l, 4, 5];
        next.sort_unstable();
        let index = propose_next(&mut c, l, &next);
        c.deliver();
        c.isolate(missed);
        c.ticks(10);
        assert!(c.nodes[&l].decided() >= index, "seed {seed}");
        assert!(
            c.nodes[&missed].stopping(),
            "seed {seed}: it should have missed it"
        );
        // The other was told before the leader dropped it from its peers.
        assert!(!c.nodes[&old[1]].stopping(), "seed {seed}: not told");
        // Back on the network, still in the joint configuration as far as
        // it knows: the next configuration goes on, deposed once at most.
        c.heal();
        let mut ballots = std::collections::BTreeSet::new();
        for _ in 0..300 {
            c.tick();
            if let Some(leader) = leader_among(&c, &next) {
                ballots.insert(c.nodes[&leader].promised());
            }
        }
        assert!(ballots.len() <= 2, "seed {seed}: leaders {ballots:?}");
        let leader = leader_among(&c, &next).expect("a leader among the next voters");
        assert!(c.propose(leader, b"after"), "seed {seed}");
        c.ticks(5);
        assert!(c.nodes[&4].decided() > index, "seed {seed}");
    }
}
