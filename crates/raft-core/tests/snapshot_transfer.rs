//! Snapshots in pieces (Raft §7, Figure 13): bounded pieces, a bounded
//! window of unacknowledged ones, recovery from lost, reordered and
//! duplicated pieces, heartbeats flowing during a long transfer, and what
//! forged or malformed pieces and acknowledgements get.

use crate::common;

use std::collections::VecDeque;

use bytes::Bytes;
use common::{Cluster, drain, msg};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use synod_raft_core::*;

const CHUNK: u64 = 1000;
const WINDOW: u32 = 2;

fn config(id: NodeId) -> Config {
    Config {
        snapshot_chunk_bytes: CHUNK,
        snapshot_chunks_in_flight: WINDOW,
        ..Config::new(id)
    }
}

/// Deterministic bytes that differ at every position, so a misplaced or
/// repeated piece shows in the installed data.
fn pattern(size: usize, seed: u64) -> Bytes {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..size).map(|_| rng.random::<u8>()).collect()
}

/// A 3-node cluster whose follower `far` missed 30 commands the leader has
/// since compacted into a snapshot of `data`. Returns (cluster, leader,
/// far); `far` is still cut off.
fn lagging(seed: u64, data: &Bytes) -> (Cluster, NodeId, NodeId) {
    let mut c = Cluster::with_config(3, seed, config);
    c.run_ticks(30);
    let leader = c.leader().expect("a leader");
    let far = (1..=3).find(|&id| id != leader).unwrap();
    c.isolate(far);
    c.cut.remove(&(leader, far));
    c.cut.remove(&(far, leader));
    // Only the leader's link to `far` is back: keep it cut until the test
    // starts the transfer.
    c.cut.insert((leader, far));
    for i in 0..30u8 {
        c.propose(&[i]).expect("committed");
    }
    let node = c.node_mut(leader);
    let applied = node.log().applied();
    let conf = node.conf_state();
    node.storage_mut()
        .create_snapshot(applied, conf, data.clone())
        .unwrap();
    node.storage_mut().compact(applied).unwrap();
    let state = c.applied[&leader].clone();
    c.snapshots.insert(applied, state);
    (c, leader, far)
}

/// What the network does with one message.
enum Fate {
    Deliver,
    Drop,
    Twice,
    /// Put back at the end of the queue (reordering).
    Later,
}

/// What the observer saw of the transfer.
#[derive(Default)]
struct Seen {
    pieces: Vec<(u64, usize)>,
    largest_piece: usize,
    /// The most piece bytes past the leader's acknowledged point when a
    /// piece left.
    most_outstanding: u64,
    acked: u64,
    heartbeats_during: usize,
    installed_at_tick: Option<usize>,
    first_piece_tick: Option<usize>,
}

/// Runs `ticks` ticks. Pieces to `far` cross a slow link (`per_tick` a
/// tick); every message's fate is `fate`'s.
fn run(
    c: &mut Cluster,
    far: NodeId,
    ticks: usize,
    per_tick: usize,
    seen: &mut Seen,
    fate: impl FnMut(&Message) -> Fate,
) {
    run_paced(c, far, ticks, per_tick, 1, seen, fate);
}

