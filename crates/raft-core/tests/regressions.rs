//! Regression tests for defects found from outside (issue 9). Each test
//! reproduces the observed behaviour and failed before its fix.

use crate::common;

use common::{Cluster, msg, node as lone};
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::*;

/// Delivers queued messages until the network is quiet; `hold` decides,
/// per message, to set it aside instead (returned, in order).
fn deliver_holding(c: &mut Cluster, mut hold: impl FnMut(&Message) -> bool) -> Vec<Message> {
    c.process_all();
    let mut held = Vec::new();
    let mut budget = 100_000;
    while let Some(m) = c.network.pop_front() {
        budget -= 1;
        assert!(budget > 0, "the network never went quiet");
        if c.cut.contains(&(m.from, m.to)) {
            continue;
        }
        if hold(&m) {
            held.push(m);
            continue;
        }
        let to = m.to;
        if let Some(n) = c.nodes.get_mut(&to) {
            let _ = n.step(m);
            c.process(to);
        }
    }
    held
}

fn others(leader: NodeId, n: u64) -> Vec<NodeId> {
    (1..=n).filter(|&id| id != leader).collect()
}

// Defect 1. Raft thesis §6.4.1: a lease read is safe only while no other
// node can have been elected. With perfect clocks the followers of an
// isolated leader may elect after one election timeout; the old leader
// must stop answering lease reads before that, not two timeouts later.
#[test]
fn an_isolated_leader_stops_lease_reads_before_a_new_leader_can_commit() {
    for seed in 0..20 {
        let mut c = Cluster::with_config(3, 900 + seed, |id| Config {
            read_mode: ReadMode::Lease,
            ..Config::new(id)
        });
        c.run_ticks(30);
        let old = c.leader().unwrap();
        c.propose(b"before").unwrap();
        c.isolate(old);
        let mut newest_commit_elsewhere = 0;
        for _ in 0..40 {
            c.tick_all();
            if let Some(new) = c.leader().filter(|&l| l != old)
                && c.node(new).term() > c.node(old).term()
            {
                c.propose(b"after");
                newest_commit_elsewhere = c.node(new).log().committed();
            }
            if c.node(old).role() == Role::Leader {
                let id = c.node_mut(old).read_index().unwrap();
                c.process(old);
                let served = c.reads[&old].iter().find(|r| r.id == id).copied();
                if let Some(read) = served {
                    assert!(
                        read.index >= newest_commit_elsewhere,
                        "seed {seed}: stale lease read at {} after index {newest_commit_elsewhere} \
                         committed under a newer leader",
                        read.index
                    );
                }
            }
        }
        assert!(newest_commit_elsewhere > 0, "seed {seed}: no new leader");
    }
}

// Defect 1, the rule itself: the lease runs from when the acknowledged
// heartbeat was sent and ends `election_timeout_ticks -
// lease_drift_margin_ticks` later; after that a lease read waits for a
// heartbeat round like a safe read.
#[test]
fn the_lease_ends_an_election_timeout_minus_the_margin_after_the_acked_heartbeat() {
    let mut c = Cluster::with_config(3, 77, |id| Config {
        read_mode: ReadMode::Lease,
        lease_drift_margin_ticks: 2,
        ..Config::new(id)
    });
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    // The last heartbeat went out and was acknowledged in the last tick.
    c.isolate(leader);
    let timeout = Config::new(1).election_timeout_ticks as usize;
    let mut answered_at = Vec::new();
    for t in 0..timeout + 2 {
        let id = c.node_mut(leader).read_index().unwrap();
        c.process(leader);
        if c.reads[&leader].iter().any(|r| r.id == id) {
            answered_at.push(t);
        }
        c.node_mut(leader).tick();
        c.deliver(1000);
    }
    // Sent at tick s, the lease covers the leader's ticks s .. s + 10 - 2
    // (exclusive): the reads made 0..=7 ticks after the last acknowledged
    // send. The followers refuse votes until their tick s + 10.
    assert_eq!(answered_at, (0..=7).collect::<Vec<_>>());
    let bad = Config {
        read_mode: ReadMode::Lease,
        lease_drift_margin_ticks: 10,
        ..Config::new(1)
    };
    assert!(matches!(
        bad.validate(),
        Err(Error::InvalidConfig {
            field: "lease_drift_margin_ticks",
            ..
        })
    ));
}

