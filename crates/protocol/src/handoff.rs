//! What a protocol hands its driver after any input: messages to send,
//! state to make durable, entries to apply, reads to serve.

use crate::types::{Entry, HardState, ReadState, Snapshot, SnapshotMeta, SnapshotPiece};

/// Work a replica hands out, as plain data. Obtained from
/// [`Protocol::ready`](crate::Protocol::ready).
///
/// Persist-before-send is in the types: messages that may leave before
/// anything is written are in [`Ready::messages`]; those that vouch for
/// state not yet durable (votes, acknowledgements of entries, anything
/// sent in an epoch not yet persisted) sit inside [`Ready::after_write`]
/// and come out only through [`AfterWrite::written`], which the driver
/// calls once [`Ready::write`] is durable.
#[derive(Debug)]
#[must_use = "a Ready holds messages to send and state to persist"]
pub struct Ready<M, R> {
    /// Messages to send now, in parallel with the write.
    pub messages: Vec<M>,
    /// What to make durable before the messages in `after_write` leave.
    pub write: Write,
    /// The messages waiting for `write`, and the receipt for
    /// [`Protocol::on_written`](crate::Protocol::on_written).
    pub after_write: AfterWrite<M, R>,
    /// Committed entries to apply, in index order. Already durable on a
    /// quorum (and here).
    pub committed: Vec<Entry>,
    /// Linearizable reads confirmed: serve each once its index is applied.
    pub reads: Vec<ReadState>,
}

/// State to make durable, in this order: the snapshot pieces (staged
/// aside), the snapshot (replacing the log and the state machine), then
/// the entries (replacing any suffix from the first one's index on), then
/// the hard state (whose commit index may point into them).
#[derive(Debug, Clone, Default)]
#[must_use = "the write must be made durable before `after_write` is released"]
pub struct Write {
    /// The epoch, vote and commit index, when they changed.
    pub hard_state: Option<HardState>,
    /// A leader's snapshot to install, whole.
    pub snapshot: Option<Snapshot>,
    /// Pieces of a leader's snapshot to stage, in order (only for storage
    /// that [stages snapshots](crate::Storage::stages_snapshots)). Staged
    /// bytes need no sync: a node that restarts starts the transfer over.
    pub snapshot_pieces: Vec<SnapshotPiece>,
    /// Install the snapshot whose pieces were staged (in this write or
    /// earlier ones; every byte of it has been handed out): it replaces
    /// the log and the state machine as [`Write::snapshot`] does, with its
    /// data read from storage. Never set together with `snapshot`.
    pub staged_snapshot: Option<SnapshotMeta>,
    /// Entries to append.
    pub entries: Vec<Entry>,
    /// Whether the write must be synced before `after_write` is released:
    /// true when it holds entries, a snapshot to install, or a new epoch or
    /// vote (a commit index or snapshot pieces alone may be written
    /// lazily).
    pub must_sync: bool,
}

impl Write {
    /// Whether there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.snapshot_pieces.is_empty()
            && self.staged_snapshot.is_none()
            && self.entries.is_empty()
    }

    /// The index of the snapshot this write installs, whole or staged.
    #[must_use]
    pub fn installs(&self) -> Option<crate::types::Index> {
        self.snapshot
            .as_ref()
            .map(|s| s.meta.index)
            .or(self.staged_snapshot.as_ref().map(|m| m.index))
    }
}

/// The messages that wait for a [`Write`], and the protocol's receipt for
/// it. It does not hold the write, so the entries can move into storage
/// first.
#[derive(Debug)]
#[must_use = "call `written` once the write is durable, to get the messages that waited"]
pub struct AfterWrite<M, R> {
    held: Vec<M>,
    receipt: R,
}

impl<M, R> AfterWrite<M, R> {
    /// What a protocol builds: `held` may leave only once the write is
    /// durable; `receipt` goes back to it then.
    pub fn new(held: Vec<M>, receipt: R) -> Self {
        Self { held, receipt }
    }

    /// Whether any message waits.
    #[must_use]
    pub fn holds_messages(&self) -> bool {
        !self.held.is_empty()
    }

    /// Call once the write is durable (synced when `must_sync`) and its
    /// snapshot loaded into the state machine: releases the messages.
    pub fn written(self) -> Written<M, R> {
        Written {
            messages: self.held,
            receipt: self.receipt,
        }
    }
}

/// What [`AfterWrite::written`] releases.
#[derive(Debug)]
pub struct Written<M, R> {
    /// Messages to send now.
    pub messages: Vec<M>,
    /// Hand back with [`Protocol::on_written`](crate::Protocol::on_written).
    pub receipt: R,
}
