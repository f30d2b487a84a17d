//! `MemCluster`: the in-memory cluster users test and prototype with.
#![cfg(feature = "mem-cluster")]

use synod_raft_core::mem_cluster::{MemCluster, MemClusterError, SafetyViolation};
use synod_raft_core::{
    ConfChange, ConfChangeKind, ConfChangeSingle, Config, DropReason, Error, Role,
};

fn cmd(i: u32) -> Vec<u8> {
    format!("cmd {i}").into_bytes()
}

fn commands(c: &MemCluster, id: u64) -> Vec<Vec<u8>> {
    c.commands(id).iter().map(|b| b.to_vec()).collect()
}

#[test]
fn writes_replicate_to_every_node_in_order() {
    let mut c = MemCluster::new(&[1, 2, 3], 1).unwrap();
    let leader = c.elect(100).unwrap();
    for i in 0..50 {
        c.propose(leader, cmd(i)).unwrap();
    }
    c.settle();
    let want: Vec<Vec<u8>> = (0..50).map(cmd).collect();
    for id in c.ids() {
        assert_eq!(commands(&c, id), want, "node {id}");
    }
    c.check_safety().unwrap();
}

#[test]
fn a_crashed_leader_loses_nothing_committed_and_catches_up() {
    let mut c = MemCluster::new(&[1, 2, 3], 2).unwrap();
    let first = c.elect(100).unwrap();
    for i in 0..10 {
        c.propose(first, cmd(i)).unwrap();
    }
    c.settle();
    c.crash(first).unwrap();
    assert_eq!(c.crash(first), Err(MemClusterError::NodeDown(first)));
    assert!(c.node(first).is_none());
    let second = c.elect(100).unwrap();
    assert_ne!(second, first);
    for i in 10..20 {
        c.propose(second, cmd(i)).unwrap();
    }
    c.settle();
    c.restart(first).unwrap();
    assert_eq!(c.restart(first), Err(MemClusterError::NodeUp(first)));
    c.ticks(30);
    let want: Vec<Vec<u8>> = (0..20).map(cmd).collect();
    for id in c.ids() {
        // The restarted node applied everything again from its log.
        assert_eq!(commands(&c, id), want, "node {id}");
    }
    c.check_safety().unwrap();
}

#[test]
fn a_node_far_behind_is_sent_the_leaders_snapshot() {
    let mut c = MemCluster::new(&[1, 2, 3], 3).unwrap();
    let leader = c.elect(100).unwrap();
    let behind = c.ids().into_iter().find(|&id| id != leader).unwrap();
    c.crash(behind).unwrap();
    for i in 0..30 {
        c.propose(leader, cmd(i)).unwrap();
    }
    c.settle();
    let index = c
        .snapshot_and_compact(leader, &b"state after 30"[..])
        .unwrap();
    assert!(index >= 31, "{index}");
    for i in 30..35 {
        c.propose(leader, cmd(i)).unwrap();
    }
    c.settle();
    c.restart(behind).unwrap();
    c.ticks(30);
    let snap = c.loaded_snapshot(behind).expect("a snapshot was installed");
    assert_eq!(snap.meta.index, index);
    assert_eq!(&snap.data[..], b"state after 30");
    let after: Vec<Vec<u8>> = (30..35).map(cmd).collect();
    assert_eq!(commands(&c, behind), after);
    c.check_safety().unwrap();
}

#[test]
fn a_joining_node_is_added_and_replicated_to() {
    let mut c = MemCluster::new(&[1, 2, 3], 4).unwrap();
    let leader = c.elect(100).unwrap();
    c.propose(leader, cmd(0)).unwrap();
    c.settle();
    c.add_joining(4, Config::new(4)).unwrap();
    assert_eq!(
        c.add_joining(4, Config::new(4)),
        Err(MemClusterError::NodeExists(4))
    );
    let change = ConfChange {
        changes: vec![ConfChangeSingle {
            kind: ConfChangeKind::AddVoter,
            node: 4,
        }],
    };
    c.propose_conf_change(leader, change).unwrap();
    c.ticks(10);
    c.propose(leader, cmd(1)).unwrap();
    c.ticks(10);
    assert!(c.node(leader).unwrap().conf_state().voters.contains(&4));
    assert_eq!(commands(&c, 4), [cmd(0), cmd(1)]);
    c.check_safety().unwrap();
}

