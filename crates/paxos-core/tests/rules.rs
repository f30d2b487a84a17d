//! Multi-Paxos rule by rule: ballots persisted before they are used,
//! promises and acceptances sent only once durable, stale ballots refused,
//! the most advanced accepted log adopted, decided entries handed out only
//! once durable here, reads confirmed by a quorum, and what malformed or
//! forged messages and failing storage get.

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::*;
use synod_protocol::{Ready, Write};

type Node = PaxosNode<MemStorage, StdRng>;

fn node(id: NodeId) -> Node {
    PaxosNode::new(
        Config::new(id),
        MemStorage::bootstrap(&[1, 2, 3]),
        StdRng::seed_from_u64(id),
    )
    .unwrap()
}

/// One ready: (sent now, held until durable, the write, committed).
struct Round {
    now: Vec<Message>,
    held: Vec<Message>,
    write: Write,
    committed: Vec<Entry>,
    reads: Vec<ReadState>,
}

/// Takes one ready, writes it to the node's storage, reports it durable.
fn round(n: &mut Node) -> Round {
    let ready: Ready<Message, Receipt> = n.ready().unwrap();
    n.storage_mut().apply_write(ready.write.clone()).unwrap();
    let written = ready.after_write.written();
    n.on_written(written.receipt);
    Round {
        now: ready.messages,
        held: written.messages,
        write: ready.write,
        committed: ready.committed,
        reads: ready.reads,
    }
}

/// Runs readies until none is left; every message sent.
fn drain(n: &mut Node) -> Vec<Message> {
    let mut out = Vec::new();
    while n.has_ready() {
        let r = round(n);
        out.extend(r.now);
        out.extend(r.held);
    }
    out
}

fn msg(from: NodeId, to: NodeId, ballot: Ballot, body: Body) -> Message {
    Message {
        from,
        to,
        ballot,
        body,
    }
}

fn b(round: u64, node: NodeId) -> Ballot {
    Ballot::new(round, node).unwrap()
}

fn cmd(index: Index, term: Term, data: &'static [u8]) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Command(Bytes::from_static(data)),
    }
}

/// A promise from a node whose log is the bootstrap configuration alone.
fn bootstrap_promise() -> Body {
    Body::Promise {
        decided: 0,
        last_term: 1,
        last_index: 1,
        suffix: Suffix::default(),
        pieces: None,
    }
}

/// Candidate node 1 leads on node 2's bootstrap promise.
fn lead_on_node_2s_promise(n: &mut Node) {
    n.step(msg(2, 1, n.promised(), bootstrap_promise()))
        .unwrap();
    assert_eq!(n.role(), Role::Leader);
}

/// Node 1 of 1-3 campaigning a second time, with its first ballot.
fn campaigned_twice() -> (Node, Ballot) {
    let mut n = node(1);
    n.campaign();
    drain(&mut n);
    let first = n.promised();
    n.campaign();
    drain(&mut n);
    assert!(n.promised() > first);
    (n, first)
}

/// Node 1 leading ballot (1, 1) over nodes 1-3, node 2 synced.
fn leader() -> Node {
    let mut n = node(1);
    n.campaign();
    drain(&mut n);
    lead_on_node_2s_promise(&mut n);
    drain(&mut n);
    n
}

#[test]
fn a_candidate_persists_its_ballot_before_any_prepare_leaves() {
    let mut n = node(1);
    n.campaign();
    let r = round(&mut n);
    assert!(
        r.now
            .iter()
            .all(|m| !matches!(m.body, Body::Prepare { .. })),
        "a prepare left before the ballot was durable: {:?}",
        r.now
    );
    let prepares = r
        .held
        .iter()
        .filter(|m| matches!(m.body, Body::Prepare { .. }))
        .count();
    assert_eq!(prepares, 2);
    let hs = r.write.hard_state.expect("the promise is written");
    assert_eq!(Ballot(hs.term), n.promised());
    assert!(r.write.must_sync);
}