// Defect 2. A late answer to a read issued before a restart must not
// serve a read issued after it.
#[test]
fn a_late_read_answer_does_not_serve_a_read_issued_after_a_restart() {
    let mut c = Cluster::new(3, 91);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let f = others(leader, 3)[0];
    let first = c.node_mut(f).read_index().unwrap();
    let late = deliver_holding(&mut c, |m| {
        matches!(m.body, MessageBody::ReadIndexResponse { .. }) && m.to == f
    });
    assert_eq!(late.len(), 1, "the leader answered the first read");
    let write = c.propose(b"w1").unwrap();
    c.propose(b"w2").unwrap();
    c.run_ticks(2);
    c.restart(f);
    c.run_ticks(2);
    assert!(c.node(f).log().committed() >= write);
    let second = c.node_mut(f).read_index().unwrap();
    assert_ne!(first, second, "read ids are not reused across a restart");
    // The old answer arrives now.
    for m in late {
        let _ = c.node_mut(f).step(m);
    }
    c.process(f);
    for r in c.reads.get(&f).into_iter().flatten() {
        assert!(
            r.index >= write,
            "a read answered at {} below the write at {write}",
            r.index
        );
    }
    c.deliver(10_000);
    c.run_ticks(1);
    let served: Vec<_> = c.reads[&f].iter().filter(|r| r.id == second).collect();
    assert_eq!(served.len(), 1, "the second read is answered once");
    assert!(served[0].index >= write);
}

// Defect 2, the floor: an answer below the commit index the follower knew
// when it issued the read is refused.
#[test]
fn a_read_answer_below_the_commit_index_at_issue_is_refused() {
    let mut c = Cluster::new(3, 92);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.propose(b"w").unwrap();
    c.run_ticks(2);
    let f = others(leader, 3)[0];
    let known = c.node(f).log().committed();
    assert!(known >= 2);
    let id = c.node_mut(f).read_index().unwrap();
    let term = c.node(f).term();
    let old_answer = MessageBody::ReadIndexResponse { id, index: 1 };
    let _ = c.node_mut(f).step(msg(leader, f, term, old_answer));
    let (_, reads) = common::drain_with_reads(c.node_mut(f));
    assert!(reads.is_empty(), "answered below the floor: {reads:?}");
    // An answer for an id never issued is refused too.
    let forged = MessageBody::ReadIndexResponse {
        id: id.wrapping_add(7),
        index: known,
    };
    let _ = c.node_mut(f).step(msg(leader, f, term, forged));
    let (_, reads) = common::drain_with_reads(c.node_mut(f));
    assert!(reads.is_empty(), "answered a read never issued: {reads:?}");
}

// Defect 3. A cluster whose configuration is only in storage (not in the
// log or a snapshot) cannot teach it to a joining node: adding one is
// refused with a typed error instead of letting the joiner believe it is
// alone.
#[test]
fn adding_a_node_to_a_cluster_it_cannot_learn_is_refused() {
    let mut c = Cluster::new(3, 93);
    c.run_ticks(30);
    c.add_joining_node(4);
    let err = c
        .change(ConfChange::single(ConfChangeKind::AddVoter, 4))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfChange(_)), "{err:?}");
    let joint = ConfChange {
        changes: vec![
            ConfChangeSingle {
                kind: ConfChangeKind::AddVoter,
                node: 4,
            },
            ConfChangeSingle {
                kind: ConfChangeKind::AddVoter,
                node: 5,
            },
        ],
    };
    assert!(matches!(c.change(joint), Err(Error::InvalidConfChange(_))));
    // Removing and re-adding members it already has is fine.
    assert!(
        c.change(ConfChange::single(ConfChangeKind::AddLearner, 4))
            .is_err()
    );
}

