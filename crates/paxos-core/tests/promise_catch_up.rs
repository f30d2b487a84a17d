//! Phase 1 with bounded promises: a candidate whose quorum holds a longer
//! log than its own takes it a message at a time before it leads (more
//! entries through another prepare; a large snapshot in pieces it asks
//! for), so no promise carries more than `max_size_per_msg_bytes` of
//! entries or more than `snapshot_chunk_bytes` of snapshot, and the
//! candidate still leads with every decided entry.

use crate::support;

use std::collections::BTreeSet;

use bytes::Bytes;
use support::Cluster;
use synod_paxos_core::*;

const CHUNK: u64 = 1024;
const MAX_MSG: u64 = 64;
/// The state machine's image: 10 KiB, ten pieces.
const IMAGE: usize = 10 * 1024 + 7;

fn config(id: NodeId) -> Config {
    Config {
        snapshot_chunk_bytes: CHUNK,
        max_size_per_msg_bytes: MAX_MSG,
        ..Config::new(id)
    }
}

fn image() -> Bytes {
    Bytes::from((0..IMAGE).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

/// Three nodes; node 3 cut off while `commands` are decided by the other
/// two; then (with `compact`) those two snapshot and compact at their
/// decided index. The old leader is then cut off, node 3 and the node
/// ahead of it (`ahead`) reconnected, and node 3 campaigns. Returns the
/// cluster, the node ahead and its decided index.
fn lagging_candidate(seed: u64, commands: usize, compact: bool) -> (Cluster, NodeId, Index) {
    let mut c = Cluster::new(3, seed, config);
    c.isolate(3);
    let l = c.until_leader(300);
    assert_ne!(l, 3, "node 3 is cut off");
    for _ in 0..commands {
        assert!(c.propose(l, b"command"));
    }
    c.ticks(5);
    let ahead = if l == 1 { 2 } else { 1 };
    let at = c.nodes[&l].decided();
    assert_eq!(c.nodes[&ahead].decided(), at);
    assert!(at as usize > commands);
    if compact {
        for id in [l, ahead] {
            let n = c.nodes.get_mut(&id).unwrap();
            let cs = n.conf_state();
            let s = n.storage_mut();
            s.create_snapshot(at, cs, image()).unwrap();
            s.compact(at).unwrap();
        }
    }
    c.heal();
    c.isolate(l);
    c.nodes.get_mut(&3).unwrap().campaign();
    c.drive(3);
    (c, ahead, at)
}

/// Ticks (every message delivered, in rounds, within the tick) until node
/// 3 leads, at most `budget` ticks; messages to node 3 that `drop` picks
/// are lost. Returns every message sent to node 3.
fn until_node_3_leads(
    c: &mut Cluster,
    budget: u64,
    mut drop: impl FnMut(&Message) -> bool,
) -> Vec<Message> {
    let mut seen = Vec::new();
    for _ in 0..budget {
        if c.nodes[&3].role() == Role::Leader {
            return seen;
        }
        c.tick_watching(3, &mut seen, &mut drop);
    }
    panic!(
        "node 3 did not lead within {budget} ticks: {:?}",
        c.nodes[&3].role()
    );
}

/// Node 3 leads holding every entry the node ahead decided, and decides
/// a new command with it.
fn check_leads_with_everything(c: &mut Cluster, ahead: NodeId, at: Index) {
    let first = c.nodes[&ahead].storage().first_index().unwrap();
    for i in first.max(1)..=at {
        assert_eq!(c.term(3, i), c.term(ahead, i), "entry {i}");
    }
    assert!(c.propose(3, b"after"));
    c.ticks(10);
    let d = c.nodes[&3].decided();
    assert!(d > at, "decided {d}, the node ahead had {at}");
    assert_eq!(c.nodes[&ahead].decided(), d);
    assert_eq!(c.term(ahead, d), c.term(3, d));
}

#[test]
fn a_long_suffix_comes_a_message_at_a_time() {
    for seed in 0..5 {
        let (mut c, ahead, at) = lagging_candidate(seed, 60, false);
        let seen = until_node_3_leads(&mut c, 100, |_| false);
        // First what safety needs: it leads with every decided entry.
        check_leads_with_everything(&mut c, ahead, at);
        let promises: Vec<&Vec<Entry>> = seen
            .iter()
            .filter(|m| m.from == ahead)
            .filter_map(|m| match &m.body {
                Body::Promise { suffix, .. } => Some(&suffix.entries),
                _ => None,
            })
            .collect();
        for entries in &promises {
            let bytes: u64 = entries.iter().map(Entry::size_bytes).sum();
            assert!(
                entries.len() <= 1 || bytes <= MAX_MSG,
                "seed {seed}: a promise of {} entries, {bytes} bytes",
                entries.len()
            );
        }
        let carried: usize = promises.iter().map(|e| e.len()).sum();
        assert!(
            promises.len() >= 5 && carried >= 60,
            "seed {seed}: {} promises carried {carried} entries",
            promises.len()
        );
    }
}

#[test]
fn lost_promises_are_asked_for_again() {
    let (mut c, ahead, at) = lagging_candidate(3, 60, false);
    // Every third promise from the node ahead is lost.
    let mut n = 0;
    let seen = until_node_3_leads(&mut c, 200, |m| {
        let promise = m.from == ahead && matches!(m.body, Body::Promise { .. });
        n += u32::from(promise);
        promise && n % 3 == 0
    });
    assert!(n >= 6, "{n} promises");
    assert!(!seen.is_empty());
    check_leads_with_everything(&mut c, ahead, at);
}

fn fetched(seen: &[Message]) -> Vec<(u64, usize)> {
    seen.iter()
        .filter_map(|m| match &m.body {
            Body::PromisePiece { offset, data, .. } => Some((*offset, data.len())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_candidate_behind_a_large_snapshot_fetches_it_in_pieces() {
    for stages in [false, true] {
        for seed in 0..5 {
            let (mut c, ahead, at) = lagging_candidate(seed, 60, true);
            c.nodes
                .get_mut(&3)
                .unwrap()
                .storage_mut()
                .set_stages_snapshots(stages);
            let seen = until_node_3_leads(&mut c, 100, |_| false);
            // The promise names the snapshot instead of carrying it.
            assert!(seen.iter().any(|m| matches!(
                &m.body,
                Body::Promise { pieces: Some(meta), suffix, .. }
                    if meta.index == at && suffix.entries.is_empty()
            )));
            for m in &seen {
                if let Body::Promise { suffix, .. } = &m.body {
                    assert!(suffix.snapshot.is_none(), "a snapshot whole in a promise");
                }
            }
            let got = fetched(&seen);
            assert!(
                got.len() >= IMAGE / CHUNK as usize,
                "stages {stages} seed {seed}: {got:?}"
            );
            assert!(got.iter().all(|&(_, len)| len as u64 <= CHUNK));
            let snap = c.nodes[&3].storage().snapshot(0).unwrap();
            assert_eq!(snap.meta.index, at);
            assert_eq!(snap.data, image(), "stages {stages} seed {seed}");
            check_leads_with_everything(&mut c, ahead, at);
        }
    }
}

#[test]
fn lost_fetched_pieces_are_asked_for_again() {
    for stages in [false, true] {
        let (mut c, ahead, at) = lagging_candidate(9, 60, true);
        c.nodes
            .get_mut(&3)
            .unwrap()
            .storage_mut()
            .set_stages_snapshots(stages);
        // Every odd-numbered piece is lost the first time it comes.
        let mut lost = BTreeSet::new();
        let seen = until_node_3_leads(&mut c, 300, |m| match m.body {
            Body::PromisePiece { offset, .. } => (offset / CHUNK) % 2 == 1 && lost.insert(offset),
            _ => false,
        });
        let got = fetched(&seen);
        let distinct: BTreeSet<u64> = got.iter().map(|p| p.0).collect();
        assert!(got.len() > distinct.len(), "stages {stages}: {got:?}");
        assert_eq!(distinct.len(), IMAGE.div_ceil(CHUNK as usize));
        assert_eq!(c.nodes[&3].storage().snapshot(0).unwrap().data, image());
        check_leads_with_everything(&mut c, ahead, at);
    }
}

#[test]
fn fetches_and_fetched_pieces_outside_their_ballot_are_refused() {
    let (mut c, ahead, _) = lagging_candidate(1, 60, true);
    let _ = until_node_3_leads(&mut c, 100, |_| false);
    let ballot = c.nodes[&3].promised();
    let meta = c.nodes[&3].storage().snapshot(0).unwrap().meta;
    let piece = |ballot| Message {
        from: ahead,
        to: 3,
        ballot,
        body: Body::PromisePiece {
            meta: Box::new(meta.clone()),
            total: 8,
            offset: 0,
            data: Bytes::from_static(b"12345678"),
        },
    };
    // An answer in a ballot node 3 does not own is malformed.
    let foreign = Ballot::new(ballot.round() + 1, ahead).unwrap();
    assert!(matches!(
        c.nodes.get_mut(&3).unwrap().step(piece(foreign)),
        Err(Error::Malformed(_))
    ));
    // In its own ballot, but node 3 leads and fetches nothing: ignored.
    assert!(matches!(
        c.nodes.get_mut(&3).unwrap().step(piece(ballot)),
        Err(Error::Stale)
    ));
    // A fetch must come in its sender's own ballot.
    let fetch = |from, ballot| Message {
        from,
        to: ahead,
        ballot,
        body: Body::FetchPiece {
            index: meta.index,
            offset: 0,
        },
    };
    assert!(matches!(
        c.nodes.get_mut(&ahead).unwrap().step(fetch(3, foreign)),
        Err(Error::Malformed(_))
    ));
    // In a ballot the acceptor did not promise: stale, and unanswered.
    let unpromised = Ballot::new(ballot.round() + 5, 3).unwrap();
    c.drive(ahead);
    c.in_flight.clear();
    let r = c.nodes.get_mut(&ahead).unwrap().step(fetch(3, unpromised));
    assert!(matches!(r, Err(Error::Stale)), "{r:?}");
    c.drive(ahead);
    assert!(
        !c.in_flight
            .iter()
            .any(|m| matches!(m.body, Body::PromisePiece { .. }))
    );
    // A promise naming a snapshot beside entries is malformed.
    let promise = Message {
        from: ahead,
        to: 3,
        ballot,
        body: Body::Promise {
            decided: 0,
            last_term: 1,
            last_index: meta.index + 1,
            suffix: Suffix {
                after: meta.index,
                snapshot: None,
                entries: vec![Entry {
                    term: 1,
                    index: meta.index + 1,
                    payload: Payload::Noop,
                }],
            },
            pieces: Some(Box::new(meta.clone())),
        },
    };
    assert!(matches!(
        c.nodes.get_mut(&3).unwrap().step(promise),
        Err(Error::Malformed(_))
    ));
}

// A catch-up that takes longer than an election timeout (every piece lost
// three times, so each comes only when asked for again) is not campaigned over by
// the acceptor that promised the candidate: the candidate says it is alive
// while it progresses, and leads in the ballot it started.
#[test]
fn a_slow_catch_up_is_not_campaigned_over() {
    for stages in [false, true] {
        let (mut c, ahead, at) = lagging_candidate(4, 60, true);
        c.nodes
            .get_mut(&3)
            .unwrap()
            .storage_mut()
            .set_stages_snapshots(stages);
        let ballot = c.nodes[&3].promised();
        let started = c.now;
        let mut lost = std::collections::BTreeMap::<u64, u32>::new();
        until_node_3_leads(&mut c, 300, |m| match m.body {
            Body::PromisePiece { offset, .. } => {
                let n = lost.entry(offset).or_default();
                *n += 1;
                *n <= 3
            }
            _ => false,
        });
        let took = c.now - started;
        let timeout = u64::from(config(3).election_timeout_ticks);
        assert!(
            took > 2 * timeout,
            "stages {stages}: took only {took} ticks"
        );
        assert_eq!(c.nodes[&3].promised(), ballot, "stages {stages}");
        assert_eq!(c.nodes[&ahead].promised(), ballot, "stages {stages}");
        check_leads_with_everything(&mut c, ahead, at);
    }
}

// A candidate asks for a window of pieces and then hears nothing from the
// acceptor for most of an election timeout: neither its pieces nor its
// beats, as when the acceptor's disk or machine is slow. The window is
// not asked for again meanwhile (the copies would only queue behind the
// pieces on their way, a window of megabytes each time); once the
// acceptor is heard again the candidate goes on and leads.
#[test]
fn a_silent_acceptor_is_not_asked_for_the_window_again() {
    for stages in [false, true] {
        let (mut c, ahead, at) = lagging_candidate(6, 60, true);
        c.nodes
            .get_mut(&3)
            .unwrap()
            .storage_mut()
            .set_stages_snapshots(stages);
        let mut held: Vec<Message> = Vec::new();
        let mut seen = Vec::new();
        // Held from the second piece on (the first tells the size and
        // opens the window), for 8 ticks (the election timeout is 10).
        let mut holding = false;
        for _ in 0..8 {
            c.tick_watching(3, &mut seen, &mut |m| {
                holding |= matches!(m.body, Body::PromisePiece { offset, .. } if offset > 0);
                if holding && m.from == ahead {
                    held.push(m.clone());
                }
                holding && m.from == ahead
            });
        }
        let pieces = held
            .iter()
            .filter(|m| matches!(m.body, Body::PromisePiece { .. }))
            .count();
        assert_eq!(pieces, 4, "stages {stages}: the window was asked for again");
        assert_eq!(c.nodes[&3].role(), Role::Candidate, "stages {stages}");
        // The acceptor's messages arrive, late and in order.
        for m in held {
            let _ = c.nodes.get_mut(&3).unwrap().step(m);
            c.drive(3);
        }
        let _ = until_node_3_leads(&mut c, 300, |_| false);
        assert_eq!(c.nodes[&3].storage().snapshot(0).unwrap().data, image());
        check_leads_with_everything(&mut c, ahead, at);
    }
}