#[test]
fn a_restart_never_reuses_a_ballot() {
    let mut n = node(1);
    n.campaign();
    drain(&mut n);
    let first = n.promised();
    let disk = n.storage().clone();
    let mut again = PaxosNode::new(Config::new(1), disk, StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(again.promised(), first, "the promise survives");
    again.campaign();
    assert!(again.promised() > first);
}

#[test]
fn a_promise_waits_for_the_promised_ballot_to_be_durable() {
    let mut n = node(2);
    let prepare = Body::Prepare {
        decided: 0,
        last_term: 0,
        last_index: 0,
    };
    n.step(msg(1, 2, b(3, 1), prepare)).unwrap();
    let r = round(&mut n);
    assert!(
        r.now
            .iter()
            .all(|m| !matches!(m.body, Body::Promise { .. }))
    );
    assert!(matches!(r.held[0].body, Body::Promise { .. }));
    assert_eq!(r.write.hard_state.map(|h| h.term), Some(b(3, 1).0));
    assert_eq!(n.promised(), b(3, 1));
}

#[test]
fn stale_ballots_are_refused_and_told_the_newer_one() {
    let mut n = node(2);
    let prepare = |last_index| Body::Prepare {
        decided: 0,
        last_term: 0,
        last_index,
    };
    n.step(msg(3, 2, b(5, 3), prepare(0))).unwrap();
    drain(&mut n);
    assert_eq!(n.step(msg(1, 2, b(4, 1), prepare(0))), Err(Error::Stale));
    let sent = drain(&mut n);
    assert!(
        sent.iter()
            .any(|m| m.to == 1 && m.body == Body::Nack && m.ballot == b(5, 3)),
        "{sent:?}"
    );
    let accept = Body::Accept {
        prev_index: 1,
        entries: vec![],
        decided: 0,
    };
    assert_eq!(n.step(msg(1, 2, b(4, 1), accept)), Err(Error::Stale));
    assert_eq!(n.promised(), b(5, 3));
}

// Phase 1 (Paxos Made Moderately Complex, "adopted"): the new leader takes
// the log of the most advanced promise, then opens its ballot with an
// entry of its own and syncs every acceptor that promised.
#[test]
fn the_leader_adopts_the_most_advanced_log_among_promises() {
    let mut n = node(1);
    // Node 3 led round 1; node 1 campaigns above it.
    let beat = Body::Beat {
        leader: b(1, 3),
        connected: false,
        leader_alive: false,
        priority: 0,
    };
    n.step(msg(3, 1, b(1, 3), beat)).unwrap();
    n.campaign();
    assert_eq!(n.promised(), b(2, 1));
    drain(&mut n);
    let ballot = n.promised();
    let old = b(1, 3).0;
    let promise = Body::Promise {
        decided: 0,
        last_term: old,
        last_index: 3,
        suffix: Suffix {
            after: 0,
            snapshot: None,
            entries: vec![
                Entry {
                    index: 1,
                    term: 1,
                    payload: Payload::Noop,
                },
                cmd(2, old, b"x"),
                cmd(3, old, b"y"),
            ],
        },
        pieces: None,
    };
    n.step(msg(2, 1, ballot, promise)).unwrap();
    assert_eq!(n.role(), Role::Leader);
    let r = round(&mut n);
    let log: Vec<(Index, Term)> = r.write.entries.iter().map(|e| (e.index, e.term)).collect();
    assert_eq!(
        log,
        vec![(2, old), (3, old), (4, ballot.0)],
        "adopted, then opened"
    );
    let syncs: Vec<NodeId> = r
        .now
        .iter()
        .filter(|m| matches!(m.body, Body::AcceptSync { .. }))
        .map(|m| m.to)
        .collect();
    assert_eq!(syncs, vec![2]);
}

#[test]
fn accepted_is_sent_only_after_entries_are_durable_and_decided_after() {
    let mut n = node(2);
    let ballot = b(2, 1);
    let prepare = Body::Prepare {
        decided: 0,
        last_term: 1,
        last_index: 1,
    };
    n.step(msg(1, 2, ballot, prepare)).unwrap();
    drain(&mut n);
    let sync = Body::AcceptSync {
        suffix: Suffix {
            after: 1,
            snapshot: None,
            entries: vec![cmd(2, ballot.0, b"a")],
        },
        decided: 0,
    };
    n.step(msg(1, 2, ballot, sync)).unwrap();
    let r = round(&mut n);
    assert!(
        r.now
            .iter()
            .all(|m| !matches!(m.body, Body::Accepted { .. }))
    );
    assert_eq!(r.held[0].body, Body::Accepted { last_index: 2 });
    // The leader decides 3 in the same message that brings it: it is
    // handed out to apply only once durable here.
    let accept = Body::Accept {
        prev_index: 2,
        entries: vec![cmd(3, ballot.0, b"b")],
        decided: 3,
    };
    n.step(msg(1, 2, ballot, accept)).unwrap();
    let ready = n.ready().unwrap();
    let handed: Vec<Index> = ready.committed.iter().map(|e| e.index).collect();
    assert_eq!(handed, vec![2], "3 is not durable here yet");
    n.storage_mut().apply_write(ready.write.clone()).unwrap();
    n.on_written(ready.after_write.written().receipt);
    let r = round(&mut n);
    let handed: Vec<Index> = r.committed.iter().map(|e| e.index).collect();
    assert_eq!(handed, vec![3]);
}

// Found by the simulator (chaos seed 858): a late copy of a leader's first
// sync must not cut entries this acceptor accepted since in that ballot.
#[test]
fn a_late_sync_never_cuts_what_was_accepted_since() {
    let mut n = node(2);
    let ballot = b(2, 1);
    let prepare = Body::Prepare {
        decided: 0,
        last_term: 1,
        last_index: 1,
    };
    n.step(msg(1, 2, ballot, prepare)).unwrap();
    drain(&mut n);
    let early = Body::AcceptSync {
        suffix: Suffix {
            after: 1,
            snapshot: None,
            entries: vec![cmd(2, ballot.0, b"a")],
        },
        decided: 0,
    };
    n.step(msg(1, 2, ballot, early.clone())).unwrap();
    let accept = Body::Accept {
        prev_index: 2,
        entries: vec![cmd(3, ballot.0, b"b"), cmd(4, ballot.0, b"c")],
        decided: 0,
    };
    n.step(msg(1, 2, ballot, accept)).unwrap();
    drain(&mut n);
    n.step(msg(1, 2, ballot, early)).unwrap();
    let sent = drain(&mut n);
    assert_eq!(n.storage().last_index(), Ok(4));
    assert!(sent.contains(&msg(2, 1, ballot, Body::Accepted { last_index: 4 })));
}

#[test]
fn the_leader_decides_only_with_a_quorum_holding_an_entry_of_its_ballot() {
    let mut n = leader();
    let ballot = n.promised();
    let (index, _) = n.propose(Bytes::from_static(b"w")).unwrap();
    drain(&mut n);
    assert!(n.decided() < index, "only the leader holds it");
    n.step(msg(2, 1, ballot, Body::Accepted { last_index: index }))
        .unwrap();
    assert_eq!(n.decided(), index);
    // A claim past the leader's log is forged.
    assert!(matches!(
        n.step(msg(2, 1, ballot, Body::Accepted { last_index: 99 })),
        Err(Error::Malformed(_))
    ));
}

/// The read round the leader `n` sends to node 2 in its next hand-off.
fn read_round_sent(n: &mut Node) -> u64 {
    drain(n)
        .iter()
        .find_map(|m| match m.body {
            Body::Read { seq } if m.to == 2 => Some(seq),
            _ => None,
        })
        .expect("a read round went out")
}

#[test]
fn reads_wait_for_a_quorum_of_the_ballot() {
    let mut n = leader();
    let ballot = n.promised();
    let id = n.read_index().expect("the leader reads");
    let seq = read_round_sent(&mut n);
    assert_eq!(n.pending_reads(), 1);
    // An acknowledgement of an older ballot confirms nothing.
    n.step(msg(2, 1, b(1, 2), Body::ReadAck { seq })).ok();
    assert_eq!(n.pending_reads(), 1);
    n.step(msg(2, 1, ballot, Body::ReadAck { seq })).unwrap();
    let r = round(&mut n);
    assert_eq!(r.reads.len(), 1);
    assert_eq!(r.reads[0].id, id);
    let mut follower = node(3);
    assert_eq!(follower.read_index(), None);
}

// An acknowledgement confirms a read only if it answers this leader's
// ballot and a round the leader sent: one from another of its ballots (a
// past leadership) or for a round not sent yet (forged, or a bug) would
// let a read through without the quorum that proves no newer ballot won.
#[test]
fn only_acks_of_the_ballot_for_rounds_sent_confirm_a_read() {
    let mut n = leader();
    let ballot = n.promised();
    n.read_index().expect("the leader reads");
    let seq = read_round_sent(&mut n);
    let other = [b(ballot.round() + 1, 1), b(ballot.round() - 1, 1)];
    for stale in other {
        assert_ne!(stale, ballot);
        let _ = n.step(msg(2, 1, stale, Body::ReadAck { seq }));
        assert_eq!(n.pending_reads(), 1, "an ack of {stale:?} counted");
    }
    let _ = n.step(msg(2, 1, ballot, Body::ReadAck { seq: seq + 1 }));
    assert_eq!(n.pending_reads(), 1, "an ack of a round not sent counted");
    // Nor does it count later, once that round is sent.
    n.read_index().expect("the leader reads");
    drain(&mut n);
    assert_eq!(n.pending_reads(), 2);
    n.step(msg(2, 1, ballot, Body::ReadAck { seq })).unwrap();
    assert_eq!(n.pending_reads(), 1, "the first read, by its own round");
}

#[test]
fn proposals_are_refused_with_the_reason() {
    let mut f = node(2);
    assert!(matches!(
        f.propose(Bytes::from_static(b"x")),
        Err(ProposeError::NotLeader { .. })
    ));
    let mut n = leader();
    assert_eq!(n.propose(Bytes::new()), Err(ProposeError::Empty));
    let big = Bytes::from(vec![0u8; (1 << 20) + 1]);
    assert!(matches!(n.propose(big), Err(ProposeError::TooLarge { .. })));
}

#[test]
fn malformed_and_forged_messages_are_refused() {
    let mut n = node(2);
    let ballot = b(2, 1);
    let prepare = Body::Prepare {
        decided: 0,
        last_term: 0,
        last_index: 0,
    };
    // A prepare in a ballot the sender does not own.
    assert!(matches!(
        n.step(msg(3, 2, ballot, prepare.clone())),
        Err(Error::Malformed(_))
    ));
    // Strangers and misdirected messages.
    assert_eq!(
        n.step(msg(9, 2, b(2, 9), prepare.clone())),
        Err(Error::UnknownPeer(9))
    );
    assert!(matches!(
        n.step(msg(1, 3, ballot, prepare.clone())),
        Err(Error::WrongRecipient { .. })
    ));
    let accept = |prev_index, entries| Body::Accept {
        prev_index,
        entries,
        decided: 0,
    };
    // Entries not numbered one by one, terms past the ballot, indexes at
    // the top of the range.
    let gap = accept(1, vec![cmd(3, ballot.0, b"x")]);
    assert!(matches!(
        n.step(msg(1, 2, ballot, gap)),
        Err(Error::Malformed(_))
    ));
    let future = accept(1, vec![cmd(2, ballot.0 + 1, b"x")]);
    assert!(matches!(
        n.step(msg(1, 2, ballot, future)),
        Err(Error::Malformed(_))
    ));
    let top = accept(u64::MAX - 1, vec![cmd(u64::MAX, 1, b"x")]);
    assert!(matches!(
        n.step(msg(1, 2, ballot, top)),
        Err(Error::Malformed(_))
    ));
    let max_prepare = Body::Prepare {
        decided: 0,
        last_term: 0,
        last_index: u64::MAX,
    };
    assert!(matches!(
        n.step(msg(1, 2, ballot, max_prepare)),
        Err(Error::Malformed(_))
    ));
    // A leader cannot have decided past its own log (the acceptor would
    // send its log "after u64::MAX").
    let past = Body::Prepare {
        decided: u64::MAX,
        last_term: 0,
        last_index: 3,
    };
    assert!(matches!(
        n.step(msg(1, 2, ballot, past)),
        Err(Error::Malformed(_))
    ));
    // An answer addressed to a ballot the addressee does not own.
    let forged = Body::Accepted { last_index: 1 };
    assert!(matches!(
        n.step(msg(1, 2, ballot, forged)),
        Err(Error::Malformed(_))
    ));
    // Still the bootstrapped promise (term 1: no round yet).
    assert_eq!(n.promised().round(), 0, "nothing was promised");
}

#[test]
fn storage_failures_are_returned_not_panicked() {
    // A storage whose reads fail once the node is running.
    #[derive(Debug, Clone)]
    struct Failing(MemStorage, bool);
    impl Storage for Failing {
        fn initial_state(&self) -> Result<synod_protocol::InitialState, StorageError> {
            self.0.initial_state()
        }
        fn entries(&self, lo: Index, hi: Index, max: u64) -> Result<Vec<Entry>, StorageError> {
            if self.1 {
                return Err(StorageError::Other("disk on fire".into()));
            }
            self.0.entries(lo, hi, max)
        }
        fn term(&self, index: Index) -> Result<Term, StorageError> {
            self.0.term(index)
        }
        fn first_index(&self) -> Result<Index, StorageError> {
            self.0.first_index()
        }
        fn last_index(&self) -> Result<Index, StorageError> {
            self.0.last_index()
        }
        fn snapshot(&self, index: Index) -> Result<Snapshot, StorageError> {
            self.0.snapshot(index)
        }
    }
    let mut storage = MemStorage::bootstrap(&[1]);
    storage.set_hard_state(HardState {
        term: 0,
        vote: None,
        commit: 1,
    });
    // Failing from the start: the node reads its log on start (to replay
    // decided membership changes) and says why it cannot start.
    let failing = PaxosNode::new(
        Config::new(1),
        Failing(storage.clone(), true),
        StdRng::seed_from_u64(1),
    );
    assert!(matches!(failing, Err(Error::Storage(_))));
    // Failing once running: the next hand-off says so.
    let mut n = PaxosNode::new(
        Config::new(1),
        Failing(storage, false),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.storage_mut().1 = true;
    assert!(matches!(n.ready(), Err(Error::Storage(_))));
}

#[test]
fn configuration_is_validated() {
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
        bad(|c| c.id = MAX_NODE_ID + 1),
        Error::InvalidConfig { field: "id", .. }
    ));
    assert!(matches!(
        bad(|c| c.election_timeout_ticks = 1),
        Error::InvalidConfig { .. }
    ));
    let storage = MemStorage::with_voters(&[1, MAX_NODE_ID + 1]);
    assert!(matches!(
        PaxosNode::new(Config::new(1), storage, StdRng::seed_from_u64(1)),
        Err(Error::InvalidMembership(_))
    ));
}