/// As [`run`], the slow link carrying pieces only once every `every`
/// ticks (the first after a full `every`).
fn run_paced(
    c: &mut Cluster,
    far: NodeId,
    ticks: usize,
    per_tick: usize,
    every: usize,
    seen: &mut Seen,
    mut fate: impl FnMut(&Message) -> Fate,
) {
    let mut slow: VecDeque<Message> = VecDeque::new();
    for tick in 0..ticks {
        let per_tick = if (tick + 1) % every == 0 { per_tick } else { 0 };
        for node in c.nodes.values_mut() {
            node.tick();
        }
        c.process_all();
        let mut released = 0;
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(
                steps < 1_000_000,
                "seed {}: the network never quiets",
                c.seed
            );
            let next = if let Some(m) = c.network.pop_front() {
                if matches!(m.body, MessageBody::InstallSnapshot(_)) && m.to == far {
                    observe_piece(seen, &m, tick);
                    slow.push_back(m);
                    continue;
                }
                m
            } else if released < per_tick
                && let Some(m) = slow.pop_front()
            {
                released += 1;
                m
            } else {
                break;
            };
            if c.cut.contains(&(next.from, next.to)) {
                continue;
            }
            match fate(&next) {
                Fate::Drop => continue,
                Fate::Later => {
                    c.network.push_back(next);
                    continue;
                }
                Fate::Twice => c.network.push_back(next.clone()),
                Fate::Deliver => {}
            }
            observe_delivery(seen, &next, far, tick);
            let to = next.to;
            let _ = c.node_mut(to).step(next);
            c.process(to);
        }
    }
}

fn observe_piece(seen: &mut Seen, m: &Message, tick: usize) {
    let MessageBody::InstallSnapshot(piece) = &m.body else {
        return;
    };
    seen.first_piece_tick.get_or_insert(tick);
    let end = piece.offset + piece.data.len() as u64;
    seen.pieces.push((piece.offset, piece.data.len()));
    seen.largest_piece = seen.largest_piece.max(piece.data.len());
    seen.most_outstanding = seen.most_outstanding.max(end.saturating_sub(seen.acked));
}

fn observe_delivery(seen: &mut Seen, m: &Message, far: NodeId, tick: usize) {
    match &m.body {
        MessageBody::SnapshotAck { received, gap, .. } if m.from == far => {
            // As the leader counts it: a gap resets, an ack only advances.
            seen.acked = if *gap {
                *received
            } else {
                seen.acked.max(*received)
            };
        }
        MessageBody::Heartbeat { .. }
            if m.to == far
                && seen.first_piece_tick.is_some()
                && seen.installed_at_tick.is_none() =>
        {
            seen.heartbeats_during += 1;
        }
        MessageBody::AppendResponse(_)
            if m.from == far
                && seen.first_piece_tick.is_some()
                && seen.installed_at_tick.is_none() =>
        {
            seen.installed_at_tick = Some(tick);
        }
        _ => {}
    }
}

fn snapshot_data(c: &Cluster, id: NodeId) -> Bytes {
    c.node(id).log().storage().snapshot(0).unwrap().data
}

// A snapshot twenty pieces long crosses a link that carries one piece a
// tick: every piece is within the limit, at most the window is ever
// unacknowledged, heartbeats keep the follower from campaigning through
// the whole transfer, and the installed data is the leader's, byte for
// byte.
#[test]
fn a_large_snapshot_travels_in_bounded_pieces_while_heartbeats_flow() {
    let data = pattern(20_500, 1);
    let (mut c, leader, far) = lagging(7, &data);
    let term = c.node(leader).term();
    c.heal();
    let mut seen = Seen::default();
    run(&mut c, far, 60, 1, &mut seen, |_| Fate::Deliver);
    assert_eq!(snapshot_data(&c, far), data, "installed byte for byte");
    assert_eq!(c.installed.get(&far), Some(&1));
    assert_eq!(seen.largest_piece as u64, CHUNK);
    assert_eq!(seen.pieces.len(), 21, "{:?}", seen.pieces);
    assert!(
        seen.most_outstanding <= CHUNK * u64::from(WINDOW),
        "outstanding {}",
        seen.most_outstanding
    );
    let took = seen.installed_at_tick.unwrap() - seen.first_piece_tick.unwrap();
    assert!(took >= 15, "the slow link spread it over ticks: {took}");
    assert!(
        seen.heartbeats_during >= took / 2,
        "{} heartbeats in {took} ticks",
        seen.heartbeats_during
    );
    assert_eq!(
        c.node(leader).term(),
        term,
        "no election during the transfer"
    );
    assert_eq!(c.leader(), Some(leader));
    assert_eq!(
        c.node(leader).progress()[&far].state,
        ProgressState::Replicate
    );
    c.check_applied_prefixes();
    c.propose(b"after").unwrap();
    c.run_ticks(2);
    assert_eq!(c.applied[&far], c.applied[&leader]);
}

