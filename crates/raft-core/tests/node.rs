//! Node-level rules: elections (Raft §5.2, pre-vote, check-quorum),
//! replication and commitment (§5.3, §5.4), persist-before-send, and what
//! bad input gets.

use crate::common;

use common::{Cluster, node};
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::*;

#[test]
fn config_validation_rejects_nonsense() {
    let bad = |f: fn(&mut Config)| {
        let mut c = Config::new(1);
        f(&mut c);
        c.validate().unwrap_err()
    };
    assert!(matches!(
        bad(|c| c.id = 0),
        Error::InvalidConfig { field: "id", .. }
    ));
    assert!(matches!(
        bad(|c| c.heartbeat_ticks = 0),
        Error::InvalidConfig {
            field: "heartbeat_ticks",
            ..
        }
    ));
    assert!(matches!(
        bad(|c| c.election_timeout_ticks = 1),
        Error::InvalidConfig {
            field: "election_timeout_ticks",
            ..
        }
    ));
    assert!(matches!(
        bad(|c| c.election_timeout_ticks = 0),
        Error::InvalidConfig { .. }
    ));
    assert!(matches!(
        bad(|c| c.max_inflight_msgs = 0),
        Error::InvalidConfig { .. }
    ));
    assert!(matches!(
        bad(|c| c.max_size_per_msg_bytes = 0),
        Error::InvalidConfig { .. }
    ));
    assert!(matches!(
        bad(|c| c.max_proposal_bytes = 0),
        Error::InvalidConfig { .. }
    ));
    assert!(Config::new(1).validate().is_ok());
    // An empty voter set is refused, unless the node is joining: then it
    // never campaigns and waits to be added.
    let empty = RaftNode::new(Config::new(1), MemStorage::new(), StdRng::seed_from_u64(0));
    assert!(matches!(empty, Err(Error::InvalidMembership(_))));
    let config = Config {
        joining: true,
        ..Config::new(1)
    };
    let mut joining = RaftNode::new(config, MemStorage::new(), StdRng::seed_from_u64(0)).unwrap();
    for _ in 0..100 {
        joining.tick();
    }
    assert_eq!(
        (joining.role(), joining.term(), joining.has_ready()),
        (Role::Follower, 0, false)
    );
    let mut both = MemStorage::with_voters(&[1, 2]);
    both.set_conf_state(ConfState {
        voters: vec![1, 2],
        learners: vec![2],
        voters_outgoing: vec![],
    });
    assert!(matches!(
        RaftNode::new(Config::new(1), both, StdRng::seed_from_u64(0)),
        Err(Error::InvalidMembership(_))
    ));
}

// Raft §5.2: a follower that hears nothing within its (randomized) election
// timeout starts an election; a lone voter wins it and commits at once.
#[test]
fn single_node_elects_itself_and_commits() {
    let mut c = Cluster::new(1, 1);
    c.run_ticks(25);
    assert_eq!(c.leader(), Some(1));
    assert_eq!(c.node(1).term(), 1);
    let index = c.propose(b"x").unwrap();
    assert_eq!(c.node(1).log().committed(), index);
    assert_eq!(c.applied[&1], vec![(index, b"x".to_vec())]);
}

// Raft §5.2, §5.3: three nodes elect one leader; its entries commit and
// apply everywhere in the same order.
#[test]
fn three_nodes_elect_one_leader_and_replicate() {
    let mut c = Cluster::new(3, 7);
    c.run_ticks(30);
    let leader = c.leader().expect("a leader");
    let term = c.node(leader).term();
    for id in 1..=3 {
        assert_eq!(c.node(id).term(), term);
        assert_eq!(c.node(id).leader(), Some(leader));
    }
    for i in 0..20u8 {
        c.propose(&[i]).unwrap();
    }
    c.run_ticks(3);
    for id in 1..=3 {
        assert_eq!(c.applied[&id].len(), 20, "node {id}");
    }
    c.check_applied_prefixes();
}

// Persist-before-send: a follower's acknowledgement of entries is held
// until the application reports the batch written.
#[test]
fn acknowledgements_wait_for_persistence() {
    let mut n = node(2, &[1, 2, 3]);
    let append = Message {
        from: 1,
        to: 2,
        term: 1,
        body: MessageBody::Append {
            prev_index: 0,
            prev_term: 0,
            entries: vec![Entry {
                index: 1,
                term: 1,
                payload: Payload::Noop,
            }],
            commit: 0,
        },
    };
    n.step(append).unwrap();
    let ready = n.ready().unwrap();
    assert!(
        ready.messages.is_empty(),
        "nothing may be sent before the write"
    );
    assert_eq!(ready.persist.entries.len(), 1);
    assert!(ready.persist.must_sync);
    let done = ready.persist.persisted();
    assert_eq!(done.messages.len(), 1);
    assert!(matches!(
        done.messages[0].body,
        MessageBody::AppendResponse(AppendResult::Accepted { match_index: 1 })
    ));
}

// Raft §5.3: an append that conflicts with an entry the follower has not
// persisted yet replaces it, here the only one it holds, at its first
// index.
#[test]
fn a_conflicting_append_replaces_a_lone_unpersisted_entry() {
    let mut n = node(2, &[1, 2, 3]);
    let append = |from: NodeId, term: Term| Message {
        from,
        to: 2,
        term,
        body: MessageBody::Append {
            prev_index: 0,
            prev_term: 0,
            entries: vec![common::noop(1, term)],
            commit: 0,
        },
    };
    n.step(append(1, 1)).unwrap();
    n.step(append(3, 2)).unwrap();
    let ready = n.ready().unwrap();
    assert_eq!(ready.persist.entries, vec![common::noop(1, 2)]);
    assert_eq!((n.log().last_index(), n.log().term(1)), (Ok(1), Ok(2)));
}