// Defect 3: a bootstrapped cluster (configuration in entry 1) teaches a
// joiner the full configuration, for single and joint changes.
#[test]
fn a_joiner_learns_the_full_configuration_from_the_log() {
    let mut c = Cluster::bootstrapped(3, 94);
    c.run_ticks(30);
    c.add_joining_node(4);
    c.add_joining_node(5);
    c.change(ConfChange::single(ConfChangeKind::AddVoter, 4))
        .unwrap();
    c.run_ticks(5);
    assert_eq!(c.node(4).conf_state().voters, vec![1, 2, 3, 4]);
    let joint = ConfChange {
        changes: vec![
            ConfChangeSingle {
                kind: ConfChangeKind::AddVoter,
                node: 5,
            },
            ConfChangeSingle {
                kind: ConfChangeKind::Remove,
                node: 1,
            },
        ],
    };
    c.change(joint).unwrap();
    // The removed leader steps down once the change commits, possibly
    // before node 5 caught up; the next leader (elected within a few
    // election timeouts) then teaches it.
    c.run_ticks(60);
    for id in 2..=5 {
        assert_eq!(
            c.node(id).conf_state().voters,
            vec![2, 3, 4, 5],
            "node {id}"
        );
    }
}

// Defect 3: a statically configured cluster can add a node once a snapshot
// carries the configuration; the joiner gets the snapshot, never a log it
// would replay from an empty configuration.
#[test]
fn a_joiner_learns_the_configuration_from_a_snapshot() {
    for compact_tail in [0, 100] {
        let mut c = Cluster::new(3, 95);
        c.run_ticks(30);
        for i in 0..5u8 {
            c.propose(&[i]).unwrap();
        }
        c.run_ticks(2);
        let leader = c.leader().unwrap();
        c.compact(leader, compact_tail);
        c.add_joining_node(4);
        c.change(ConfChange::single(ConfChangeKind::AddVoter, 4))
            .unwrap();
        c.run_ticks(10);
        assert_eq!(
            c.node(4).conf_state().voters,
            vec![1, 2, 3, 4],
            "tail {compact_tail}"
        );
        assert_eq!(c.installed.get(&4), Some(&1), "tail {compact_tail}");
        // Cut off, the joiner cannot elect itself alone.
        c.isolate(4);
        c.run_ticks(60);
        assert_ne!(c.node(4).role(), Role::Leader);
        c.check_applied_prefixes();
    }
}

// Defect 3, the joiner's own guard: an empty configuration plus a log that
// does not begin with a configuration entry would make it guess; it
// refuses the append.
#[test]
fn a_joiner_refuses_a_log_that_does_not_carry_the_configuration() {
    let config = Config {
        joining: true,
        ..Config::new(4)
    };
    let mut n = RaftNode::new(config, MemStorage::new(), StdRng::seed_from_u64(4)).unwrap();
    let entries = vec![
        common::noop(1, 1),
        Entry {
            index: 2,
            term: 1,
            payload: Payload::ConfChange(ConfChange::single(ConfChangeKind::AddVoter, 4)),
        },
    ];
    let append = MessageBody::Append {
        prev_index: 0,
        prev_term: 0,
        entries,
        commit: 2,
    };
    let err = n.step(msg(1, 4, 1, append)).unwrap_err();
    assert!(matches!(err, Error::ConfigurationUnknown(_)), "{err:?}");
    assert_eq!(n.log().last_index(), Ok(0));
    assert!(n.conf_state().voters.is_empty());
}

// Defect 4. A read waiting for heartbeat acknowledgements is answered once
// a configuration change makes the leader's acknowledgements a quorum.
#[test]
fn a_pending_read_is_answered_when_the_leader_becomes_the_only_voter() {
    let mut c = Cluster::new(2, 96);
    while c.leader().is_none() {
        c.tick_all();
    }
    let leader = c.leader().unwrap();
    let other = others(leader, 2)[0];
    let id = c.node_mut(leader).read_index().unwrap();
    let is_read_round = |m: &Message| {
        matches!(m.body, MessageBody::Heartbeat { read_round, .. } if read_round > 0)
            || matches!(m.body, MessageBody::HeartbeatResponse { read_round, .. } if read_round > 0)
    };
    deliver_holding(&mut c, is_read_round);
    assert!(c.reads.get(&leader).is_none_or(|r| r.is_empty()));
    c.node_mut(leader)
        .propose_conf_change(ConfChange::single(ConfChangeKind::Remove, other))
        .unwrap();
    deliver_holding(&mut c, is_read_round);
    c.process(leader);
    assert_eq!(c.node(leader).conf_state().voters, vec![leader]);
    let reads = &c.reads[&leader];
    assert_eq!(reads.iter().filter(|r| r.id == id).count(), 1, "{reads:?}");
}