// The transport's report on a snapshot it streamed (etcd's
// ReportSnapshot): a failure probes again from the follower's match index
// (below the log's start, so the snapshot goes again), a success probes
// from just past the snapshot. A follower not being sent a snapshot is
// left as it is, and a follower's node ignores the report. Either way the
// follower then catches up.
#[test]
fn report_snapshot_probes_from_where_the_report_says() {
    for success in [false, true] {
        let data = pattern(3 * CHUNK as usize, 5);
        let (mut c, leader, far) = lagging(5, &data);
        let near = (1..=3).find(|&id| id != leader && id != far).unwrap();
        let snapshot_index = snapshot_data_index(&c, leader);
        c.heal();
        // The link to `far` carries no piece: the transfer stays pending.
        let mut seen = Seen::default();
        for _ in 0..10 {
            if c.node(leader).progress()[&far].state == ProgressState::Snapshot {
                break;
            }
            run(&mut c, far, 1, 0, &mut seen, |_| Fate::Deliver);
        }
        let before = c.node(leader).progress()[&far].clone();
        assert_eq!(before.state, ProgressState::Snapshot, "success {success}");
        assert!(before.match_index < snapshot_index, "{before:?}");

        c.node_mut(far).report_snapshot(leader, success);
        c.node_mut(leader).report_snapshot(near, success);
        assert_eq!(
            c.node(leader).progress()[&near].state,
            ProgressState::Replicate,
            "a follower in step is not touched"
        );
        c.node_mut(leader).report_snapshot(far, success);
        let after = &c.node(leader).progress()[&far];
        assert_eq!(after.state, ProgressState::Probe, "success {success}");
        let next = if success {
            snapshot_index + 1
        } else {
            before.match_index + 1
        };
        assert_eq!(after.next_index, next, "success {success}");

        run(&mut c, far, 40, 100, &mut seen, |_| Fate::Deliver);
        assert_eq!(snapshot_data(&c, far), data, "success {success}");
        c.propose(b"after").unwrap();
        c.run_ticks(2);
        assert_eq!(c.applied[&far], c.applied[&leader], "success {success}");
    }
}

fn snapshot_data_index(c: &Cluster, id: NodeId) -> Index {
    c.node(id).log().storage().snapshot(0).unwrap().meta.index
}

// A follower that takes four ticks for each piece (a slow disk: its
// acknowledgements wait for the write) while it answers every heartbeat at
// once. The leader sends again only the first piece not acknowledged when
// heartbeat rounds pass without progress, not the window: copies of the
// window queued behind the pieces still on their way and slowed the
// follower further, until the transfer was given up and started over.
#[test]
fn a_follower_slower_than_the_heartbeats_is_not_sent_the_window_again() {
    let data = pattern(20_500, 4);
    let (mut c, leader, far) = lagging(10, &data);
    let term = c.node(leader).term();
    c.heal();
    let mut seen = Seen::default();
    run_paced(&mut c, far, 200, 1, 4, &mut seen, |_| Fate::Deliver);
    assert_eq!(snapshot_data(&c, far), data);
    assert_eq!(
        c.node(leader).term(),
        term,
        "no election during the transfer"
    );
    // 21 pieces, and at most one copy of each.
    assert!(
        seen.pieces.len() <= 42,
        "{} pieces sent: {:?}",
        seen.pieces.len(),
        seen.pieces
    );
    assert!(
        !seen.pieces[1..].contains(&(0, CHUNK as usize)),
        "the transfer started over: {:?}",
        seen.pieces
    );
}

