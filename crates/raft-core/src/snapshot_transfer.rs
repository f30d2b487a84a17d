//! Snapshots in pieces (Raft §7, Figure 13): the leader streams its
//! snapshot to a follower a bounded piece at a time, with a window of
//! unacknowledged pieces, and the follower reassembles it before
//! installing it, or, when its storage stages snapshots, hands each piece
//! to storage as it comes and installs what storage staged.
//!
//! Memory: the leader reads each piece from storage when it sends it
//! ([`Storage::snapshot_piece`]), so storage that keeps the snapshot on
//! disk never holds it whole; a staging follower holds at most the pieces
//! that arrived ahead of a gap. A 1 GiB snapshot then crosses with a few
//! MiB in memory on either side.
//!
//! Why in pieces: a snapshot sent as one message is as large as the state
//! machine. It can exceed a transport's frame limit (so it never arrives),
//! and while it is being written nothing else reaches that follower, not
//! even heartbeats. In pieces, every other message interleaves, and a lost
//! piece costs one piece, not the whole snapshot.
//!
//! The protocol, per follower:
//! - the leader sends pieces from `sent` while fewer than
//!   `snapshot_chunks_in_flight` pieces' bytes are past `acked`;
//! - the follower appends a piece that continues what it holds and answers
//!   `SnapshotAck { received }`; a piece past what it holds (one was lost
//!   or reordered) is dropped and answered with `gap`, so the leader goes
//!   back to `received`; a piece it already holds is acknowledged again;
//! - with the last piece the follower installs the snapshot and answers
//!   with an `AppendResponse`, which moves the leader's progress on;
//! - when heartbeat rounds pass without progress (three, or twice the
//!   rounds the follower took between its last two acknowledgements, at
//!   most half an election timeout), the first piece not acknowledged is
//!   sent again (the last piece may be the lost one, and no later piece
//!   would reveal the gap).

use bytes::{Bytes, BytesMut};

use crate::error::Error;
use crate::membership::Membership;
use crate::message::{AppendResult, MessageBody, SnapshotChunk};
use crate::node::RaftNode;
use crate::progress::ProgressState;
use crate::storage::Storage;
use crate::types::{NodeId, Snapshot, SnapshotMeta, SnapshotPiece};

/// The most a follower reserves up front for an incoming snapshot; past it
/// the buffer grows as pieces arrive, so an announced size alone (which a
/// faulty leader could inflate) never allocates much.
const MAX_RESERVE_BYTES: u64 = 64 << 20;

/// A snapshot the leader is sending to one follower.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    meta: SnapshotMeta,
    /// The snapshot's size; its bytes are read from storage piece by piece.
    total: u64,
    /// The next byte to send.
    sent: u64,
    /// The follower holds every byte before this one.
    acked: u64,
    /// A piece went out (an empty snapshot still takes one piece).
    started: bool,
    /// Heartbeat rounds between the last two acknowledgements that moved
    /// the transfer: the follower's pace (`u32::MAX` until measured: a
    /// first copy sent before the follower's first answer could come
    /// queues behind the window and slows every answer after it).
    pace_rounds: u32,
}

impl Outgoing {
    fn total(&self) -> u64 {
        self.total
    }
}

/// A snapshot a follower is receiving. Kept across terms: the same node's
/// snapshot at the same index is the same bytes (storage never replaces a
/// snapshot with another at the same index), so when that node leads again
/// and resends it, the transfer resumes where it stopped instead of
/// starting over; under repeated elections (a disruptive candidate) a
/// transfer that always restarted might never finish.
#[derive(Debug)]
pub(crate) struct Incoming {
    from: NodeId,
    meta: SnapshotMeta,
    total: u64,
    /// Bytes received in order from offset 0.
    received: u64,
    /// Where they are: reassembled here, or (`None`) handed to storage to
    /// stage.
    buf: Option<BytesMut>,
    /// Pieces that arrived ahead of a gap, by offset (at most
    /// [`MAX_AHEAD_PIECES`]), appended once the gap fills.
    ahead: std::collections::BTreeMap<u64, Bytes>,
}