// Defect 5. A refusal whose hint lies outside what was sent is malformed:
// it must not park the follower's next index at u64::MAX.
#[test]
fn a_forged_refusal_does_not_stop_replication() {
    let mut c = Cluster::new(3, 97);
    c.run_ticks(30);
    c.propose(b"a").unwrap();
    let leader = c.leader().unwrap();
    let f = others(leader, 3)[0];
    assert_eq!(
        c.node(leader).progress()[&f].state,
        ProgressState::Replicate
    );
    let term = c.node(leader).term();
    let last = c.node(leader).log().last_index().unwrap();
    for (rejected_index, hint_index) in [(last, u64::MAX), (u64::MAX, u64::MAX), (last + 5, 0)] {
        let forged = AppendResult::Rejected {
            rejected_index,
            hint_index,
            hint_term: 0,
        };
        let got =
            c.node_mut(leader)
                .step(msg(f, leader, term, MessageBody::AppendResponse(forged)));
        assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
        assert!(c.node(leader).progress()[&f].next_index <= last + 1);
    }
    let index = c.propose(b"b").unwrap();
    c.run_ticks(2);
    assert_eq!(c.node(f).log().last_index(), Ok(index));
    assert_eq!(c.node(f).log().committed(), index);
}

// Defect 6. Terms and indexes that cannot be followed by +1 are refused as
// malformed; nothing panics afterwards.
#[test]
fn terms_and_indexes_at_the_top_of_the_range_are_refused() {
    let max = u64::MAX;
    let hb = MessageBody::Heartbeat {
        commit: 0,
        read_round: 0,
        sent_at_tick: 0,
    };
    let vote = MessageBody::VoteRequest {
        pre_vote: false,
        last_index: 0,
        last_term: 0,
        transfer: false,
    };
    for (from, body) in [(1, hb.clone()), (9, hb), (3, vote)] {
        let mut n = lone(2, &[1, 2, 3]);
        let got = n.step(msg(from, 2, max, body));
        assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
        assert_eq!(n.term(), 0);
        for _ in 0..100 {
            n.tick();
            common::drain(&mut n);
        }
    }
    // A snapshot at u64::MAX, and one just below followed by appends.
    let snap = |index| Snapshot {
        meta: SnapshotMeta {
            index,
            term: 1,
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            },
        },
        data: vec![].into(),
    };
    let mut n = lone(2, &[1, 2, 3]);
    let got = n.step(msg(
        1,
        2,
        1,
        MessageBody::InstallSnapshot(Box::new(snap(max).into())),
    ));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    common::drain(&mut n);
    let mut n = lone(2, &[1, 2, 3]);
    n.step(msg(
        1,
        2,
        1,
        MessageBody::InstallSnapshot(Box::new(snap(max - 3).into())),
    ))
    .unwrap();
    common::drain(&mut n);
    let entry = |index| common::noop(index, 1);
    let ok = MessageBody::Append {
        prev_index: max - 3,
        prev_term: 1,
        entries: vec![entry(max - 2), entry(max - 1)],
        commit: max,
    };
    n.step(msg(1, 2, 1, ok)).unwrap();
    common::drain(&mut n);
    assert_eq!(n.log().committed(), max - 1);
    let top = MessageBody::Append {
        prev_index: max - 1,
        prev_term: 1,
        entries: vec![entry(max)],
        commit: max,
    };
    let got = n.step(msg(1, 2, 1, top));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    common::drain(&mut n);
    for _ in 0..50 {
        n.tick();
        common::drain(&mut n);
    }
}

// Defect 7. Node id 0 means "no node": it can neither lead nor be
// answered.
#[test]
fn node_zero_is_never_a_leader() {
    let mut n = lone(2, &[1, 2, 3]);
    let hb = MessageBody::Heartbeat {
        commit: 0,
        read_round: 0,
        sent_at_tick: 0,
    };
    assert_eq!(n.step(msg(0, 2, 1, hb)), Err(Error::UnknownPeer(0)));
    assert_eq!(n.leader(), None);
    assert!(common::drain(&mut n).is_empty());
    let snap = MessageBody::InstallSnapshot(Box::default());
    assert_eq!(n.step(msg(0, 2, 1, snap)), Err(Error::UnknownPeer(0)));
}