// The last piece is the one lost: no later piece reveals the gap, so the
// leader sends the unacknowledged window again after a few quiet rounds.
#[test]
fn a_lost_last_piece_is_sent_again() {
    let data = pattern(4_200, 2);
    let (mut c, _leader, far) = lagging(8, &data);
    c.heal();
    let mut seen = Seen::default();
    let mut dropped = false;
    run(&mut c, far, 30, 8, &mut seen, |m| match &m.body {
        MessageBody::InstallSnapshot(p) if p.is_last() && !dropped => {
            dropped = true;
            Fate::Drop
        }
        _ => Fate::Deliver,
    });
    assert!(dropped);
    assert_eq!(snapshot_data(&c, far), data);
    // Only the lost piece went again, not the whole snapshot (which a
    // transfer given up after an election timeout would resend).
    let offsets: Vec<u64> = seen.pieces.iter().map(|&(o, _)| o).collect();
    assert_eq!(offsets, [0, 1_000, 2_000, 3_000, 4_000, 4_000]);
}

// A lost middle piece: the next one shows the gap, and the leader goes
// back to it at once.
#[test]
fn a_gap_sends_the_leader_back_to_the_missing_piece() {
    let data = pattern(6_000, 3);
    let (mut c, _leader, far) = lagging(9, &data);
    c.heal();
    let mut seen = Seen::default();
    let mut dropped = false;
    run(&mut c, far, 30, 8, &mut seen, |m| match &m.body {
        MessageBody::InstallSnapshot(p) if p.offset == 2_000 && !dropped => {
            dropped = true;
            Fate::Drop
        }
        _ => Fate::Deliver,
    });
    assert_eq!(snapshot_data(&c, far), data);
    let resent = seen.pieces.iter().filter(|&&(o, _)| o == 2_000).count();
    assert_eq!(resent, 2, "{:?}", seen.pieces);
}

// Loss, duplication and reordering of everything on the follower's links,
// over many seeds: the follower always ends with exactly the leader's
// snapshot and the same applied sequence.
#[test]
fn lossy_links_still_install_the_exact_snapshot() {
    for seed in 0..40u64 {
        let size = 500 + (seed as usize * 397) % 9_000;
        let data = pattern(size, seed);
        let (mut c, leader, far) = lagging(100 + seed, &data);
        // Odd seeds: the follower's storage stages the pieces.
        c.node_mut(far)
            .storage_mut()
            .set_stages_snapshots(seed % 2 == 1);
        c.heal();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seen = Seen::default();
        run(&mut c, far, 150, 3, &mut seen, |m| {
            if m.to != far && m.from != far {
                return Fate::Deliver;
            }
            match rng.random_range(0..10) {
                0 => Fate::Drop,
                1 => Fate::Twice,
                2 => Fate::Later,
                _ => Fate::Deliver,
            }
        });
        let now = c.leader().expect("a leader");
        assert_eq!(
            c.node(far).log().committed(),
            c.node(now).log().committed(),
            "seed {seed}: caught up"
        );
        if now == leader {
            assert_eq!(snapshot_data(&c, far), data, "seed {seed}");
        }
        if seed % 2 == 1 {
            assert!(c.staged.contains_key(&far), "seed {seed}: staged");
        }
        c.check_applied_prefixes();
    }
}

// A follower whose storage stages snapshots is handed each piece as it
// arrives, in order and never more than a piece at a time, and the
// snapshot is installed from what storage staged: the node never holds it
// whole, so its memory stays bounded whatever the snapshot's size.
#[test]
fn a_staging_follower_hands_storage_each_piece_and_never_the_whole() {
    let data = pattern(20_500, 11);
    let (mut c, leader, far) = lagging(7, &data);
    c.node_mut(far).storage_mut().set_stages_snapshots(true);
    c.heal();
    let mut seen = Seen::default();
    run(&mut c, far, 60, 1, &mut seen, |_| Fate::Deliver);
    assert_eq!(snapshot_data(&c, far), data, "installed byte for byte");
    assert_eq!(c.installed.get(&far), Some(&1));
    let staged = &c.staged[&far];
    let mut at = 0u64;
    for &(offset, len) in staged {
        assert_eq!(offset, at, "in order, each continuing the last: {staged:?}");
        assert!(len as u64 <= CHUNK, "{staged:?}");
        at += len as u64;
    }
    assert_eq!(at, data.len() as u64);
    assert_eq!(c.node(leader).term(), seen_term(&c, leader));
    c.check_applied_prefixes();
    c.propose(b"after").unwrap();
    c.run_ticks(2);
    assert_eq!(c.applied[&far], c.applied[&leader]);
}

