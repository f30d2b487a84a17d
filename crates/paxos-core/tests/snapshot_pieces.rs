//! Snapshots in pieces: an acceptor behind the leader's compacted log gets
//! a snapshot larger than `Config::snapshot_chunk_bytes` a piece at a time
//! (never a message carrying it whole), through lost pieces and its own
//! restart, staged by storage that stages or gathered by storage that
//! does not; and the install rule that keeps safety: an acceptor whose log
//! holds the snapshot's last entry keeps its log.

use crate::support;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::Cluster;
use synod_paxos_core::*;

const CHUNK: u64 = 1024;
/// The state machine's image: 10 KiB, ten pieces.
const IMAGE: usize = 10 * 1024 + 7;

fn config(id: NodeId) -> Config {
    Config {
        snapshot_chunk_bytes: CHUNK,
        max_size_per_msg_bytes: 256,
        ..Config::new(id)
    }
}

fn image() -> Bytes {
    Bytes::from((0..IMAGE).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

/// A leader with node `lagging` cut off while 60 commands are decided;
/// then every other node snapshots at its decided index and compacts.
/// Returns the leader and the snapshot's index.
fn lagging_behind_a_snapshot(c: &mut Cluster, lagging: NodeId) -> (NodeId, Index) {
    let l = c.until_leader(300);
    c.ticks(3);
    let l = if l == lagging {
        // Let another node lead: the lagging one must not.
        c.isolate(lagging);
        c.ticks(40);
        c.leader().expect("a leader without the lagging node")
    } else {
        c.isolate(lagging);
        l
    };
    for _ in 0..60 {
        assert!(c.propose(l, b"command"));
    }
    c.ticks(5);
    let at = c.nodes[&l].decided();
    for (&id, n) in c.nodes.iter_mut() {
        if id == lagging {
            continue;
        }
        let cs = n.conf_state();
        let s = n.storage_mut();
        s.create_snapshot(at, cs, image()).unwrap();
        s.compact(at).unwrap();
    }
    (l, at)
}

/// A cluster of 3 whose node `lagging` (staging snapshots or not) is
/// behind the others' snapshot at `at` under leader `l`, links healed.
fn healed_behind_a_snapshot(seed: u64, lagging: NodeId, stages: bool) -> (Cluster, NodeId, Index) {
    let mut c = Cluster::new(3, seed, config);
    c.nodes
        .get_mut(&lagging)
        .unwrap()
        .storage_mut()
        .set_stages_snapshots(stages);
    let (l, at) = lagging_behind_a_snapshot(&mut c, lagging);
    c.heal();
    (c, l, at)
}

/// Ticks, dropping the snapshot pieces `drop` picks, until node `id` has
/// installed the snapshot at `at` (at most `budget` ticks). Returns every
/// message sent to `id` meanwhile.
fn until_installed(
    c: &mut Cluster,
    id: NodeId,
    at: Index,
    budget: u64,
    drop: impl FnMut(&Message) -> bool,
) -> Vec<Message> {
    let (installed, seen) = transfer_for(c, id, at, budget, drop);
    assert!(installed, "node {id} never installed the snapshot at {at}");
    seen
}

/// As [`until_installed`], stopping after `budget` ticks installed or not:
/// whether it installed, and every message sent to `id`.
fn transfer_for(
    c: &mut Cluster,
    id: NodeId,
    at: Index,
    budget: u64,
    mut drop: impl FnMut(&Message) -> bool,
) -> (bool, Vec<Message>) {
    let mut seen = Vec::new();
    for _ in 0..budget {
        if c.nodes[&id].storage().snapshot(0).unwrap().meta.index >= at {
            return (true, seen);
        }
        c.tick_watching(id, &mut seen, &mut drop);
    }
    let installed = c.nodes[&id].storage().snapshot(0).unwrap().meta.index >= at;
    (installed, seen)
}

fn pieces(seen: &[Message]) -> Vec<(u64, usize)> {
    seen.iter()
        .filter_map(|m| match &m.body {
            Body::SnapshotPiece { offset, data, .. } => Some((*offset, data.len())),
            _ => None,
        })
        .collect()
}

fn check_caught_up(c: &mut Cluster, l: NodeId, id: NodeId, at: Index) {
    let snap = c.nodes[&id].storage().snapshot(0).unwrap();
    assert_eq!(snap.meta.index, at);
    assert_eq!(snap.data, image(), "the installed bytes are the leader's");
    assert!(c.propose(l, b"after"));
    c.ticks(10);
    assert_eq!(c.nodes[&id].decided(), c.nodes[&l].decided());
    let d = c.nodes[&l].decided();
    assert_eq!(c.term(id, d), c.term(l, d));
}

#[test]
fn a_large_snapshot_goes_in_pieces_staged_or_gathered() {
    for stages in [false, true] {
        for seed in 0..5 {
            let lagging = 3;
            let (mut c, l, at) = healed_behind_a_snapshot(seed, lagging, stages);
            let seen = until_installed(&mut c, lagging, at, 200, |_| false);
            let got = pieces(&seen);
            assert!(
                got.len() >= IMAGE / CHUNK as usize,
                "stages {stages} seed {seed}: {got:?}"
            );
            assert!(got.iter().all(|&(_, len)| len as u64 <= CHUNK));
            // Never the snapshot whole in a sync.
            assert!(!seen.iter().any(|m| matches!(
                &m.body,
                Body::AcceptSync { suffix, .. } if suffix.snapshot.is_some()
            )));
            // Nor a sync longer than a message's worth of entries.
            for m in &seen {
                if let Body::AcceptSync { suffix, .. } = &m.body {
                    let bytes: u64 = suffix.entries.iter().map(Entry::size_bytes).sum();
                    assert!(suffix.entries.len() <= 1 || bytes <= 256, "{bytes} bytes");
                }
            }
            check_caught_up(&mut c, l, lagging, at);
        }
    }
}

// An acceptor that takes four ticks for each piece (its disk is slow)
// while it beats every tick: the leader measures that pace and does not
// send pieces again that are only slow, where a copy every three quiet
// beats queued behind the pieces on their way and slowed it further.
#[test]
fn an_acceptor_slower_than_its_beats_is_not_sent_copies() {
    for stages in [false, true] {
        let (mut c, l, at) = healed_behind_a_snapshot(8, 3, stages);
        let mut held = std::collections::VecDeque::new();
        let mut seen = Vec::new();
        for tick in 0..400u64 {
            if c.nodes[&3].storage().snapshot(0).unwrap().meta.index >= at {
                break;
            }
            c.tick_watching(3, &mut seen, &mut |m| {
                let piece = matches!(m.body, Body::SnapshotPiece { .. });
                if piece {
                    held.push_back(m.clone());
                }
                piece
            });
            if tick % 4 == 3
                && let Some(m) = held.pop_front()
            {
                let _ = c.nodes.get_mut(&3).unwrap().step(m);
                c.drive(3);
            }
        }
        let got = pieces(&seen);
        assert_eq!(
            got.len(),
            IMAGE.div_ceil(CHUNK as usize),
            "stages {stages}: {got:?}"
        );
        check_caught_up(&mut c, l, 3, at);
    }
}

#[test]
fn lost_pieces_are_sent_again() {
    for stages in [false, true] {
        let (mut c, l, at) = healed_behind_a_snapshot(7, 3, stages);
        // Every odd-numbered piece is lost the first time it is sent.
        let mut lost = std::collections::BTreeSet::new();
        let seen = until_installed(&mut c, 3, at, 400, |m| match m.body {
            Body::SnapshotPiece { offset, .. } => (offset / CHUNK) % 2 == 1 && lost.insert(offset),
            _ => false,
        });
        let got = pieces(&seen);
        let distinct: std::collections::BTreeSet<u64> = got.iter().map(|p| p.0).collect();
        assert!(
            got.len() > distinct.len(),
            "stages {stages}: some pieces went twice"
        );
        check_caught_up(&mut c, l, 3, at);
    }
}

#[test]
fn an_acceptor_restarted_mid_transfer_gets_the_snapshot_from_the_start() {
    for stages in [false, true] {
        let (mut c, l, at) = healed_behind_a_snapshot(11, 3, stages);
        // Half the pieces arrive, then node 3 restarts from its storage.
        let mut arrived = 0;
        let (installed, _) = transfer_for(&mut c, 3, at, 3, |m| {
            if matches!(m.body, Body::SnapshotPiece { .. }) {
                arrived += 1;
                return arrived > 5;
            }
            false
        });
        assert!(!installed);
        assert!(c.nodes[&3].storage().snapshot(0).unwrap().meta.index < at);
        let storage = c.nodes[&3].storage().clone();
        let restarted = PaxosNode::new(config(3), storage, StdRng::seed_from_u64(3)).unwrap();
        c.nodes.insert(3, restarted);
        let seen = until_installed(&mut c, 3, at, 400, |_| false);
        assert!(
            pieces(&seen).iter().any(|&(offset, _)| offset == 0),
            "stages {stages}: sent again from the start"
        );
        check_caught_up(&mut c, l, 3, at);
    }
}

// The install rule. An acceptor synced by leader (1, 1) holds entries 2..=20
// of that ballot but knows only index 1 decided (decisions travel lazily).
// Entries after 10 may have been counted toward a decision; a snapshot of
// the leader's ending at 10 must not cut them, whether it comes in pieces
// or with a sync cut at the message size.

type Node = PaxosNode<MemStorage, StdRng>;

/// Node 1's message in `ballot` to node 2, stepped and its writes done;
/// everything node 2 sent back (at once or once durable).
fn from_leader(n: &mut Node, ballot: Ballot, body: Body) -> Vec<Message> {
    n.step(Message {
        from: 1,
        to: 2,
        ballot,
        body,
    })
    .unwrap();
    let mut sent = Vec::new();
    while n.has_ready() {
        let r = n.ready().unwrap();
        n.storage_mut().apply_write(r.write.clone()).unwrap();
        sent.extend(r.messages);
        let w = r.after_write.written();
        sent.extend(w.messages);
        n.on_written(w.receipt);
    }
    sent
}

/// Commands at `indexes`, in `ballot`.
fn commands(ballot: Ballot, indexes: std::ops::RangeInclusive<Index>) -> Vec<Entry> {
    indexes
        .map(|index| Entry {
            index,
            term: ballot.0,
            payload: Payload::Command(Bytes::from_static(b"x")),
        })
        .collect()
}

fn acceptor_holding_through_20() -> (Node, Ballot) {
    let ballot = Ballot::new(1, 1).unwrap();
    let mut n = PaxosNode::new(
        config(2),
        MemStorage::bootstrap(&[1, 2, 3]),
        StdRng::seed_from_u64(2),
    )
    .unwrap();
    let prepare = Body::Prepare {
        decided: 1,
        last_term: ballot.0,
        last_index: 20,
    };
    from_leader(&mut n, ballot, prepare);
    let sync = Body::AcceptSync {
        suffix: Suffix {
            after: 1,
            snapshot: None,
            entries: commands(ballot, 2..=20),
        },
        decided: 1,
    };
    from_leader(&mut n, ballot, sync);
    assert_eq!(n.storage().last_index().unwrap(), 20);
    (n, ballot)
}

/// The leader's snapshot ending at `index`, in `ballot`.
fn snapshot_at(ballot: Ballot, index: Index) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term: ballot.0,
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            },
        },
        data: Bytes::from_static(b"state"),
    }
}