/// Pieces a follower keeps that arrived ahead of a missing one.
const MAX_AHEAD_PIECES: usize = 64;

impl Incoming {
    fn received(&self) -> u64 {
        self.received
    }

    /// Takes the part of a piece at `offset` (at most `received`) that is
    /// new: appends it to the buffer, or queues it in `staged` for storage.
    /// A staging transfer always hands storage its piece at offset 0, even
    /// an empty one, so storage knows which snapshot it stages.
    fn accept(&mut self, offset: u64, data: &Bytes, staged: &mut Vec<SnapshotPiece>) {
        let have = self.received;
        let end = offset.saturating_add(data.len() as u64);
        if end <= have && !(have == 0 && self.buf.is_none() && offset == 0) {
            return;
        }
        // In range: `offset <= have <= end`, so the skip is within `data`.
        let fresh = data.slice((have - offset) as usize..);
        self.received = have + fresh.len() as u64;
        match &mut self.buf {
            Some(buf) => buf.extend_from_slice(&fresh),
            None => staged.push(SnapshotPiece {
                meta: self.meta.clone(),
                total_bytes: self.total,
                offset: have,
                data: fresh,
            }),
        }
    }

    /// Takes the kept pieces that now continue what was received; drops
    /// those it already holds.
    fn take_ahead(&mut self, staged: &mut Vec<SnapshotPiece>) {
        while let Some((&offset, _)) = self.ahead.first_key_value() {
            if offset > self.received {
                return;
            }
            let Some(data) = self.ahead.remove(&offset) else {
                return;
            };
            self.accept(offset, &data, staged);
        }
    }
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Starts sending `to` the latest snapshot, because it needs entries
    /// that were compacted away. If storage is still making one, tries
    /// again later.
    pub(crate) fn send_snapshot(&mut self, to: NodeId) {
        let Some(next) = self.progress.get(&to).map(|pr| pr.next_index) else {
            return;
        };
        let (meta, total) = match self.log.snapshot_meta(next - 1) {
            Ok((meta, total)) if meta.index != 0 => (meta, total),
            // Temporarily unavailable (or none yet): the next heartbeat
            // response retries.
            _ => return,
        };
        let index = meta.index;
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.become_snapshot(index);
        }
        self.snapshot_sends.insert(
            to,
            Outgoing {
                meta,
                total,
                sent: 0,
                acked: 0,
                started: false,
                pace_rounds: u32::MAX,
            },
        );
        self.pump_snapshot(to);
    }

    /// Whether the transfer to `to` is still wanted: the follower's
    /// progress waits for exactly that snapshot.
    fn transfer_live(&self, to: NodeId) -> bool {
        match (self.progress.get(&to), self.snapshot_sends.get(&to)) {
            (Some(pr), Some(out)) => {
                pr.state == ProgressState::Snapshot && pr.pending_snapshot == out.meta.index
            }
            _ => false,
        }
    }

    /// Sends `to` the next pieces of its snapshot, up to the window.
    pub(crate) fn pump_snapshot(&mut self, to: NodeId) {
        if !self.transfer_live(to) {
            self.snapshot_sends.remove(&to);
            return;
        }
        let chunk = self.config.snapshot_chunk_bytes;
        let window = chunk.saturating_mul(u64::from(self.config.snapshot_chunks_in_flight));
        let mut pieces = Vec::new();
        let mut failed = false;
        if let Some(out) = self.snapshot_sends.get(&to) {
            let (mut sent, mut started) = (out.sent, out.started);
            let total = out.total();
            while (!started || sent < total) && sent - out.acked < window {
                let end = sent.saturating_add(chunk).min(total);
                let Some(piece) = self.read_piece(out, sent, end) else {
                    failed = true;
                    break;
                };
                pieces.push(piece);
                (sent, started) = (end, true);
            }
            if let Some(out) = self.snapshot_sends.get_mut(&to) {
                (out.sent, out.started) = (sent, started);
            }
        }
        self.send_pieces(to, pieces, failed);
    }

    /// The piece of `out`'s snapshot from `from` to `end`, read from
    /// storage now, so the snapshot is never held whole here; `None` when
    /// storage no longer has it so (replaced by a newer snapshot, cut
    /// short, or a read failure).
    fn read_piece(&self, out: &Outgoing, from: u64, end: u64) -> Option<SnapshotChunk> {
        let len = end - from;
        match self.log.snapshot_piece(out.meta.index, from, len) {
            Ok(data) if data.len() as u64 == len => Some(SnapshotChunk {
                meta: out.meta.clone(),
                total_bytes: out.total(),
                offset: from,
                data,
            }),
            _ => None,
        }
    }

    fn send_pieces(&mut self, to: NodeId, pieces: Vec<SnapshotChunk>, failed: bool) {
        for piece in pieces {
            self.send(to, MessageBody::InstallSnapshot(Box::new(piece)));
        }
        if failed {
            // As a failed transfer reported by the transport: probe again,
            // which sends the snapshot storage holds then.
            self.report_snapshot(to, false);
        }
    }

    /// A heartbeat round passed without the transfer to `to` moving: after
    /// a few, send the first piece not acknowledged again. Only that one:
    /// heartbeat answers overtake acknowledgements that wait for the
    /// follower's disk, and sending the whole window again queued copies
    /// of it behind the pieces still on their way (under CPU load a 64 MiB
    /// install through synod-node peaked at 46 MiB of heap). A piece after
    /// it that was lost as well is revealed by the gap its successor
    /// meets, or sent at a later round.
    pub(crate) fn snapshot_stalled(&mut self, to: NodeId, rounds: u32) {
        if !self.transfer_live(to) {
            return;
        }
        let Some(out) = self.snapshot_sends.get_mut(&to) else {
            return;
        };
        // The rule both protocols' leaders pace a stalled transfer by.
        let every = synod_protocol::resend_after_rounds(
            out.pace_rounds,
            self.config.election_timeout_ticks,
        );
        if rounds == 0 || !rounds.is_multiple_of(every) {
            return;
        }
        if out.sent == out.acked {
            // Everything sent is acknowledged (the answer to the last
            // piece lost): an empty piece at the end is a probe the
            // follower answers with where it stands.
            out.started = false;
            self.pump_snapshot(to);
            return;
        }
        let chunk = self.config.snapshot_chunk_bytes;
        let Some(out) = self.snapshot_sends.get(&to) else {
            return;
        };
        let end = out.acked.saturating_add(chunk).min(out.sent);
        let piece = self.read_piece(out, out.acked, end);
        let failed = piece.is_none();
        self.send_pieces(to, piece.into_iter().collect(), failed);
    }

    /// The leader side of [`MessageBody::SnapshotAck`].
    pub(crate) fn on_snapshot_ack(
        &mut self,
        from: NodeId,
        index: crate::types::Index,
        received: u64,
        gap: bool,
    ) {
        if self.role != crate::node::Role::Leader || !self.transfer_live(from) {
            return;
        }
        let Some(out) = self.snapshot_sends.get_mut(&from) else {
            return;
        };
        if out.meta.index != index {
            // About another (older) transfer: stale.
            return;
        }
        // Never past the end, whatever the follower claims.
        let received = received.min(out.total());
        let mut moved = false;
        if gap {
            // The follower holds exactly `received`: go back there (it may
            // be behind `acked` if it dropped a half-received transfer).
            moved = received != out.acked || out.sent != received;
            out.acked = received;
            out.sent = received;
            out.started = received > 0;
        } else if received > out.acked {
            out.acked = received;
            out.sent = out.sent.max(received);
            moved = true;
        }
        if moved && let Some(pr) = self.progress.get_mut(&from) {
            out.pace_rounds = pr.snapshot_wait;
            pr.recent_active = true;
            pr.snapshot_wait = 0;
        }
        self.pump_snapshot(from);
    }

    /// The follower side of a snapshot piece.
    pub(crate) fn on_snapshot_chunk(
        &mut self,
        from: NodeId,
        chunk: SnapshotChunk,
    ) -> Result<(), Error> {
        let index = chunk.meta.index;
        let committed = self.log.committed();
        if index <= committed {
            // Stale: everything it covers is committed here already.
            self.snapshot_incoming = None;
            let result = AppendResult::Accepted {
                match_index: committed,
            };
            self.send(from, MessageBody::AppendResponse(result));
            return Ok(());
        }
        if self.log.match_term(index, chunk.meta.term) {
            // The log already holds its last entry: just commit up to it.
            self.snapshot_incoming = None;
            self.log.commit_to(index);
            let result = AppendResult::Accepted { match_index: index };
            self.send(from, MessageBody::AppendResponse(result));
            return Ok(());
        }
        if chunk.total_bytes > self.config.max_snapshot_bytes {
            return Err(Error::Malformed("snapshot larger than max_snapshot_bytes"));
        }
        let same = self.snapshot_incoming.as_ref().is_some_and(|inc| {
            inc.from == from && inc.total == chunk.total_bytes && inc.meta == chunk.meta
        });
        if !same {
            if chunk.offset != 0 {
                // A piece of a transfer we do not hold: start it over.
                self.ack_snapshot(from, index, 0, true);
                return Ok(());
            }
            let buf = (!self.log.storage_stages_snapshots()).then(|| {
                BytesMut::with_capacity(chunk.total_bytes.min(MAX_RESERVE_BYTES) as usize)
            });
            self.snapshot_incoming = Some(Incoming {
                from,
                meta: chunk.meta.clone(),
                total: chunk.total_bytes,
                received: 0,
                buf,
                ahead: std::collections::BTreeMap::new(),
            });
        }
        let Some(incoming) = self.snapshot_incoming.as_mut() else {
            return Ok(());
        };
        let have = incoming.received();
        if chunk.offset > have {
            // An earlier piece is missing (lost, or overtaken): keep this
            // one for when the gap fills, and send the leader back to it.
            if incoming.ahead.len() < MAX_AHEAD_PIECES {
                incoming.ahead.insert(chunk.offset, chunk.data);
            }
            self.ack_snapshot(from, index, have, true);
            return Ok(());
        }
        incoming.accept(chunk.offset, &chunk.data, &mut self.staged_pieces);
        incoming.take_ahead(&mut self.staged_pieces);
        let received = incoming.received();
        if received < incoming.total {
            self.ack_snapshot(from, index, received, false);
            return Ok(());
        }
        let Some(done) = self.snapshot_incoming.take() else {
            return Ok(());
        };
        let staged = done.buf.is_none();
        let data = done.buf.map_or_else(Bytes::new, BytesMut::freeze);
        self.install_snapshot(
            from,
            Snapshot {
                meta: done.meta,
                data,
            },
            staged,
        )
    }

    fn ack_snapshot(&mut self, to: NodeId, index: crate::types::Index, received: u64, gap: bool) {
        self.send(
            to,
            MessageBody::SnapshotAck {
                index,
                received,
                gap,
            },
        );
    }

    /// Installs a whole snapshot received from the leader `from` (its data
    /// in storage's staged pieces when `staged`).
    fn install_snapshot(
        &mut self,
        from: NodeId,
        snapshot: Snapshot,
        staged: bool,
    ) -> Result<(), Error> {
        let index = snapshot.meta.index;
        let membership = Membership::from_conf_state(&snapshot.meta.conf_state)
            .map_err(|_| Error::Malformed("snapshot with an invalid configuration"))?;
        if membership.voters.is_empty() {
            return Err(Error::Malformed("snapshot without voters"));
        }
        self.set_membership(membership);
        self.log.restore_from(snapshot, staged);
        let result = AppendResult::Accepted { match_index: index };
        self.send(from, MessageBody::AppendResponse(result));
        Ok(())
    }
}