fn seen_term(c: &Cluster, id: NodeId) -> Term {
    c.node(id).term()
}

// Staging with reordering: pieces that arrive ahead of a gap are kept and
// handed to storage once the gap fills, still in order.
#[test]
fn a_staging_follower_hands_out_pieces_in_order_across_a_gap() {
    let data = pattern(6_000, 12);
    let (mut c, _leader, far) = lagging(9, &data);
    c.node_mut(far).storage_mut().set_stages_snapshots(true);
    c.heal();
    let mut seen = Seen::default();
    let mut held = false;
    run(&mut c, far, 30, 8, &mut seen, |m| match &m.body {
        MessageBody::InstallSnapshot(p) if p.offset == 1_000 && !held => {
            held = true;
            Fate::Later
        }
        _ => Fate::Deliver,
    });
    assert!(held);
    assert_eq!(snapshot_data(&c, far), data);
    let offsets: Vec<u64> = c.staged[&far].iter().map(|&(o, _)| o).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
}

// The leader reads each piece from storage when it sends it: when its
// snapshot is replaced by a newer one mid-transfer, the transfer starts
// over with the new one (never a mix of the two), and the follower ends
// with the new snapshot, staged or whole.
#[test]
fn a_snapshot_replaced_mid_transfer_is_sent_again_from_the_start() {
    for stages in [false, true] {
        let data = pattern(10_000, 13);
        let (mut c, leader, far) = lagging(21, &data);
        c.node_mut(far).storage_mut().set_stages_snapshots(stages);
        c.heal();
        let mut seen = Seen::default();
        // A slow link: a few pieces cross, then the leader snapshots again.
        run(&mut c, far, 3, 1, &mut seen, |_| Fate::Deliver);
        assert!(!seen.pieces.is_empty() && seen.installed_at_tick.is_none());
        for i in 0..5u8 {
            c.propose(&[100 + i]).expect("committed");
        }
        let newer = pattern(7_000, 14);
        let node = c.node_mut(leader);
        let applied = node.log().applied();
        let conf = node.conf_state();
        node.storage_mut()
            .create_snapshot(applied, conf, newer.clone())
            .unwrap();
        node.storage_mut().compact(applied).unwrap();
        let state = c.applied[&leader].clone();
        c.snapshots.insert(applied, state);
        run(&mut c, far, 120, 2, &mut seen, |_| Fate::Deliver);
        assert_eq!(snapshot_data(&c, far), newer, "staging {stages}");
        let starts = seen.pieces.iter().filter(|&&(o, _)| o == 0).count();
        assert!(starts >= 2, "started over: {:?}", seen.pieces);
        assert_eq!(
            c.node(far).log().committed(),
            c.node(leader).log().committed()
        );
        c.check_applied_prefixes();
    }
}

// An empty snapshot, staged: storage is still handed its (empty) first
// piece, so it knows what it installs.
#[test]
fn an_empty_snapshot_is_staged_as_one_empty_piece() {
    let (mut c, _leader, far) = lagging(10, &Bytes::new());
    c.node_mut(far).storage_mut().set_stages_snapshots(true);
    c.heal();
    let mut seen = Seen::default();
    run(&mut c, far, 10, 1, &mut seen, |_| Fate::Deliver);
    assert_eq!(c.staged[&far], vec![(0, 0)]);
    assert_eq!(c.installed.get(&far), Some(&1));
}