#[test]
fn an_isolated_leader_is_replaced_and_one_way_cuts_are_one_way() {
    let mut c = MemCluster::new(&[1, 2, 3], 5).unwrap();
    let old = c.elect(100).unwrap();
    c.isolate(old);
    let new = c.elect(100).unwrap();
    assert_ne!(new, old);
    // The proposal to the cut-off leader never commits.
    let _ = c.propose(old, cmd(99));
    c.propose(new, cmd(1)).unwrap();
    c.settle();
    c.heal();
    c.ticks(20);
    assert_eq!(c.leader(), Some(new));
    assert_eq!(
        commands(&c, old),
        [cmd(1)],
        "its uncommitted entry was replaced"
    );

    // A node that hears nobody but whose messages go out: it campaigns
    // (pre-vote) but is refused, the cluster keeps its leader.
    let deaf = c.ids().into_iter().find(|&id| id != new).unwrap();
    for other in c.ids() {
        if other != deaf {
            c.cut(other, deaf);
        }
    }
    c.ticks(50);
    assert_eq!(c.leader(), Some(new));
    let (delivered, dropped) = c.message_counts();
    assert!(delivered > 0 && dropped > 0);
    c.check_safety().unwrap();
}

#[test]
fn bad_calls_are_errors() {
    assert!(matches!(
        MemCluster::new(&[], 1),
        Err(MemClusterError::Raft(Error::InvalidMembership(_)))
    ));
    assert!(MemCluster::new(&[0, 1], 1).is_err(), "node 0 is not an id");
    let mut c = MemCluster::new(&[1, 2, 3], 6).unwrap();
    let leader = c.elect(100).unwrap();
    let follower = c.ids().into_iter().find(|&id| id != leader).unwrap();
    assert!(matches!(
        c.propose(follower, cmd(0)),
        Err(MemClusterError::Raft(Error::ProposalDropped(
            DropReason::NotLeader { .. }
        )))
    ));
    assert_eq!(c.propose(9, cmd(0)), Err(MemClusterError::UnknownNode(9)));
    assert_eq!(c.crash(9), Err(MemClusterError::UnknownNode(9)));
    assert_eq!(c.restart(9), Err(MemClusterError::UnknownNode(9)));
    assert!(c.node_mut(9).is_none());
    assert!(c.applied(9).is_empty());
    assert!(c.take_read_states(9).is_empty());
    assert!(c.snapshot_and_compact(leader, &b""[..]).is_ok());
    assert!(
        c.snapshot_and_compact(leader, &b""[..]).is_err(),
        "nothing applied since the last snapshot"
    );
}

#[test]
fn reads_through_a_follower_are_handed_out() {
    let mut c = MemCluster::new(&[1, 2, 3], 7).unwrap();
    let leader = c.elect(100).unwrap();
    c.propose(leader, cmd(0)).unwrap();
    c.settle();
    let follower = c.ids().into_iter().find(|&id| id != leader).unwrap();
    let id = c.node_mut(follower).unwrap().read_index().unwrap();
    c.ticks(3);
    let reads = c.take_read_states(follower);
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].id, id);
    assert!(c.node(follower).unwrap().status().applied >= reads[0].index);
    assert!(c.take_read_states(follower).is_empty(), "taken once");
}