// Defect 8. A crash after the hard state was written but before the
// entries leaves a commit index past the log; the node restarts anyway,
// trusting only what is certainly committed.
#[test]
fn a_restart_tolerates_a_commit_index_past_the_log() {
    let mut storage = MemStorage::with_voters(&[1, 2, 3]);
    storage.set_hard_state(HardState {
        term: 2,
        vote: Some(1),
        commit: 3,
    });
    let n = RaftNode::new(Config::new(2), storage, StdRng::seed_from_u64(2)).unwrap();
    assert_eq!(n.log().committed(), 0);
    assert_eq!((n.term(), n.status().vote), (2, Some(1)));
}

// Defect 8: the documented order (snapshot, entries, then hard state)
// survives a crash between any two of its writes.
#[test]
fn the_documented_write_order_survives_a_crash_between_writes() {
    let mut c = Cluster::new(3, 98);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let f = others(leader, 3)[0];
    c.propose(b"x").unwrap();
    c.node_mut(leader).propose(b"y".to_vec()).unwrap();
    let held = deliver_holding(&mut c, |m| m.to == f);
    let n = c.node_mut(f);
    for m in held {
        let _ = n.step(m);
    }
    let ready = n.ready().unwrap();
    let persist = ready.persist;
    assert!(!persist.entries.is_empty());
    let hs = persist
        .hard_state
        .expect("the batch moves the commit index");
    let before = n.log().storage().clone();
    assert!(
        hs.commit > before.last_index().unwrap(),
        "commit points into the batch"
    );
    let restart = |disk: &MemStorage| {
        let n = RaftNode::new(Config::new(f), disk.clone(), StdRng::seed_from_u64(1)).unwrap();
        let committed = n.log().committed();
        assert!(committed <= n.log().last_index().unwrap());
        committed
    };
    // The documented order, crashing after the entries, before the hard
    // state; then after both, which keeps the stored commit index.
    let mut disk = before.clone();
    disk.append(&*persist.entries).unwrap();
    restart(&disk);
    disk.set_hard_state(hs);
    assert_eq!(restart(&disk), hs.commit);
    // The other order, crashing between the two: the node still restarts.
    let mut disk = before;
    disk.set_hard_state(hs);
    assert!(restart(&disk) < hs.commit);
}

// Defect 9. A pending transfer can be cancelled: by a transfer to the
// leader itself (as in etcd) or explicitly; proposals resume at once.
#[test]
fn a_pending_transfer_can_be_cancelled() {
    for explicit in [false, true] {
        let mut c = Cluster::new(3, 99);
        c.run_ticks(30);
        let leader = c.leader().unwrap();
        let target = others(leader, 3)[0];
        c.cut.insert((leader, target));
        c.node_mut(leader).transfer_leader(target).unwrap();
        assert!(matches!(
            c.node_mut(leader).propose(b"held".to_vec()),
            Err(Error::ProposalDropped(DropReason::Transferring { .. }))
        ));
        if explicit {
            c.node_mut(leader).cancel_transfer_leader();
        } else {
            c.node_mut(leader).transfer_leader(leader).unwrap();
        }
        assert_eq!(c.node(leader).status().transferee, None);
        assert!(c.node_mut(leader).propose(b"go".to_vec()).is_ok());
    }
}