// A snapshot with no data still takes one (empty) piece.
#[test]
fn an_empty_snapshot_takes_one_piece() {
    let (mut c, _leader, far) = lagging(10, &Bytes::new());
    c.heal();
    let mut seen = Seen::default();
    run(&mut c, far, 10, 1, &mut seen, |_| Fate::Deliver);
    assert_eq!(seen.pieces, vec![(0, 0)]);
    assert_eq!(c.installed.get(&far), Some(&1));
}

fn piece(index: Index, total: u64, offset: u64, data: &[u8]) -> MessageBody {
    MessageBody::InstallSnapshot(Box::new(SnapshotChunk {
        meta: SnapshotMeta {
            index,
            term: 1,
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            },
        },
        total_bytes: total,
        offset,
        data: Bytes::copy_from_slice(data),
    }))
}

fn follower() -> common::Node {
    let mut n = RaftNode::new(
        config(2),
        MemStorage::with_voters(&[1, 2, 3]),
        StdRng::seed_from_u64(2),
    )
    .unwrap();
    drain(&mut n);
    n
}

fn acks(sent: &[Message]) -> Vec<(u64, bool)> {
    sent.iter()
        .filter_map(|m| match m.body {
            MessageBody::SnapshotAck { received, gap, .. } => Some((received, gap)),
            _ => None,
        })
        .collect()
}

// The follower's side piece by piece: a piece past what it holds is a gap
// (kept, and appended once the gap fills), a repeated one is acknowledged
// again without being stored twice, an overlapping one contributes only its
// new bytes, and the last installs.
#[test]
fn the_follower_reassembles_only_contiguous_bytes() {
    let mut n = follower();
    let data: Vec<u8> = (0..10u8).collect();
    n.step(msg(1, 2, 1, piece(5, 10, 0, &data[..4]))).unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(4, false)]);
    n.step(msg(1, 2, 1, piece(5, 10, 6, &data[6..8]))).unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(4, true)], "a gap");
    n.step(msg(1, 2, 1, piece(5, 10, 0, &data[..4]))).unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(4, false)], "a repeat");
    // The overlap fills the gap to 7, and the piece kept from before the
    // gap (6..8) continues it to 8.
    n.step(msg(1, 2, 1, piece(5, 10, 2, &data[2..7]))).unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(8, false)], "an overlap");
    n.step(msg(1, 2, 1, piece(5, 10, 7, &data[7..]))).unwrap();
    let sent = drain(&mut n);
    assert_eq!(
        sent.last().unwrap().body,
        MessageBody::AppendResponse(AppendResult::Accepted { match_index: 5 })
    );
    let installed = n.log().storage().snapshot(0).unwrap();
    assert_eq!(&installed.data[..], &data[..]);
    assert_eq!(n.log().committed(), 5);
}

// A piece of a transfer the follower does not hold (it restarted, or a
// new leader's) asks for the start; a new transfer replaces a half-done
// one.
#[test]
fn a_piece_of_an_unknown_transfer_asks_for_the_start() {
    let mut n = follower();
    n.step(msg(1, 2, 1, piece(5, 10, 4, &[0; 4]))).unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(0, true)]);
    n.step(msg(1, 2, 1, piece(5, 10, 0, &[1; 4]))).unwrap();
    drain(&mut n);
    // A newer snapshot from the same leader starts over.
    n.step(msg(1, 2, 1, piece(6, 3, 0, &[2; 3]))).unwrap();
    drain(&mut n);
    assert_eq!(n.log().storage().snapshot(0).unwrap().data, vec![2u8; 3]);
    // The old transfer's pieces no longer continue anything.
    n.step(msg(1, 2, 1, piece(5, 10, 4, &[1; 6]))).unwrap();
    let sent = drain(&mut n);
    assert!(
        matches!(
            sent.last().unwrap().body,
            MessageBody::AppendResponse(AppendResult::Accepted { match_index: 6 })
        ),
        "stale: answered with what is committed: {sent:?}"
    );
}