/// The same seed and calls replay the same run; every seed keeps safety
/// through crashes and partitions.
#[test]
fn runs_replay_by_seed_and_stay_safe_under_churn() {
    /// Every node's commands, the message counts, the leader.
    type Outcome = (Vec<Vec<Vec<u8>>>, (u64, u64), Option<u64>);
    fn run(seed: u64) -> Outcome {
        let mut c = MemCluster::new(&[1, 2, 3, 4, 5], seed).unwrap();
        let mut next = 0;
        for round in 0..20u64 {
            let victim = 1 + (seed.wrapping_mul(31).wrapping_add(round * 7)) % 5;
            match round % 4 {
                0 => c.isolate(victim),
                1 => {
                    let _ = c.crash(victim);
                }
                2 => {
                    for id in c.ids() {
                        let _ = c.restart(id);
                    }
                }
                _ => c.heal(),
            }
            if let Some(leader) = c.elect(60) {
                for _ in 0..3 {
                    if c.propose(leader, cmd(next)).is_ok() {
                        next += 1;
                    }
                }
            }
            c.ticks(5);
            c.check_safety()
                .unwrap_or_else(|v| panic!("seed {seed}: {v}"));
        }
        let logs = c.ids().iter().map(|&id| commands(&c, id)).collect();
        (logs, c.message_counts(), c.leader())
    }
    let mut applied = 0;
    for seed in 0..30 {
        let first = run(seed);
        assert_eq!(first, run(seed), "seed {seed} replays");
        applied += first.0.iter().map(Vec::len).sum::<usize>();
    }
    assert!(
        applied > 30 * 5 * 10,
        "the churn let writes through: {applied}"
    );
}

/// The safety watch has teeth: planted protocol bugs are reported.
#[cfg(feature = "mutations")]
#[test]
fn planted_bugs_are_caught() {
    use synod_raft_core::mutation::Mutation;
    fn caught(mutation: Mutation, seeds: u64) -> Option<SafetyViolation> {
        for seed in 0..seeds {
            let config = |id| {
                let mut c = Config::new(id);
                c.mutation = Some(mutation);
                c
            };
            let mut c = MemCluster::with_config(&[1, 2, 3, 4, 5], seed, config).unwrap();
            let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut draw = move |n: u64| {
                // xorshift: a test's own deterministic stream
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            };
            let mut next = 0;
            for _ in 0..60 {
                c.heal();
                for from in 1..=5 {
                    for to in 1..=5 {
                        if from != to && draw(10) < 3 {
                            c.cut(from, to);
                        }
                    }
                }
                let victim = 1 + draw(5);
                if draw(4) == 0 {
                    let _ = c.crash(victim);
                } else {
                    let _ = c.restart(victim);
                }
                for id in c.ids() {
                    if c.node(id).is_some_and(|n| n.role() == Role::Leader) {
                        let _ = c.propose(id, cmd(next));
                        next += 1;
                    }
                }
                c.ticks(1 + draw(12) as u32);
                if let Err(v) = c.check_safety() {
                    return Some(v);
                }
            }
        }
        None
    }
    assert!(matches!(
        caught(Mutation::DoubleVote, 50),
        Some(SafetyViolation::TwoLeaders { .. })
    ));
}

/// A disk that changed a committed entry under a follower: on restart the
/// follower applies something else at that index, and the watch says so.
#[test]
fn a_corrupted_log_is_reported_as_divergence() {
    let mut c = MemCluster::new(&[1, 2, 3], 8).unwrap();
    let leader = c.elect(100).unwrap();
    for i in 0..5 {
        c.propose(leader, cmd(i)).unwrap();
    }
    c.settle();
    let victim = c.ids().into_iter().find(|&id| id != leader).unwrap();
    let entry = c.applied(victim)[3].clone();
    let mut forged = entry.clone();
    forged.payload = synod_raft_core::Payload::Command(b"forged".to_vec().into());
    c.node_mut(victim)
        .unwrap()
        .storage_mut()
        .append(vec![forged])
        .unwrap();
    c.check_safety().unwrap();
    c.crash(victim).unwrap();
    c.restart(victim).unwrap();
    c.ticks(5);
    assert!(
        matches!(
            c.check_safety(),
            Err(SafetyViolation::Diverged { index, node, .. }) if index == entry.index && node == victim
        ),
        "{:?}",
        c.check_safety()
    );
}