fn acks(sent: &[Message]) -> Vec<u64> {
    sent.iter()
        .filter_map(|m| match m.body {
            Body::SnapshotAck { received, .. } => Some(received),
            _ => None,
        })
        .collect()
}

#[test]
fn a_snapshot_piece_never_cuts_entries_after_an_end_the_log_holds() {
    let (mut n, ballot) = acceptor_holding_through_20();
    let piece = Body::SnapshotPiece {
        meta: Box::new(snapshot_at(ballot, 10).meta),
        total: 4096,
        offset: 0,
        data: Bytes::from(vec![0u8; 1024]),
    };
    let sent = from_leader(&mut n, ballot, piece);
    assert_eq!(
        n.storage().snapshot(0).unwrap().meta.index,
        0,
        "not installed"
    );
    assert_eq!(
        n.storage().last_index().unwrap(),
        20,
        "entries 11..=20 kept"
    );
    assert_eq!(n.decided(), 10, "the snapshot's end is decided");
    // It tells the leader it needs none of it.
    assert_eq!(acks(&sent), vec![4096]);
}

#[test]
fn a_cut_sync_with_a_snapshot_never_cuts_entries_after_an_end_the_log_holds() {
    let (mut n, ballot) = acceptor_holding_through_20();
    // A newer ballot of the same leader re-syncs: snapshot at 10 and only
    // entries 11 and 12 (the message size), as the leader sends them.
    let next = Ballot::new(2, 1).unwrap();
    let prepare = Body::Prepare {
        decided: 12,
        last_term: ballot.0,
        last_index: 20,
    };
    from_leader(&mut n, next, prepare);
    let sync = Body::AcceptSync {
        suffix: Suffix {
            after: 10,
            snapshot: Some(Box::new(snapshot_at(ballot, 10))),
            entries: commands(ballot, 11..=12),
        },
        decided: 12,
    };
    from_leader(&mut n, next, sync);
    assert_eq!(
        n.storage().last_index().unwrap(),
        20,
        "entries 13..=20 kept"
    );
    assert_eq!(
        n.storage().snapshot(0).unwrap().meta.index,
        0,
        "not installed"
    );
    assert_eq!(n.decided(), 12);
}

