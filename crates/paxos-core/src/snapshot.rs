//! Snapshots in pieces: a leader sends an acceptor behind its compacted
//! log a snapshot larger than `Config::snapshot_chunk_bytes` a piece at a
//! time, read from storage as it goes, with a few pieces in flight; the
//! acceptor stages them (storage that stages snapshots) or gathers them,
//! installs the whole, and acknowledges it once durable; the leader then
//! syncs the entries after it through the usual prepare. Nothing here is
//! needed for safety beyond the install rule: an acceptor whose log holds
//! the snapshot's last entry (same index and term) keeps its log instead,
//! since entries after it may have been counted toward a decision.

use bytes::Bytes;
use synod_protocol::{Index, NodeId, Snapshot, SnapshotMeta, SnapshotPiece, Storage, StorageError};

use crate::ballot::Ballot;
use crate::error::Error;
use crate::message::Body;
use crate::node::{PaxosNode, Role};

/// Pieces a leader has in flight to one acceptor.
const PIECES_IN_FLIGHT: u64 = 4;

// A piece not acknowledged goes again after the acceptor's own beats,
// counted as raft-core counts heartbeat answers (a silent acceptor is not
// sent copies), by `synod_protocol::resend_after_rounds`. That piece
// alone: it may have been lost last (no later piece to reveal the gap),
// or every acknowledgement lost, and a slow disk behind the acceptor must
// not make the leader pile copies of the whole window into its inbox
// (resending the window did, 100 MiB for a 1 GiB snapshot through
// synod-node).

/// As leader: a snapshot on its way to one acceptor.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotSend {
    meta: SnapshotMeta,
    total: u64,
    /// Bytes the acceptor said it holds.
    acked: u64,
    /// Bytes sent.
    sent: u64,
    /// Heartbeats since the last acknowledgement that moved `acked` (or
    /// the last piece sent again).
    quiet: u32,
    /// Heartbeats between the last two acknowledgements that moved
    /// `acked`: the acceptor's pace (`u32::MAX` until measured).
    pace: u32,
}

impl SnapshotIncoming {
    /// Whether it is the snapshot `meta` names.
    pub(crate) fn is_of(&self, meta: &SnapshotMeta) -> bool {
        self.meta.index == meta.index && self.meta.term == meta.term
    }

    /// The snapshot's size in bytes.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

/// What a piece did ([`PaxosNode::take_piece`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PieceTaken {
    /// This log already holds what the snapshot does: nothing to install.
    Held,
    /// Not the next piece: this many bytes of the snapshot are held.
    Gap(u64),
    /// Taken: this many bytes are held, and the snapshot was installed.
    Took {
        /// Bytes held from its start.
        received: u64,
        /// The piece completed it.
        installed: bool,
    },
}