// Entries are handed out to persist once: while a batch is being written
// the node has nothing new to hand out, and a batch proposed meanwhile
// carries only the new entries.
#[test]
fn each_entry_is_handed_out_to_persist_once_while_writes_overlap() {
    let mut n = node(1, &[1]);
    n.campaign();
    common::drain(&mut n);
    let first = n.propose(b"a".to_vec()).unwrap();
    let away = n.ready().unwrap();
    assert!(!n.has_ready(), "nothing new while the batch is away");
    let second = n.propose(b"b".to_vec()).unwrap();
    let next = n.ready().unwrap();
    let index = |p: &Proposal| match p {
        Proposal::Appended { index, .. } => *index,
        other => panic!("not appended: {other:?}"),
    };
    let indexes = |r: &Ready| {
        r.persist
            .entries
            .iter()
            .map(|e| e.index)
            .collect::<Vec<_>>()
    };
    assert_eq!(indexes(&away), [index(&first)]);
    assert_eq!(indexes(&next), [index(&second)], "the first batch again");
}

// A candidate's vote requests carry a term and vote not yet durable: they
// wait for the write too (a restarted node must not vote twice in a term).
#[test]
fn a_new_term_is_persisted_before_any_message() {
    let mut config = Config::new(1);
    config.pre_vote = false;
    let mut n = RaftNode::new(
        config,
        MemStorage::with_voters(&[1, 2, 3]),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    let ready = n.ready().unwrap();
    assert!(ready.messages.is_empty());
    assert_eq!(
        ready.persist.hard_state,
        Some(HardState {
            term: 1,
            vote: Some(1),
            commit: 0
        })
    );
    assert_eq!(ready.persist.persisted().messages.len(), 2);
}

// Raft §5.4.1: a voter refuses a candidate whose log is behind its own.
#[test]
fn votes_go_only_to_up_to_date_logs() {
    let mut n = node(2, &[1, 2, 3]);
    n.storage_mut()
        .append(&[Entry {
            index: 1,
            term: 2,
            payload: Payload::Noop,
        }])
        .unwrap();
    let mut n = RaftNode::new(
        Config::new(2),
        n.log().storage().clone(),
        StdRng::seed_from_u64(2),
    )
    .unwrap();
    let ask = |last_index, last_term| Message {
        from: 1,
        to: 2,
        term: 3,
        body: MessageBody::VoteRequest {
            pre_vote: false,
            last_index,
            last_term,
            transfer: false,
        },
    };
    n.step(ask(5, 1)).unwrap(); // longer, but an older last term
    let r = n.ready().unwrap().persist.persisted().messages;
    assert_eq!(
        r[0].body,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false
        }
    );
    n.step(ask(1, 2)).unwrap();
    let r = n.ready().unwrap().persist.persisted().messages;
    assert_eq!(
        r[0].body,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: true
        }
    );
    // One vote per term: node 3 asks in the same term and is refused.
    n.step(Message {
        from: 3,
        ..ask(9, 3)
    })
    .unwrap();
    let r = n.ready().unwrap().persist.persisted().messages;
    assert_eq!(
        r[0].body,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false
        }
    );
}

// Pre-vote (Raft thesis §9.6): an isolated node keeps failing pre-votes and
// does not raise its term, so on rejoining it does not depose the leader.
#[test]
fn pre_vote_keeps_a_rejoining_node_from_disrupting() {
    let mut c = Cluster::new(3, 11);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let term = c.node(leader).term();
    let lonely = (1..=3).find(|&id| id != leader).unwrap();
    c.isolate(lonely);
    c.run_ticks(100);
    assert_eq!(
        c.node(lonely).term(),
        term,
        "pre-vote rounds do not raise the term"
    );
    c.heal();
    c.run_ticks(30);
    assert_eq!(c.leader(), Some(leader));
    assert_eq!(c.node(leader).term(), term);
}