// A sync in the ballot the acceptor is already synced in, starting past
// what it holds (the leader re-synced it after a gap, its log compacted
// meanwhile), is a new sync, not a repeat: taken as a repeat it was
// answered as an accept with a gap, `Resync`, and the leader sent the same
// sync again, for ever (synod-node's paxos snapshot test, 2026-12-05).
#[test]
fn a_resync_in_the_same_ballot_past_the_log_installs_the_snapshot() {
    let (mut n, ballot) = acceptor_holding_through_20();
    let sync = Body::AcceptSync {
        suffix: Suffix {
            after: 30,
            snapshot: Some(Box::new(snapshot_at(ballot, 30))),
            entries: commands(ballot, 31..=32),
        },
        decided: 32,
    };
    let sent = from_leader(&mut n, ballot, sync);
    assert!(!sent.iter().any(|m| matches!(m.body, Body::Resync)));
    assert_eq!(n.storage().snapshot(0).unwrap().meta.index, 30);
    assert_eq!(n.storage().last_index().unwrap(), 32);
    assert!(
        sent.iter()
            .any(|m| matches!(m.body, Body::Accepted { last_index: 32 }))
    );
}

// A late copy of a transfer's first piece must not start it over: the
// leader goes on from where the acceptor said it was, and an acceptor that
// threw its pieces away would answer that it lacks that, for ever
// (paxos liveness seed 3001997).
#[test]
fn a_late_copy_of_the_first_piece_does_not_start_the_transfer_over() {
    let (mut n, ballot) = acceptor_holding_through_20();
    let mut answers = Vec::new();
    for offset in [0, 16, 0, 32] {
        let piece = Body::SnapshotPiece {
            meta: Box::new(snapshot_at(ballot, 30).meta),
            total: 3 * 16,
            offset,
            data: Bytes::from(vec![offset as u8; 16]),
        };
        answers.extend(acks(&from_leader(&mut n, ballot, piece)));
    }
    assert_eq!(answers, vec![16, 32, 32, 48]);
    let snap = n.storage().snapshot(0).unwrap();
    assert_eq!(snap.meta.index, 30);
    let want: Vec<u8> = [0u8, 16, 32].iter().flat_map(|&b| [b; 16]).collect();
    assert_eq!(&snap.data[..], &want[..]);
}