/// As acceptor (or candidate catching up): a snapshot arriving.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotIncoming {
    meta: SnapshotMeta,
    total: u64,
    received: u64,
    /// The bytes so far, for storage that takes a snapshot whole.
    gathered: Vec<u8>,
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// As leader, syncing `to` whose log ends below this one's compacted
    /// part: starts sending the snapshot in pieces when it is over the
    /// chunk size (or goes on with the transfer of the same snapshot).
    /// `false` when it is small enough to go whole in the sync.
    pub(crate) fn send_snapshot_in_pieces(&mut self, to: NodeId) -> Result<bool, Error> {
        let (meta, total) = self.log.snapshot_meta()?;
        if total <= self.config.snapshot_chunk_bytes {
            return Ok(false);
        }
        self.progress.remove(&to);
        let same = self
            .transfers
            .get(&to)
            .is_some_and(|t| t.meta.index == meta.index && t.meta.term == meta.term);
        if !same {
            self.transfers.insert(
                to,
                SnapshotSend {
                    meta,
                    total,
                    acked: 0,
                    sent: 0,
                    quiet: 0,
                    pace: u32::MAX,
                },
            );
        }
        self.send_pieces(to, PIECES_IN_FLIGHT)?;
        Ok(true)
    }

    /// Sends `to` the next pieces its window allows, `most` at most.
    fn send_pieces(&mut self, to: NodeId, most: u64) -> Result<(), Error> {
        let window = self
            .config
            .snapshot_chunk_bytes
            .saturating_mul(PIECES_IN_FLIGHT);
        for _ in 0..most {
            let Some(t) = self.transfers.get(&to) else {
                return Ok(());
            };
            if t.sent >= t.total || t.sent - t.acked.min(t.sent) >= window {
                return Ok(());
            }
            let offset = t.sent;
            let Some(len) = self.send_piece(to, offset)? else {
                return Ok(());
            };
            if let Some(t) = self.transfers.get_mut(&to) {
                t.sent = offset.saturating_add(len).min(t.total);
            }
            if len == 0 {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Sends `to` again the first piece it has not acknowledged, leaving
    /// the window as it is.
    fn resend_first_unacknowledged(&mut self, to: NodeId) -> Result<(), Error> {
        if let Some(offset) = self.transfers.get(&to).map(|t| t.acked) {
            self.send_piece(to, offset)?;
        }
        Ok(())
    }

    /// Reads and sends `to` the piece of its transfer at `offset`; its
    /// length, or `None` when a newer snapshot replaced the one being sent
    /// (the transfer then starts over with that one, through a prepare).
    fn send_piece(&mut self, to: NodeId, offset: u64) -> Result<Option<u64>, Error> {
        let Some(t) = self.transfers.get(&to) else {
            return Ok(None);
        };
        let (meta, total) = (t.meta.clone(), t.total);
        let chunk = self.config.snapshot_chunk_bytes;
        let data = match self.log.snapshot_piece(meta.index, offset, chunk) {
            Ok(data) => data,
            Err(StorageError::SnapshotTemporarilyUnavailable) => {
                self.transfers.remove(&to);
                self.prepare(to);
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let len = data.len() as u64;
        self.send(
            to,
            Body::SnapshotPiece {
                meta: Box::new(meta),
                total,
                offset,
                data,
            },
        );
        Ok(Some(len))
    }

    /// As leader, each heartbeat: goes on with every transfer whose
    /// window has room (a piece that could not be read is tried again).
    pub(crate) fn beat_transfers(&mut self) {
        let ids: Vec<NodeId> = self.transfers.keys().copied().collect();
        for to in ids {
            let _ = self.send_pieces(to, PIECES_IN_FLIGHT);
        }
    }

    /// As leader: a beat from `from`, which is alive. After `synod_protocol::resend_after_rounds`
    /// of them without the transfer to it moving, the first piece it has
    /// not acknowledged goes again (lost, or its acknowledgement was).
    pub(crate) fn transfer_heard(&mut self, from: NodeId) {
        let Some(t) = self.transfers.get_mut(&from) else {
            return;
        };
        t.quiet += 1;
        let quiet_enough =
            synod_protocol::resend_after_rounds(t.pace, self.config.election_timeout_ticks);
        if t.quiet >= quiet_enough && t.sent > t.acked {
            t.quiet = 0;
            // A failed read is tried again at a later beat.
            let _ = self.resend_first_unacknowledged(from);
        }
    }

    pub(crate) fn on_snapshot_ack(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        index: Index,
        received: u64,
    ) -> Result<(), Error> {
        if self.role != Role::Leader || ballot != self.promised {
            return Err(Error::Stale);
        }
        let Some(t) = self.transfers.get_mut(&from) else {
            return Ok(());
        };
        if t.meta.index != index {
            return Ok(());
        }
        if received >= t.total {
            // Installed (or not needed): sync what follows it.
            self.transfers.remove(&from);
            self.prepare(from);
            return Ok(());
        }
        if received < t.acked {
            // The acceptor holds less than it said: it restarted (0), or
            // this is a late answer. Go on from what it says it holds; a
            // late answer costs a few pieces it already has, each answered
            // with what it really holds.
            t.acked = received;
            t.sent = received;
        } else if received > t.acked {
            t.acked = received;
            t.sent = t.sent.max(received);
            t.pace = t.quiet;
            t.quiet = 0;
        }
        self.send_pieces(from, PIECES_IN_FLIGHT)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_snapshot_piece(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        meta: SnapshotMeta,
        total: u64,
        offset: u64,
        data: Bytes,
    ) -> Result<(), Error> {
        if !self.admit(from, ballot)? {
            return Ok(());
        }
        let index = meta.index;
        match self.take_piece(meta, total, offset, data) {
            PieceTaken::Held => self.send(
                from,
                Body::SnapshotAck {
                    index,
                    received: total,
                },
            ),
            // A gap, a repeat, or pieces of a transfer this node lost: say
            // what it holds of this one.
            PieceTaken::Gap(received) => self.send(from, Body::SnapshotAck { index, received }),
            PieceTaken::Took {
                received,
                installed,
            } => {
                if installed {
                    // Synced again from the snapshot's end by the leader's
                    // prepare.
                    self.synced = None;
                }
                self.send_after_write(from, Body::SnapshotAck { index, received });
            }
        }
        Ok(())
    }

    /// Takes a piece of a snapshot arriving (from a leader, or fetched by
    /// a candidate): stages or gathers it when it continues what arrived,
    /// and installs the snapshot once whole.
    pub(crate) fn take_piece(
        &mut self,
        meta: SnapshotMeta,
        total: u64,
        offset: u64,
        data: Bytes,
    ) -> PieceTaken {
        let index = meta.index;
        let holds_its_end = self.log.term(index) == Ok(meta.term);
        if index <= self.decided || index <= self.log.snapshot_index() || holds_its_end {
            // Nothing to install: this log already holds (or decided)
            // everything the snapshot does. The log is kept: entries after
            // the snapshot's end may have been counted toward a decision.
            if holds_its_end && index > self.decided {
                self.incoming = None;
                self.raise_decided(index);
            }
            return PieceTaken::Held;
        }
        let same = self
            .incoming
            .as_ref()
            .is_some_and(|i| i.meta.index == index && i.meta.term == meta.term && i.total == total);
        let continues = same && self.incoming.as_ref().is_some_and(|i| i.received == offset);
        if !continues {
            // A first piece starts the transfer over only when it is of
            // another snapshot (or none is arriving): a late copy of the
            // first piece must not throw away what arrived since (the
            // leader would go on from where it was, and the acceptor would
            // answer that it lacks that, for ever; liveness seed 3001997).
            if offset != 0 || same {
                let received = self
                    .incoming
                    .as_ref()
                    .filter(|i| i.meta.index == index && i.meta.term == meta.term)
                    .map_or(0, |i| i.received);
                return PieceTaken::Gap(received);
            }
            self.incoming = Some(SnapshotIncoming {
                meta: meta.clone(),
                total,
                received: 0,
                gathered: Vec::new(),
            });
        }
        let stages = self.log.storage.stages_snapshots();
        let Some(inc) = self.incoming.as_mut() else {
            return PieceTaken::Gap(0);
        };
        let end = offset.saturating_add(data.len() as u64);
        if stages {
            self.staged_pieces.push(SnapshotPiece {
                meta,
                total_bytes: total,
                offset,
                data,
            });
        } else {
            inc.gathered.extend_from_slice(&data);
        }
        inc.received = end;
        let mut installed = false;
        if end >= inc.total
            && let Some(inc) = self.incoming.take()
        {
            if stages {
                self.install_staged(inc.meta);
            } else {
                self.install(Snapshot {
                    meta: inc.meta,
                    data: Bytes::from(inc.gathered),
                });
            }
            installed = true;
        }
        PieceTaken::Took {
            received: end,
            installed,
        }
    }

    /// Bytes held of the snapshot `meta` names, arriving (0 for none).
    pub(crate) fn received_of(&self, meta: &SnapshotMeta) -> u64 {
        self.incoming
            .as_ref()
            .filter(|i| i.is_of(meta))
            .map_or(0, |i| i.received)
    }
}