// Without pre-vote, the same isolation raises the term (the disruption
// pre-vote exists to prevent): the test above can fail.
#[test]
fn without_pre_vote_an_isolated_node_raises_its_term() {
    let mut c = Cluster::with_config(3, 11, |id| Config {
        pre_vote: false,
        check_quorum: false,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let term = c.node(leader).term();
    let lonely = (1..=3).find(|&id| id != leader).unwrap();
    c.isolate(lonely);
    c.run_ticks(100);
    assert!(c.node(lonely).term() > term);
}

// Check-quorum (Raft thesis §6.2): a leader cut off from a quorum steps
// down within two election timeouts; the majority elects a new one.
#[test]
fn check_quorum_deposes_an_isolated_leader() {
    let mut c = Cluster::new(3, 5);
    c.run_ticks(30);
    let old = c.leader().unwrap();
    c.isolate(old);
    c.run_ticks(40);
    assert_ne!(c.node(old).role(), Role::Leader);
    let new = c.leader().expect("the majority elects a leader");
    assert_ne!(new, old);
    c.heal();
    c.run_ticks(20);
    assert_eq!(c.node(old).leader(), Some(new));
    c.check_applied_prefixes();
}

// Raft §5.3: a follower with a divergent, uncommitted suffix has it
// replaced by the leader's log, found with the conflict hint.
#[test]
fn a_divergent_follower_is_repaired() {
    let mut c = Cluster::new(3, 3);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    for i in 0..5u8 {
        c.propose(&[i]).unwrap();
    }
    // The leader is cut off and takes proposals no one else receives.
    c.isolate(leader);
    for i in 10..15u8 {
        c.node_mut(leader).propose(vec![i]).unwrap();
    }
    c.deliver(10_000);
    c.run_ticks(40);
    let new = c.leader().unwrap();
    assert_ne!(new, leader);
    c.propose(b"after").unwrap();
    c.heal();
    c.run_ticks(30);
    let last = c.node(new).log().last_index().unwrap();
    for id in 1..=3 {
        assert_eq!(c.node(id).log().committed(), last, "node {id}");
        assert!(c.node(id).log().match_term(last, c.node(new).term()));
    }
    c.check_applied_prefixes();
    assert!(
        !c.applied[&leader]
            .iter()
            .any(|(_, d)| d[0] >= 10 && d.len() == 1),
        "the old leader's uncommitted entries were never applied"
    );
}

// Election safety and state-machine safety over many seeds, with message
// loss and random partitions; then the network heals and the cluster must
// make progress. The checks are in `Cluster::process` (one leader per term)
// and `check_applied_prefixes`.
#[test]
fn safety_under_loss_and_partitions_over_seeds() {
    const SEEDS: u64 = 300;
    let (mut snapshots, mut terms, mut restarts) = (0, 0, 0);
    for seed in 0..SEEDS {
        let mut c = Cluster::new(5, seed);
        c.drop_rate = 0.1;
        c.dup_rate = 0.05;
        c.reorder_rate = 0.1;
        for round in 0..20 {
            if round % 5 == 0 {
                c.heal();
                let mut group = Vec::new();
                for id in 1..=5u64 {
                    if c.random_u64().is_multiple_of(2) {
                        group.push(id);
                    }
                }
                c.partition(&group);
            }
            c.run_ticks(5);
            let _ = c.propose(&[round as u8, seed as u8]);
            if round % 4 == 3 {
                // Compact every log, keeping a short tail: lagging nodes
                // need snapshots under loss and partitions.
                for id in 1..=5 {
                    c.compact(id, 2);
                }
            }
            if round % 3 == 1 {
                // Crash and restart a random node.
                let victim = 1 + c.random_u64() % 5;
                c.restart(victim);
            }
        }
        c.heal();
        c.drop_rate = 0.0;
        c.dup_rate = 0.0;
        c.reorder_rate = 0.0;
        c.run_ticks(60);
        c.check_applied_prefixes();
        let index = c
            .propose(b"final")
            .unwrap_or_else(|| panic!("seed {seed}: no leader after healing"));
        c.run_ticks(5);
        for id in 1..=5 {
            let leader = c.leader().unwrap();
            let pr = c.node(leader).progress().get(&id).cloned();
            assert!(
                c.node(id).log().committed() >= index,
                "seed {seed}: node {id} did not commit {index}; leader {leader} sees {pr:?}"
            );
        }
        snapshots += c.installed.values().sum::<usize>();
        restarts += c.restarts;
        terms += c.leaders_by_term.len();
    }
    // The run must have exercised what it claims to test.
    eprintln!(
        "{SEEDS} seeds: {terms} terms with a leader, {snapshots} snapshots installed, {restarts} restarts"
    );
    assert!(restarts >= SEEDS * 6, "{restarts}");
    assert!(
        terms as u64 > SEEDS * 13 / 10,
        "{terms}: leader changes were exercised"
    );
    assert!(
        snapshots as u64 > SEEDS,
        "{snapshots}: snapshot installs were exercised"
    );
}

#[test]
fn bad_messages_get_errors_not_panics() {
    let mut n = node(2, &[1, 2, 3]);
    let msg = |from, to, term, body| Message {
        from,
        to,
        term,
        body,
    };
    assert_eq!(
        n.step(msg(
            1,
            3,
            1,
            MessageBody::HeartbeatResponse {
                read_round: 0,
                sent_at_tick: 0
            }
        )),
        Err(Error::WrongRecipient { to: 3, me: 2 })
    );
    assert_eq!(
        n.step(msg(
            9,
            2,
            1,
            MessageBody::HeartbeatResponse {
                read_round: 0,
                sent_at_tick: 0
            }
        )),
        Err(Error::UnknownPeer(9))
    );
    assert_eq!(
        n.step(msg(
            2,
            2,
            1,
            MessageBody::HeartbeatResponse {
                read_round: 0,
                sent_at_tick: 0
            }
        )),
        Err(Error::UnknownPeer(2))
    );
    let gap = vec![
        Entry {
            index: 1,
            term: 1,
            payload: Payload::Noop,
        },
        Entry {
            index: 3,
            term: 1,
            payload: Payload::Noop,
        },
    ];
    let append = MessageBody::Append {
        prev_index: 0,
        prev_term: 0,
        entries: gap,
        commit: 0,
    };
    assert!(matches!(
        n.step(msg(1, 2, 1, append)),
        Err(Error::Malformed(_))
    ));
    assert_eq!(n.log().last_index(), Ok(0));
    // Indexes and terms far out of range: refused, no panic.
    let far = MessageBody::Append {
        prev_index: u64::MAX,
        prev_term: u64::MAX,
        entries: vec![],
        commit: u64::MAX,
    };
    assert!(matches!(
        n.step(msg(1, 2, 1, far)),
        Err(Error::Malformed(_))
    ));
    let past = MessageBody::Append {
        prev_index: u64::MAX - 1,
        prev_term: 1,
        entries: vec![],
        commit: u64::MAX,
    };
    assert_eq!(n.step(msg(1, 2, 1, past)), Ok(()), "a mismatch, answered");
    assert_eq!(n.log().committed(), 0);
    let hb = MessageBody::Heartbeat {
        commit: u64::MAX,
        read_round: 0,
        sent_at_tick: 0,
    };
    assert_eq!(n.step(msg(1, 2, 1, hb)), Ok(()));
    assert_eq!(n.log().committed(), 0, "commit never passes the log");
    // Stale terms are ignored.
    let _ = n.ready();
    n.step(msg(
        1,
        2,
        5,
        MessageBody::Heartbeat {
            commit: 0,
            read_round: 0,
            sent_at_tick: 0,
        },
    ))
    .unwrap();
    n.step(msg(
        3,
        2,
        4,
        MessageBody::VoteRequest {
            pre_vote: false,
            last_index: 9,
            last_term: 4,
            transfer: false,
        },
    ))
    .unwrap();
    assert_eq!((n.term(), n.leader()), (5, Some(1)));
}

#[test]
fn forged_responses_to_a_leader_are_refused() {
    let mut c = Cluster::new(3, 2);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let term = c.node(leader).term();
    let forged = Message {
        from: follower,
        to: leader,
        term,
        body: MessageBody::AppendResponse(AppendResult::Accepted { match_index: 1_000 }),
    };
    assert!(matches!(
        c.node_mut(leader).step(forged),
        Err(Error::Malformed(_))
    ));
    let committed = c.node(leader).log().committed();
    assert!(committed <= c.node(leader).log().last_index().unwrap());
    // A second "leader" of the same term.
    let rival = Message {
        from: follower,
        to: leader,
        term,
        body: MessageBody::Heartbeat {
            commit: 0,
            read_round: 0,
            sent_at_tick: 0,
        },
    };
    assert!(matches!(
        c.node_mut(leader).step(rival),
        Err(Error::Malformed(_))
    ));
    assert_eq!(c.node(leader).role(), Role::Leader);
}

#[test]
fn proposals_are_checked() {
    let mut c = Cluster::new(3, 4);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert_eq!(
        c.node_mut(follower).propose(b"x".to_vec()),
        Err(Error::ProposalDropped(DropReason::NotLeader {
            leader: Some(leader)
        }))
    );
    assert_eq!(
        c.node_mut(leader).propose(vec![]),
        Err(Error::ProposalDropped(DropReason::Empty))
    );
    let big = vec![0u8; (1 << 20) + 1];
    assert_eq!(
        c.node_mut(leader).propose(big),
        Err(Error::ProposalDropped(DropReason::TooLarge {
            bytes: (1 << 20) + 1,
            limit: 1 << 20
        }))
    );
}

// The same seed replays bit for bit: the same leader, term and log.
#[test]
fn a_seed_replays_exactly() {
    let run = |seed| {
        let mut c = Cluster::new(5, seed);
        c.drop_rate = 0.2;
        c.run_ticks(80);
        for i in 0..10u8 {
            let _ = c.propose(&[i]);
            c.run_ticks(2);
        }
        let states: Vec<_> = (1..=5)
            .map(|id| {
                (
                    c.node(id).term(),
                    c.node(id).role(),
                    c.node(id).log().committed(),
                )
            })
            .collect();
        (c.leaders_by_term.clone(), states, c.applied.clone())
    };
    assert_eq!(run(42), run(42));
}

#[test]
fn seeds_exercise_elections_and_commits() {
    let mut terms = 0;
    let mut committed = 0;
    for seed in 0..10 {
        let mut c = Cluster::new(5, seed);
        c.drop_rate = 0.1;
        c.run_ticks(100);
        for i in 0..10u8 {
            let _ = c.propose(&[i]);
            c.run_ticks(3);
        }
        terms += c.leaders_by_term.len();
        committed += c.node(1).log().committed();
    }
    eprintln!("10 seeds: {terms} terms with a leader, node 1 committed {committed} entries in all");
    assert!(terms >= 10 && committed >= 50);
}

// Flow control recovers: with a window of 2, a follower that lost every
// append (window full, nothing acknowledged) catches up once the network
// heals, through heartbeat responses freeing the window; and a reported
// unreachable follower drops back to probing.
#[test]
fn flow_control_recovers_after_loss_and_unreachable_reports() {
    let mut c = Cluster::with_config(3, 9, |id| Config {
        max_inflight_msgs: 2,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let lagging = (1..=3).find(|&id| id != leader).unwrap();
    c.cut.insert((leader, lagging));
    for i in 0..20u8 {
        c.propose(&[i]).unwrap();
    }
    let pr = &c.node(leader).progress()[&lagging];
    assert!(pr.match_index < 5, "the follower is behind: {pr:?}");
    c.heal();
    c.run_ticks(10);
    let last = c.node(leader).log().last_index().unwrap();
    assert_eq!(c.node(leader).progress()[&lagging].match_index, last);
    assert_eq!(c.node(lagging).log().committed(), last);

    c.node_mut(leader).report_unreachable(lagging);
    assert_eq!(
        c.node(leader).progress()[&lagging].state,
        ProgressState::Probe
    );
    c.propose(b"more").unwrap();
    c.run_ticks(3);
    assert_eq!(
        c.node(leader).progress()[&lagging].state,
        ProgressState::Replicate
    );
    let status = c.node(leader).status();
    assert_eq!(
        (status.role, status.leader, status.committed),
        (Role::Leader, Some(leader), status.last_index)
    );
    c.check_applied_prefixes();
}

// Appends go out when something asked for them (new entries, a commit
// advance, an acknowledgement), not at every `ready`: a follower dropped
// back to probing by an unreachable report hears nothing until the next
// heartbeat, even from a `ready` called with nothing due.
#[test]
fn a_ready_with_nothing_due_sends_no_append_even_to_a_probed_follower() {
    let mut c = Cluster::new(3, 9);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.propose(b"x").unwrap();
    c.deliver(1_000);
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    c.node_mut(leader).report_unreachable(follower);
    assert_eq!(
        c.node(leader).progress()[&follower].state,
        ProgressState::Probe
    );
    let ready = c.node_mut(leader).ready().unwrap();
    assert!(ready.messages.is_empty(), "{:?}", ready.messages);
    let held = ready.persist.persisted().messages;
    assert!(held.is_empty(), "{held:?}");
}

// A probed follower moves back to streaming only on an acknowledgement
// that tells the leader something new: a late duplicate of an old one
// (below what the follower is known to hold) leaves it probing.
#[test]
fn a_stale_acknowledgement_does_not_end_probing() {
    let mut c = Cluster::new(3, 9);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    for i in 0..3u8 {
        c.propose(&[i]).unwrap();
    }
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    c.node_mut(leader).report_unreachable(follower);
    let before = c.node(leader).progress()[&follower].clone();
    assert_eq!(before.state, ProgressState::Probe);
    assert!(before.match_index > 1, "{before:?}");
    let term = c.node(leader).term();
    let stale = AppendResult::Accepted { match_index: 1 };
    let ack = common::msg(follower, leader, term, MessageBody::AppendResponse(stale));
    c.node_mut(leader).step(ack).unwrap();
    let after = &c.node(leader).progress()[&follower];
    assert_eq!(
        (after.state, after.match_index),
        (ProgressState::Probe, before.match_index)
    );
}

// In a quiet cluster whose followers hold the whole log, heartbeats and
// their answers are all that flows: an answer from a follower in step
// brings no append. And a leader told that it is itself unreachable (a
// confused transport) ignores it.
#[test]
fn a_caught_up_cluster_exchanges_heartbeats_only() {
    let mut c = Cluster::new(3, 9);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.propose(b"x").unwrap();
    c.run_ticks(3);
    c.node_mut(leader).report_unreachable(leader);
    assert_eq!(
        c.node(leader).progress()[&leader].state,
        ProgressState::Replicate
    );
    let mut heartbeats = 0;
    for _ in 0..20 {
        for node in c.nodes.values_mut() {
            node.tick();
        }
        c.process_all();
        while let Some(m) = c.network.pop_front() {
            assert!(
                !matches!(m.body, MessageBody::Append { .. }),
                "an append in a quiet cluster: {m:?}"
            );
            heartbeats += usize::from(matches!(m.body, MessageBody::Heartbeat { .. }));
            let to = m.to;
            c.node_mut(to).step(m).unwrap();
            c.process(to);
        }
    }
    assert!(heartbeats >= 4, "{heartbeats} heartbeats");
    assert_eq!(c.leader(), Some(leader));
}

use common::drain;

// Raft §5.4.2, Figure 8: a leader of term 4 whose log holds entry 2 from
// term 2 must not commit it when a majority has it, only once an entry of
// term 4 reaches a majority (which commits entry 2 with it).
#[test]
fn figure_8_previous_term_entries_are_not_committed_by_counting() {
    let (mut s1, _) = common::elected_with_log(&[1, 2, 3, 4, 5], &[1, 2], 3, 1);
    assert_eq!(s1.log().last_index(), Ok(3), "the term-4 no-op at index 3");
    let accepted = |from, match_index| Message {
        from,
        to: 1,
        term: 4,
        body: MessageBody::AppendResponse(AppendResult::Accepted { match_index }),
    };
    s1.step(accepted(2, 2)).unwrap();
    s1.step(accepted(3, 2)).unwrap();
    drain(&mut s1);
    assert_eq!(
        s1.log().committed(),
        1,
        "entry 2 (term 2) is on a majority but must not commit by counting"
    );
    s1.step(accepted(2, 3)).unwrap();
    drain(&mut s1);
    assert_eq!(s1.log().committed(), 1, "two of five is no majority");
    s1.step(accepted(3, 3)).unwrap();
    drain(&mut s1);
    assert_eq!(
        s1.log().committed(),
        3,
        "the term-4 entry on a majority commits 2 and 3"
    );
}

// Raft §5.3, the optimisation after Figure 7, at the leader: a refusal's
// hint (the follower's last index at or below the refused one, and its
// term there) sends the next probe to the last index where the leader's
// term is at or below the hinted one, skipping the follower's whole
// conflicting term in one round trip. A hint without a term (the follower
// compacted below it) is taken as the index itself.
#[test]
fn a_refusals_hint_moves_the_next_probe_past_the_conflicting_term() {
    let (mut leader, sent) =
        common::elected_with_log(&[1, 2, 3], &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 7, 0);
    let term = leader.term();
    let probe_of = |sent: &[Message], to: NodeId| {
        sent.iter()
            .find_map(|m| match m.body {
                MessageBody::Append { prev_index, .. } if m.to == to => Some(prev_index),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no append to {to} in {sent:?}"))
    };
    let refuse = |to: NodeId, hint_index, hint_term| {
        let result = AppendResult::Rejected {
            rejected_index: probe_of(&sent, to),
            hint_index,
            hint_term,
        };
        common::msg(to, 1, term, MessageBody::AppendResponse(result))
    };
    // Node 2 holds 1..=6, the last three of term 2: the leader's last
    // entry at or below term 2 up to index 6 is index 3.
    leader.step(refuse(2, 6, 2)).unwrap();
    // Node 3 compacted up to 5 and cannot name a term there.
    leader.step(refuse(3, 5, 0)).unwrap();
    let again = drain(&mut leader);
    assert_eq!((probe_of(&again, 2), probe_of(&again, 3)), (3, 5));
}

// Back-pressure: with followers unreachable nothing commits, so proposals
// stop once `max_uncommitted_bytes` are outstanding; they resume when the
// entries commit. The byte window paces appends the same way.
#[test]
fn uncommitted_and_inflight_byte_limits() {
    let mut c = Cluster::with_config(3, 12, |id| Config {
        max_uncommitted_bytes: 100,
        max_inflight_bytes: 200,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    for f in (1..=3).filter(|&id| id != leader) {
        c.cut.insert((leader, f));
    }
    let chunk = vec![1u8; 40];
    assert!(c.node_mut(leader).propose(chunk.clone()).is_ok());
    assert!(c.node_mut(leader).propose(chunk.clone()).is_ok());
    assert_eq!(
        c.node_mut(leader).propose(chunk.clone()),
        Err(Error::ProposalDropped(DropReason::UncommittedLimit {
            uncommitted: 80,
            limit: 100
        }))
    );
    for pr in c.node(leader).progress().values() {
        assert!(pr.inflight_bytes() <= 200 + 16 + 40, "window bound: {pr:?}");
    }
    c.heal();
    c.run_ticks(5);
    assert!(
        c.node_mut(leader).propose(chunk).is_ok(),
        "committed entries free the budget"
    );
    c.check_applied_prefixes();
}

// Raft §7: a follower that needs entries the leader compacted away gets
// the leader's snapshot, installs it, and then follows by appends; one
// only a little behind is served from the tail kept after the snapshot.
#[test]
fn lagging_followers_catch_up_by_snapshot_or_from_the_tail() {
    let mut c = Cluster::new(3, 21);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let mut followers = (1..=3).filter(|&id| id != leader);
    let (far, near) = (followers.next().unwrap(), followers.next().unwrap());
    c.isolate(far);
    for i in 0..30u8 {
        c.propose(&[i]).unwrap();
    }
    c.cut.insert((leader, near));
    for i in 30..33u8 {
        c.node_mut(leader).propose(vec![i]).unwrap();
    }
    c.deliver(10_000);
    c.cut.remove(&(leader, near));
    c.run_ticks(1); // `near` catches up from the leader's log; 30..33 commit
    c.compact(leader, 5);
    let first = c.node(leader).log().first_index().unwrap();
    assert!(first > 20, "compacted: first index {first}");
    c.heal();
    c.run_ticks(10);
    let last = c.node(leader).log().last_index().unwrap();
    for id in 1..=3 {
        assert_eq!(c.node(id).log().committed(), last, "node {id}");
    }
    assert_eq!(
        c.installed.get(&far),
        Some(&1),
        "the far follower needed the snapshot"
    );
    assert_eq!(
        c.installed.get(&near),
        None,
        "the near one never needed one"
    );
    assert_eq!(
        c.node(leader).progress()[&far].state,
        ProgressState::Replicate
    );
    assert_eq!(c.applied[&far].len(), 33);
    c.check_applied_prefixes();
    // The follower keeps working after the snapshot.
    c.propose(b"after").unwrap();
    c.run_ticks(2);
    assert_eq!(c.applied[&far].len(), 34);

    // A follower only a few entries behind is served from the tail kept
    // before the snapshot point, without a snapshot.
    c.cut.insert((leader, near));
    for i in 0..3u8 {
        c.propose(&[100 + i]).unwrap();
    }
    c.compact(leader, 5);
    c.heal();
    c.run_ticks(3);
    assert_eq!(c.installed.get(&near), None, "served from the tail");
    assert_eq!(
        c.node(near).log().committed(),
        c.node(leader).log().last_index().unwrap()
    );
    c.check_applied_prefixes();
}

// A snapshot older than the follower's commit index changes nothing.
#[test]
fn stale_snapshots_are_ignored() {
    let mut n = node(2, &[1, 2, 3]);
    let append = MessageBody::Append {
        prev_index: 0,
        prev_term: 0,
        entries: (1..=5)
            .map(|index| Entry {
                index,
                term: 1,
                payload: Payload::Noop,
            })
            .collect(),
        commit: 5,
    };
    n.step(Message {
        from: 1,
        to: 2,
        term: 1,
        body: append,
    })
    .unwrap();
    drain(&mut n);
    let old = Snapshot {
        meta: SnapshotMeta {
            index: 3,
            term: 1,
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                learners: vec![],
                voters_outgoing: vec![],
            },
        },
        data: vec![].into(),
    };
    n.step(Message {
        from: 1,
        to: 2,
        term: 1,
        body: MessageBody::InstallSnapshot(Box::new(old.into())),
    })
    .unwrap();
    let sent = drain(&mut n);
    assert_eq!(
        sent.last().unwrap().body,
        MessageBody::AppendResponse(AppendResult::Accepted { match_index: 5 })
    );
    assert_eq!(
        (n.log().first_index(), n.log().last_index()),
        (Ok(1), Ok(5))
    );
    let bad = Snapshot {
        meta: SnapshotMeta {
            index: 9,
            term: 1,
            conf_state: ConfState::default(),
        },
        data: vec![].into(),
    };
    assert!(matches!(
        n.step(Message {
            from: 1,
            to: 2,
            term: 1,
            body: MessageBody::InstallSnapshot(Box::new(bad.into()))
        }),
        Err(Error::Malformed(_))
    ));
}

// Leadership transfer (Raft thesis §3.10): the leader stops taking
// proposals, brings the target up to date and tells it to campaign; the
// target wins at once, well inside an election timeout, even though the
// other followers are within the old leader's lease.
#[test]
fn leadership_transfer_hands_over_quickly() {
    let mut c = Cluster::new(3, 31);
    c.run_ticks(30);
    let old = c.leader().unwrap();
    let target = (1..=3).find(|&id| id != old).unwrap();
    let term = c.node(old).term();
    c.cut.insert((old, target)); // the target falls behind first
    for i in 0..5u8 {
        c.propose(&[i]).unwrap();
    }
    c.heal();
    c.node_mut(old).transfer_leader(target).unwrap();
    assert_eq!(c.node(old).status().transferee, Some(target));
    assert_eq!(
        c.node_mut(old).propose(b"x".to_vec()),
        Err(Error::ProposalDropped(DropReason::Transferring {
            to: target
        }))
    );
    c.deliver(10_000);
    c.run_ticks(2);
    assert_eq!(c.leader(), Some(target));
    assert_eq!(c.node(target).term(), term + 1);
    c.propose(b"after").unwrap();
    c.run_ticks(2);
    c.check_applied_prefixes();
    assert_eq!(c.applied[&old].len(), 6);
}

// A transfer to a node that cannot catch up is abandoned after an election
// timeout; the leader keeps its term and takes proposals again.
#[test]
fn a_stalled_transfer_is_abandoned() {
    let mut c = Cluster::new(3, 32);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let target = (1..=3).find(|&id| id != leader).unwrap();
    let term = c.node(leader).term();
    c.cut.insert((leader, target));
    c.node_mut(leader).transfer_leader(target).unwrap();
    c.run_ticks(12);
    assert_eq!(c.leader(), Some(leader));
    assert_eq!(c.node(leader).term(), term);
    assert_eq!(c.node(leader).status().transferee, None);
    assert!(c.node_mut(leader).propose(b"y".to_vec()).is_ok());
    assert_eq!(
        c.node_mut(leader).transfer_leader(99),
        Err(Error::UnknownPeer(99))
    );
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert!(matches!(
        c.node_mut(follower).transfer_leader(leader),
        Err(Error::ProposalDropped(DropReason::NotLeader { .. }))
    ));
}

#[test]
fn followers_forward_proposals_when_configured() {
    let mut c = Cluster::with_config(3, 61, |id| Config {
        forward_proposals: true,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert_eq!(
        c.node_mut(follower).propose(b"fwd".to_vec()),
        Ok(Proposal::Forwarded { leader })
    );
    c.deliver(10_000);
    c.run_ticks(2);
    for id in 1..=3 {
        assert_eq!(
            c.applied[&id].last().map(|e| e.1.clone()),
            Some(b"fwd".to_vec()),
            "node {id}"
        );
    }
    assert_eq!(
        c.node_mut(follower).propose(vec![]),
        Err(Error::ProposalDropped(DropReason::Empty))
    );
}

// Raft Figure 2 ("persistent state"): a node that voted and restarted
// remembers its vote and refuses another candidate in the same term.
#[test]
fn a_restarted_node_keeps_its_vote() {
    let mut n = node(2, &[1, 2, 3]);
    let ask = |from| Message {
        from,
        to: 2,
        term: 5,
        body: MessageBody::VoteRequest {
            pre_vote: false,
            last_index: 0,
            last_term: 0,
            transfer: false,
        },
    };
    n.step(ask(1)).unwrap();
    drain(&mut n);
    let storage = n.log().storage().clone();
    let mut n = RaftNode::new(Config::new(2), storage, StdRng::seed_from_u64(9)).unwrap();
    assert_eq!(n.term(), 5);
    n.step(ask(3)).unwrap();
    let sent = drain(&mut n);
    assert_eq!(
        sent[0].body,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false
        }
    );
    assert_eq!(n.status().vote, Some(1));
}

/// Node 1's snapshot at (`index`, `term`) of the configuration {1, 2, 3}.
fn snapshot_at(index: Index, term: Term) -> Snapshot {
    let conf_state = ConfState {
        voters: vec![1, 2, 3],
        ..ConfState::default()
    };
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            conf_state,
        },
        data: vec![].into(),
    }
}

/// Delivers node 1's snapshot to node 2 in term 2.
fn install(n: &mut RaftNode<MemStorage, StdRng>, snap: Snapshot) {
    let msg = Message {
        from: 1,
        to: 2,
        term: 2,
        body: MessageBody::InstallSnapshot(Box::new(snap.into())),
    };
    n.step(msg).unwrap();
}

// A snapshot and appends of the same leader may cross (a snapshot during
// an ongoing append): appends older than the snapshot are answered with
// what the follower has, newer ones continue after it.
#[test]
fn appends_crossing_a_snapshot_are_harmless() {
    let mut n = node(2, &[1, 2, 3]);
    let snap = snapshot_at(10, 2);
    install(&mut n, snap.clone());
    let ready = n.ready().unwrap();
    assert_eq!(ready.persist.snapshot.as_ref(), Some(&snap));
    n.storage_mut().apply_snapshot(snap).unwrap();
    let done = ready.persist.persisted();
    n.on_persisted(done.receipt);
    let entries = |from: Index, to: Index| {
        (from..=to)
            .map(|index| Entry {
                index,
                term: 2,
                payload: Payload::Noop,
            })
            .collect::<Vec<_>>()
    };
    let old = MessageBody::Append {
        prev_index: 5,
        prev_term: 2,
        entries: entries(6, 8),
        commit: 5,
    };
    n.step(Message {
        from: 1,
        to: 2,
        term: 2,
        body: old,
    })
    .unwrap();
    let sent = drain(&mut n);
    assert_eq!(
        sent.last().unwrap().body,
        MessageBody::AppendResponse(AppendResult::Accepted { match_index: 10 })
    );
    assert_eq!(
        (n.log().first_index(), n.log().last_index()),
        (Ok(11), Ok(10))
    );
    let newer = MessageBody::Append {
        prev_index: 10,
        prev_term: 2,
        entries: entries(11, 12),
        commit: 12,
    };
    n.step(Message {
        from: 1,
        to: 2,
        term: 2,
        body: newer,
    })
    .unwrap();
    let sent = drain(&mut n);
    assert_eq!(
        sent.last().unwrap().body,
        MessageBody::AppendResponse(AppendResult::Accepted { match_index: 12 })
    );
    assert_eq!(n.log().committed(), 12);
}

/// Storage that can answer "temporarily unavailable" for log reads, as an
/// asynchronous backend may.
#[derive(Debug, Clone, Default)]
struct Flaky {
    inner: MemStorage,
    unavailable: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Storage for Flaky {
    fn initial_state(&self) -> Result<InitialState, StorageError> {
        self.inner.initial_state()
    }
    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        if self.unavailable.get() {
            return Err(StorageError::LogTemporarilyUnavailable);
        }
        self.inner.entries(lo, hi, max_bytes)
    }
    fn term(&self, index: Index) -> Result<Term, StorageError> {
        self.inner.term(index)
    }
    fn first_index(&self) -> Result<Index, StorageError> {
        self.inner.first_index()
    }
    fn last_index(&self) -> Result<Index, StorageError> {
        self.inner.last_index()
    }
    fn snapshot(&self, request_index: Index) -> Result<Snapshot, StorageError> {
        self.inner.snapshot(request_index)
    }
}

impl Flaky {
    /// `voters`, entries 1..=3 of term 1 and commit index `commit`.
    fn with_three_entries(voters: &[NodeId], commit: Index) -> Self {
        let mut inner = MemStorage::with_voters(voters);
        let entries: Vec<Entry> = (1..=3)
            .map(|index| Entry {
                index,
                term: 1,
                payload: Payload::Noop,
            })
            .collect();
        inner.append(&*entries).unwrap();
        inner.set_hard_state(HardState {
            term: 1,
            vote: None,
            commit,
        });
        Flaky {
            inner,
            unavailable: Default::default(),
        }
    }
}

/// Hands out every ready (persisting it to the inner log, applying what
/// it commits) and returns the messages sent.
fn pump_flaky(n: &mut RaftNode<Flaky, StdRng>) -> Vec<Message> {
    let mut sent = Vec::new();
    while n.has_ready() {
        let ready = n.ready().unwrap();
        sent.extend(ready.messages);
        let persist = ready.persist;
        n.storage_mut().inner.append(&*persist.entries).unwrap();
        if let Some(hs) = persist.hard_state {
            n.storage_mut().inner.set_hard_state(hs);
        }
        let done = persist.persisted();
        sent.extend(done.messages);
        n.on_persisted(done.receipt);
        for e in ready.committed_entries {
            n.on_applied(e.index);
        }
    }
    sent
}

// "Temporarily unavailable" is a legal answer: the leader sends nothing
// for now, does not panic, and retries on the next heartbeat response.
#[test]
fn temporarily_unavailable_log_reads_are_retried() {
    let storage = Flaky::with_three_entries(&[1, 2], 3);
    let switch = storage.unavailable.clone();
    let mut n = RaftNode::new(
        Config {
            pre_vote: false,
            ..Config::new(1)
        },
        storage,
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    pump_flaky(&mut n);
    n.step(Message {
        from: 2,
        to: 1,
        term: 2,
        body: MessageBody::VoteResponse {
            pre_vote: false,
            granted: true,
        },
    })
    .unwrap();
    pump_flaky(&mut n);
    switch.set(true);
    // The follower's log is empty: it refuses, and the leader must read
    // entries 1..=3 from storage, which is unavailable.
    let refuse = MessageBody::AppendResponse(AppendResult::Rejected {
        rejected_index: 3,
        hint_index: 0,
        hint_term: 0,
    });
    n.step(Message {
        from: 2,
        to: 1,
        term: 2,
        body: refuse,
    })
    .unwrap();
    let sent = pump_flaky(&mut n);
    assert!(
        !sent
            .iter()
            .any(|m| matches!(&m.body, MessageBody::Append { entries, .. } if !entries.is_empty())),
        "{sent:?}"
    );
    switch.set(false);
    n.step(Message {
        from: 2,
        to: 1,
        term: 2,
        body: MessageBody::HeartbeatResponse {
            read_round: 0,
            sent_at_tick: 0,
        },
    })
    .unwrap();
    let sent = pump_flaky(&mut n);
    let resent = sent.iter().find_map(|m| match &m.body {
        MessageBody::Append { entries, .. } if !entries.is_empty() => Some(entries.len()),
        _ => None,
    });
    assert_eq!(
        resent,
        Some(4),
        "entries 1..=4 once storage answers: {sent:?}"
    );
}

// A candidate must know the configuration its log leads to before it asks
// for votes: counting the applied voters alone could elect a leader the
// new voters never agreed to. When the log cannot be read, it waits.
#[test]
fn no_campaign_while_the_log_cannot_be_read() {
    let storage = Flaky::with_three_entries(&[1, 2, 3], 0);
    let switch = storage.unavailable.clone();
    let config = Config {
        pre_vote: false,
        ..Config::new(1)
    };
    let timeout = config.election_timeout_ticks * 2;
    let mut n = RaftNode::new(config, storage, StdRng::seed_from_u64(7)).unwrap();
    switch.set(true);
    n.campaign();
    for _ in 0..timeout {
        n.tick();
    }
    assert_eq!((n.term(), n.role()), (1, Role::Follower));
    let sent = pump_flaky(&mut n);
    assert!(sent.is_empty(), "{sent:?}");

    switch.set(false);
    n.campaign();
    assert_eq!((n.term(), n.role()), (2, Role::Candidate));
    let mut asked: Vec<NodeId> = pump_flaky(&mut n)
        .iter()
        .filter(|m| matches!(m.body, MessageBody::VoteRequest { .. }))
        .map(|m| m.to)
        .collect();
    asked.sort_unstable();
    assert_eq!(asked, [2, 3]);
}

#[test]
fn restart_applied_index_is_checked() {
    let bad = Config {
        applied: 5,
        ..Config::new(1)
    };
    let r = RaftNode::new(bad, MemStorage::with_voters(&[1]), StdRng::seed_from_u64(0));
    assert!(matches!(
        r,
        Err(Error::InvalidConfig {
            field: "applied",
            ..
        })
    ));
}

// has_ready and ready must agree: with a leader's snapshot handed out but
// not yet persisted, there is nothing more to hand out (found by synod-sim:
// an application that calls ready() again before persisting looped).
#[test]
fn nothing_is_ready_while_a_snapshot_awaits_persistence() {
    let mut n = node(2, &[1, 2, 3]);
    let snap = snapshot_at(10, 2);
    install(&mut n, snap);
    let first = n.ready().unwrap();
    assert!(first.persist.snapshot.is_some());
    assert!(
        !n.has_ready(),
        "handed out: nothing more until it is persisted"
    );
    let done = first.persist.persisted();
    n.on_persisted(done.receipt);
    assert_eq!(n.log().applied(), 10);
}