// Bad input: pieces past their own end, offsets at the top of the range,
// snapshots over the configured limit, absurd announced sizes. Each is a
// typed error or a bounded, safe answer; nothing is installed.
#[test]
fn malformed_and_oversized_pieces_are_refused() {
    let mut n = follower();
    let got = n.step(msg(1, 2, 1, piece(5, 10, 8, &[0; 4])));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    let got = n.step(msg(1, 2, 1, piece(5, u64::MAX, u64::MAX, &[0; 1])));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    let got = n.step(msg(1, 2, 1, piece(u64::MAX, 1, 0, &[0])));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    // An announced size of u64::MAX reserves a bounded buffer only.
    n.step(msg(1, 2, 1, piece(5, u64::MAX, 0, &[7; 16])))
        .unwrap();
    assert_eq!(acks(&drain(&mut n)), vec![(16, false)]);
    let mut small = RaftNode::new(
        Config {
            max_snapshot_bytes: 100,
            ..config(2)
        },
        MemStorage::with_voters(&[1, 2, 3]),
        StdRng::seed_from_u64(2),
    )
    .unwrap();
    let got = small.step(msg(1, 2, 1, piece(5, 101, 0, &[0; 10])));
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    assert!(acks(&drain(&mut small)).is_empty());
    assert_eq!(n.log().storage().snapshot(0).unwrap().meta.index, 0);
    assert_eq!(small.log().storage().snapshot(0).unwrap().meta.index, 0);
}

// The leader's side: acknowledgements claiming more than the snapshot,
// naming another snapshot, or from a stranger, neither panic nor break
// the transfer, which still completes byte for byte.
#[test]
fn forged_acknowledgements_do_not_derail_the_leader() {
    let data = pattern(5_000, 4);
    let (mut c, leader, far) = lagging(11, &data);
    c.heal();
    let term = c.node(leader).term();
    let ack = |index, received, gap| MessageBody::SnapshotAck {
        index,
        received,
        gap,
    };
    // Start the transfer; its first pieces are lost.
    let mut seen = Seen::default();
    run(&mut c, far, 2, 4, &mut seen, |m| match m.body {
        MessageBody::InstallSnapshot(_) => Fate::Drop,
        _ => Fate::Deliver,
    });
    assert!(!seen.pieces.is_empty(), "the transfer started");
    assert_eq!(
        c.node(leader).progress()[&far].state,
        ProgressState::Snapshot
    );
    let snap = c
        .node(leader)
        .log()
        .storage()
        .snapshot(0)
        .unwrap()
        .meta
        .index;
    let n = c.node_mut(leader);
    n.step(msg(far, leader, term, ack(snap, u64::MAX, false)))
        .unwrap();
    n.step(msg(far, leader, term, ack(snap + 1, 3, true)))
        .unwrap();
    n.step(msg(far, leader, term, ack(u64::MAX, u64::MAX, true)))
        .unwrap();
    assert!(matches!(
        n.step(msg(99, leader, term, ack(snap, 0, true))),
        Err(Error::UnknownPeer(99))
    ));
    let mut seen = Seen::default();
    run(&mut c, far, 40, 4, &mut seen, |_| Fate::Deliver);
    assert_eq!(snapshot_data(&c, far), data);
    c.check_applied_prefixes();
}

#[test]
fn config_refuses_empty_pieces_and_windows() {
    let bad = |f: fn(&mut Config)| {
        let mut c = Config::new(1);
        f(&mut c);
        c.validate().unwrap_err()
    };
    assert!(matches!(
        bad(|c| c.snapshot_chunk_bytes = 0),
        Error::InvalidConfig {
            field: "snapshot_chunk_bytes",
            ..
        }
    ));
    assert!(matches!(
        bad(|c| c.snapshot_chunks_in_flight = 0),
        Error::InvalidConfig {
            field: "snapshot_chunks_in_flight",
            ..
        }
    ));
}