// Defect 1, the voters' side after a crash: a voter may have acknowledged
// a lease holder's heartbeat just before it restarted, so in lease mode a
// restarted voter refuses votes for its first election timeout. A node
// that never saw a term acknowledged nothing and votes at once.
#[test]
fn a_restarted_voter_keeps_the_lease_it_may_have_granted() {
    let lease = |id| Config {
        read_mode: ReadMode::Lease,
        ..Config::new(id)
    };
    let ask = |term| {
        msg(
            1,
            2,
            term,
            MessageBody::VoteRequest {
                pre_vote: false,
                last_index: 0,
                last_term: 0,
                transfer: false,
            },
        )
    };
    let granted = |n: &mut RaftNode<MemStorage, StdRng>| {
        common::drain(n).iter().any(|m| {
            m.body
                == MessageBody::VoteResponse {
                    pre_vote: false,
                    granted: true,
                }
        })
    };
    let mut storage = MemStorage::with_voters(&[1, 2, 3]);
    storage.set_hard_state(HardState {
        term: 3,
        vote: None,
        commit: 0,
    });
    let mut restarted = RaftNode::new(lease(2), storage, StdRng::seed_from_u64(2)).unwrap();
    restarted.step(ask(4)).unwrap();
    assert!(!granted(&mut restarted), "voted within its first timeout");
    assert_eq!(restarted.term(), 3, "the request was ignored");
    // For the whole first timeout, not only before the first tick.
    let timeout = Config::new(2).election_timeout_ticks;
    for _ in 1..timeout {
        restarted.tick();
    }
    restarted.step(ask(4)).unwrap();
    assert!(
        !granted(&mut restarted),
        "voted before its first timeout ended"
    );
    restarted.tick();
    common::drain(&mut restarted);
    let term = restarted.term() + 1;
    restarted.step(ask(term)).unwrap();
    assert!(granted(&mut restarted), "votes once the timeout passed");
    let mut fresh = RaftNode::new(
        lease(2),
        MemStorage::with_voters(&[1, 2, 3]),
        StdRng::seed_from_u64(2),
    )
    .unwrap();
    fresh.step(ask(1)).unwrap();
    assert!(granted(&mut fresh), "a brand-new node votes at once");
}

// Persist-before-send for a leader's own term: a lone voter leads at once
// (its own vote is a majority), so nothing has made its term durable when
// it first sends. Its appends must wait for the write holding the term even
// in a later ready (persistence may be pipelined): a crash that lost the
// term would let it lead the same term again and send other entries under
// it, which a learner holding the first ones takes for the same entries.
#[test]
fn a_lone_voters_appends_wait_until_its_term_is_durable() {
    let mut storage = MemStorage::with_voters(&[1]);
    storage.set_conf_state(ConfState {
        voters: vec![1],
        learners: vec![2],
        voters_outgoing: vec![],
    });
    let mut n = RaftNode::new(Config::new(1), storage, StdRng::seed_from_u64(1)).unwrap();
    n.campaign();
    assert_eq!(n.role(), Role::Leader);
    let first = n.ready().unwrap();
    assert!(
        first.persist.hard_state.is_some(),
        "the term is in the first write"
    );
    assert!(first.messages.is_empty(), "{:?}", first.messages);
    n.propose(b"a".to_vec()).unwrap();
    // Heartbeats go on, and the learner answers them: still nothing of
    // the term leaves while the first write is away.
    for _ in 0..30 {
        n.tick();
        let ready = n.ready().unwrap();
        for m in &ready.messages {
            assert!(
                !matches!(m.body, MessageBody::Append { .. }),
                "an append left before the term is durable: {m:?}"
            );
            if let MessageBody::Heartbeat {
                read_round,
                sent_at_tick,
                ..
            } = m.body
            {
                let answer = Message {
                    from: 2,
                    to: 1,
                    term: m.term,
                    body: MessageBody::HeartbeatResponse {
                        read_round,
                        sent_at_tick,
                    },
                };
                let _ = n.step(answer);
            }
        }
    }
}

// A node one term below the top never campaigns into u64::MAX: messages
// of that term are refused, so a leader there could never be heard, and
// the next campaign would overflow.
#[test]
fn a_node_never_campaigns_into_the_last_term() {
    for term in [u64::MAX - 2, u64::MAX - 1] {
        let mut storage = MemStorage::with_voters(&[1, 2, 3]);
        storage.set_hard_state(HardState {
            term,
            vote: None,
            commit: 0,
        });
        let config = Config {
            pre_vote: false,
            ..Config::new(1)
        };
        let mut n = RaftNode::new(config, storage, StdRng::seed_from_u64(1)).unwrap();
        n.campaign();
        let expected = if term == u64::MAX - 2 { term + 1 } else { term };
        assert_eq!(n.term(), expected, "from term {term}");
        for _ in 0..100 {
            n.tick();
        }
        common::drain(&mut n);
        assert!(n.term() < u64::MAX, "from term {term}");
    }
}