// Flexible quorums (Howard, Malkhi, Spiegelman 2016): with 5 voters, a
// phase-1 quorum of 4 and a phase-2 quorum of 2 intersect; the leader
// decides with one acceptor besides itself, and leads only with four
// promises.
#[test]
fn flexible_quorums_elect_with_q1_and_decide_with_q2() {
    let config = Config {
        phase1_quorum: Some(4),
        phase2_quorum: Some(2),
        ..Config::new(1)
    };
    let mut n = PaxosNode::new(
        config,
        MemStorage::bootstrap(&[1, 2, 3, 4, 5]),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    drain(&mut n);
    let ballot = n.promised();
    let promise = || Body::Promise {
        decided: 0,
        last_term: 1,
        last_index: 1,
        suffix: Suffix {
            after: 0,
            ..Suffix::default()
        },
        pieces: None,
    };
    n.step(msg(2, 1, ballot, promise())).unwrap();
    n.step(msg(3, 1, ballot, promise())).unwrap();
    assert_eq!(n.role(), Role::Candidate, "three of four promises");
    n.step(msg(4, 1, ballot, promise())).unwrap();
    assert_eq!(n.role(), Role::Leader);
    drain(&mut n);
    let (index, _) = n.propose(Bytes::from_static(b"w")).unwrap();
    drain(&mut n);
    // Node 5 never promised, so its acceptance does not count.
    n.step(msg(5, 1, ballot, Body::Accepted { last_index: index }))
        .unwrap();
    assert!(n.decided() < index);
    n.step(msg(2, 1, ballot, Body::Accepted { last_index: index }))
        .unwrap();
    assert_eq!(n.decided(), index, "the leader and one acceptor decide");
}

#[test]
fn quorums_that_do_not_intersect_are_refused() {
    for (q1, q2) in [(2, 3), (3, 2), (0, 5), (6, 1)] {
        let config = Config {
            phase1_quorum: Some(q1),
            phase2_quorum: Some(q2),
            ..Config::new(1)
        };
        let got = PaxosNode::new(
            config,
            MemStorage::bootstrap(&[1, 2, 3, 4, 5]),
            StdRng::seed_from_u64(1),
        );
        assert!(
            matches!(got, Err(Error::InvalidConfig { .. })),
            "q1 {q1} q2 {q2}: {got:?}"
        );
    }
}

// An accept past what an acceptor holds of this ballot's log keeps the
// entries of earlier ballots after it that are the same, and cuts only from
// the first that differs: those entries may have been counted toward a
// decision. A sync cut at the message size leaves such a tail (chaos seeds
// 1001226 and 1002792 lost a decided entry when the accept appended).
#[test]
fn an_accept_after_a_cut_sync_keeps_the_same_entries_after_it() {
    let mut n = node(2);
    let (b1, b2) = (b(1, 1), b(2, 3));
    let log: Vec<Entry> = (2..=8).map(|i| cmd(i, b1.0, b"v")).collect();
    n.step(msg(1, 2, b1, prepare(0, 1, 1))).unwrap();
    n.step(msg(1, 2, b1, sync(1, log.clone(), 1))).unwrap();
    drain(&mut n);
    assert_eq!(n.storage().last_index().unwrap(), 8);
    // A new leader holds the same log; its sync is cut after entry 6.
    n.step(msg(3, 2, b2, prepare(1, b1.0, 8))).unwrap();
    n.step(msg(3, 2, b2, sync(1, log[..5].to_vec(), 1)))
        .unwrap();
    drain(&mut n);
    // Entry 7 comes as an accept: entry 8 stays.
    let accept = Body::Accept {
        prev_index: 6,
        entries: vec![log[5].clone()],
        decided: 1,
    };
    n.step(msg(3, 2, b2, accept)).unwrap();
    drain(&mut n);
    assert_eq!(n.storage().last_index().unwrap(), 8);
    assert_eq!(n.storage().term(8), Ok(b1.0));
    // An entry that differs replaces the log from there.
    let other = Body::Accept {
        prev_index: 7,
        entries: vec![cmd(8, b2.0, b"w")],
        decided: 1,
    };
    n.step(msg(3, 2, b2, other)).unwrap();
    drain(&mut n);
    assert_eq!(n.storage().last_index().unwrap(), 8);
    assert_eq!(n.storage().term(8), Ok(b2.0));
}

// Phase 2b: an acceptor accepts only under the ballot it promised. A
// sync or an accept of a higher ballot it never promised (its prepare was
// lost) gets a request to be prepared, changes neither log nor promise,
// and leaves nothing to persist; after the prepare, the same sync is
// taken.
#[test]
fn phase_two_messages_of_a_ballot_never_promised_ask_for_a_prepare() {
    let mut n = node(2);
    let (promised, higher) = (b(2, 1), b(3, 3));
    n.step(msg(1, 2, promised, prepare(0, 1, 1))).unwrap();
    drain(&mut n);
    let last = n.storage().last_index().unwrap();
    let accept = Body::Accept {
        prev_index: last,
        entries: vec![cmd(last + 1, higher.0, b"b")],
        decided: 0,
    };
    let higher_sync = sync(last, vec![cmd(last + 1, higher.0, b"a")], 0);
    for body in [higher_sync.clone(), accept] {
        n.step(msg(3, 2, higher, body)).unwrap();
        let sent = drain(&mut n);
        assert_eq!(sent, vec![msg(2, 3, promised, Body::Resync)]);
        assert_eq!(n.storage().last_index(), Ok(last));
        assert_eq!(n.promised(), promised);
    }
    n.step(msg(3, 2, higher, prepare(0, 1, 1))).unwrap();
    drain(&mut n);
    n.step(msg(3, 2, higher, higher_sync)).unwrap();
    let sent = drain(&mut n);
    let accepted = Body::Accepted {
        last_index: last + 1,
    };
    assert!(sent.contains(&msg(2, 3, higher, accepted)), "{sent:?}");
    assert_eq!(n.storage().term(last + 1), Ok(higher.0));
}

// A Nack names a newer ballot: a leader or a candidate below it steps
// down at once (rather than waiting to hear from that ballot's owner), and
// its next campaign takes a round above the one it learned. A Nack of an
// older ballot, or of its own, changes nothing.
#[test]
fn a_nack_of_a_newer_ballot_ends_leading_and_campaigning() {
    let newer = b(5, 3);
    let mut leading = leader();
    leading.step(msg(2, 1, b(0, 2), Body::Nack)).unwrap();
    assert_eq!(leading.role(), Role::Leader, "an older ballot");
    let own = leading.promised();
    leading.step(msg(2, 1, own, Body::Nack)).unwrap();
    assert_eq!(leading.role(), Role::Leader, "its own ballot is not newer");
    leading.step(msg(2, 1, newer, Body::Nack)).unwrap();
    assert_eq!(leading.role(), Role::Follower);

    let mut campaigning = node(1);
    campaigning.campaign();
    drain(&mut campaigning);
    assert_eq!(campaigning.role(), Role::Candidate);
    campaigning.step(msg(3, 1, newer, Body::Nack)).unwrap();
    assert_eq!(campaigning.role(), Role::Follower);
    campaigning.campaign();
    drain(&mut campaigning);
    assert!(campaigning.promised() > newer, "{}", campaigning.promised());
}

fn prepare(decided: Index, last_term: Term, last_index: Index) -> Body {
    Body::Prepare {
        decided,
        last_term,
        last_index,
    }
}

fn sync(after: Index, entries: Vec<Entry>, decided: Index) -> Body {
    Body::AcceptSync {
        suffix: Suffix {
            after,
            snapshot: None,
            entries,
        },
        decided,
    }
}

// Ballots are never reused after a restart (issue 13, item 1). When a
// candidate's own promise is a phase-1 quorum (here q1 = 1, q2 = 3), it
// leads only once that promise is durable: had it led at once, its
// accepts would leave with the write still in flight, a crash would lose
// the promise, and the restarted node would campaign with the same ballot
// and propose other values under it, which acceptors holding the first
// values take as the same entries (the `paxos_cluster` fuzz target found
// a decided entry changed that way).
#[test]
fn a_candidate_that_is_its_own_phase1_quorum_leads_once_its_promise_is_durable() {
    let config = Config {
        phase1_quorum: Some(1),
        phase2_quorum: Some(3),
        ..Config::new(1)
    };
    let start = || {
        PaxosNode::new(
            config.clone(),
            MemStorage::bootstrap(&[1, 2, 3]),
            StdRng::seed_from_u64(1),
        )
        .unwrap()
    };
    let mut n: Node = start();
    n.campaign();
    let ballot = n.promised();
    assert_eq!(
        n.role(),
        Role::Candidate,
        "not before the promise is durable"
    );
    assert!(n.propose(Bytes::from_static(b"a")).is_err());
    let ready = n.ready().unwrap();
    assert_eq!(
        ready.write.hard_state.map(|hs| hs.term),
        Some(ballot.0),
        "the promise is in the write"
    );
    assert!(
        ready.messages.is_empty(),
        "nothing leaves under the ballot before it is durable: {:?}",
        ready.messages
    );
    // The crash: the write never reaches the disk. The restarted node
    // campaigns with the same ballot, which nobody has seen used.
    drop(ready);
    let mut n = start();
    n.campaign();
    assert_eq!(n.promised(), ballot);
    assert_eq!(n.role(), Role::Candidate);
    // This time the write is durable: now it leads.
    let first = round(&mut n);
    assert!(first.now.is_empty());
    assert_eq!(n.role(), Role::Leader);
    assert_eq!(n.leader_ballot(), ballot);
    assert!(n.propose(Bytes::from_static(b"a")).is_ok());
}

// The same for a cluster of one: it leads once its promise is durable.
#[test]
fn a_single_voter_leads_once_its_promise_is_durable() {
    let mut n: Node = PaxosNode::new(
        Config::new(1),
        MemStorage::bootstrap(&[1]),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    assert_eq!(n.role(), Role::Candidate);
    drain(&mut n);
    assert_eq!(n.role(), Role::Leader);
    let (index, _) = n.propose(Bytes::from_static(b"x")).unwrap();
    drain(&mut n);
    assert_eq!(n.decided(), index);
}

// Phase 1b counts only for the ballot it answers: a promise delayed from
// this candidate's previous campaign says nothing of what the acceptor
// accepted since (under a ballot in between), so it is refused as stale
// and does not complete the new ballot's quorum.
#[test]
fn a_promise_for_an_earlier_ballot_of_the_same_candidate_is_not_counted() {
    let (mut n, first) = campaigned_twice();
    assert!(n.promised() > first);
    let late = msg(2, 1, first, bootstrap_promise());
    assert_eq!(n.step(late), Err(Error::Stale));
    assert_eq!(n.role(), Role::Candidate);
}

// A late promise reaching the leader gets the acceptor synced from the
// decided index it reports, up to the leader's own last index; one that
// claims more decided than the leader holds is forged or corrupt, and
// refused.
#[test]
fn a_late_promise_is_synced_unless_it_claims_more_than_the_leader_holds() {
    let mut n = leader();
    let ballot = n.promised();
    let last = n.storage().last_index().unwrap();
    let promise = |decided| Body::Promise {
        decided,
        last_term: 1,
        last_index: decided,
        suffix: Suffix::default(),
        pieces: None,
    };
    assert!(matches!(
        n.step(msg(3, 1, ballot, promise(last + 1))),
        Err(Error::Malformed(_))
    ));
    assert_eq!(drain(&mut n), vec![], "nothing sent");
    n.step(msg(3, 1, ballot, promise(last))).unwrap();
    let sent = drain(&mut n);
    assert!(
        sent.iter()
            .any(|m| m.to == 3 && matches!(m.body, Body::AcceptSync { .. })),
        "{sent:?}"
    );
}

// A candidate told of a larger log behind a snapshot (too large for the
// promise) that holds the snapshot's last entry itself (same index and
// term) knows everything up to it is decided (a snapshot covers
// decided entries only): it raises its decided index and asks for the
// entries after it rather than for the snapshot.
#[test]
fn a_candidate_holding_a_large_snapshots_end_takes_it_as_decided() {
    let mut storage = MemStorage::bootstrap(&[1, 2, 3]);
    storage
        .append((2..=5).map(|i| cmd(i, 1, b"x")).collect::<Vec<_>>())
        .unwrap();
    let mut n = PaxosNode::new(Config::new(1), storage, StdRng::seed_from_u64(1)).unwrap();
    n.campaign();
    drain(&mut n);
    assert_eq!(n.decided(), 1, "the bootstrap configuration only");
    let meta = SnapshotMeta {
        index: 3,
        term: 1,
        conf_state: n.conf_state(),
    };
    let promise = Body::Promise {
        decided: 3,
        last_term: 1,
        last_index: 8,
        suffix: Suffix::default(),
        pieces: Some(Box::new(meta)),
    };
    n.step(msg(2, 1, n.promised(), promise)).unwrap();
    assert_eq!(n.decided(), 3);
    let sent = drain(&mut n);
    assert!(
        sent.iter()
            .all(|m| !matches!(m.body, Body::FetchPiece { .. })),
        "asked for the snapshot: {sent:?}"
    );
}

// A promise from an acceptor that compacted past the candidate's decided
// index carries its (small) snapshot and the entries after it: the
// candidate installs the snapshot, takes the entries after it, and leads
// with that whole log.
#[test]
fn a_candidate_adopts_a_promises_snapshot_and_the_entries_after_it() {
    let mut n = node(1);
    n.campaign();
    drain(&mut n);
    let snapshot = Snapshot {
        meta: SnapshotMeta {
            index: 5,
            term: 1,
            conf_state: n.conf_state(),
        },
        data: Bytes::from_static(b"state at 5"),
    };
    let promise = Body::Promise {
        decided: 5,
        last_term: 1,
        last_index: 7,
        suffix: Suffix {
            after: 5,
            snapshot: Some(Box::new(snapshot)),
            entries: vec![cmd(6, 1, b"f"), cmd(7, 1, b"g")],
        },
        pieces: None,
    };
    n.step(msg(2, 1, n.promised(), promise)).unwrap();
    assert_eq!(n.role(), Role::Leader);
    drain(&mut n);
    let log = n.storage();
    assert_eq!(log.snapshot(0).unwrap().meta.index, 5);
    assert_eq!(
        log.entries(6, 8, u64::MAX).unwrap(),
        vec![cmd(6, 1, b"f"), cmd(7, 1, b"g")]
    );
    assert_eq!(log.last_index(), Ok(8), "and its own entry after them");
}

// Phase 2b counts only for the ballot it answers: an Accepted left over
// from this node's earlier leadership says the acceptor held that
// ballot's entries, which need not be the current log's, so it is
// refused as stale and decides nothing.
#[test]
fn an_accepted_of_an_earlier_ballot_of_the_same_leader_decides_nothing() {
    let (mut n, first) = campaigned_twice();
    lead_on_node_2s_promise(&mut n);
    drain(&mut n);
    let decided = n.decided();
    let last_index = n.storage().last_index().unwrap();
    assert!(last_index > decided);
    let old = Body::Accepted { last_index };
    assert_eq!(n.step(msg(2, 1, first, old)), Err(Error::Stale));
    assert_eq!(n.decided(), decided);
}

// A leader decides only through an entry of its own ballot (the entries
// of earlier ballots it adopted are decided with it, as in Raft's Figure
// 8): an acceptor holding the adopted entries alone decides nothing.
#[test]
fn adopted_entries_are_decided_only_with_an_entry_of_the_ballot() {
    let (mut n, _) = campaigned_twice();
    let promise = Body::Promise {
        decided: 1,
        last_term: 1,
        last_index: 3,
        suffix: Suffix {
            after: 1,
            snapshot: None,
            entries: vec![cmd(2, 1, b"b"), cmd(3, 1, b"c")],
        },
        pieces: None,
    };
    let ballot = n.promised();
    n.step(msg(2, 1, ballot, promise)).unwrap();
    assert_eq!(n.role(), Role::Leader);
    drain(&mut n);
    let own = n.storage().last_index().unwrap();
    assert_eq!(own, 4, "its own entry after the adopted 2 and 3");
    let decided = n.decided();
    assert!(decided < 3);
    let accepted = |last_index| Body::Accepted { last_index };
    n.step(msg(2, 1, ballot, accepted(3))).unwrap();
    assert_eq!(n.decided(), decided, "no entry of the ballot held yet");
    n.step(msg(2, 1, ballot, accepted(own))).unwrap();
    assert_eq!(n.decided(), own);
}

// The leader's limits hold exactly: a command of `max_proposal_bytes` is
// taken and one byte more refused; `max_uncommitted_entries` undecided
// entries are allowed and the proposal past them is refused as busy.
#[test]
fn proposal_limits_hold_exactly() {
    let config = Config {
        max_proposal_bytes: 64,
        max_uncommitted_entries: 8,
        ..Config::new(1)
    };
    let storage = MemStorage::bootstrap(&[1, 2, 3]);
    let mut n = PaxosNode::new(config, storage, StdRng::seed_from_u64(1)).unwrap();
    n.campaign();
    drain(&mut n);
    lead_on_node_2s_promise(&mut n);
    let size = |len: usize| Bytes::from(vec![7u8; len]);
    assert!(n.propose(size(64)).is_ok());
    assert!(matches!(
        n.propose(size(65)),
        Err(ProposeError::TooLarge {
            bytes: 65,
            limit: 64
        })
    ));
    let last = loop {
        match n.propose(size(1)) {
            Ok((index, _)) => assert!(index - n.decided() <= 8, "{index}"),
            Err(ProposeError::Busy) => break n.storage().last_index().unwrap(),
            Err(e) => panic!("{e:?}"),
        }
        drain(&mut n);
    };
    assert_eq!(last - n.decided(), 8, "exactly the limit undecided");
}
