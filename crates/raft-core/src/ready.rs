//! The hand-off to the application: what to persist, send and apply.

use crate::error::Error;
use crate::message::{Message, MessageBody};
use crate::node::{RaftNode, SoftState};
use crate::storage::Storage;
use crate::types::{
    Entry, HardState, Index, ReadState, Snapshot, SnapshotMeta, SnapshotPiece, Term,
};

/// Work the node hands to the application. Obtained from
/// [`RaftNode::ready`]; see the crate docs for the full loop.
///
/// The persist-before-send rule is in the types: messages that may go out
/// before anything is written are in [`Ready::messages`]; messages that
/// vouch for state not yet durable (votes, append acknowledgements, and
/// everything sent in a term this node has not yet persisted) are inside
/// [`Ready::persist`] and come out only through [`Persist::persisted`],
/// which the application calls once it has written the batch.
#[derive(Debug)]
#[must_use = "a Ready holds messages to send and state to persist"]
pub struct Ready {
    /// The new leader and role, when they changed.
    pub soft_state: Option<SoftState>,
    /// Messages to send now, in parallel with persisting: the leader's
    /// appends and heartbeats in a term already persisted.
    pub messages: Vec<Message>,
    /// What to write durably before the messages inside can be sent.
    pub persist: Persist,
    /// Committed entries to apply to the state machine, in order. They are
    /// durable here already (and on a quorum). Membership changes among
    /// them have already taken effect in the node; see
    /// [`RaftNode::conf_state`].
    pub committed_entries: Vec<Entry>,
    /// Linearizable reads that may be served once their index is applied.
    pub read_states: Vec<ReadState>,
}

/// What to write durably, and the messages that must wait for it.
///
/// The fields are public so the application can move the entries and the
/// snapshot into its storage (`let Persist { entries, after, .. } =
/// ready.persist;`) and keep only [`Persist::after`], which releases the
/// waiting messages once the write is durable.
#[derive(Debug)]
#[must_use = "call `persisted` after writing, to get the messages that waited"]
pub struct Persist {
    /// The term, vote and commit index to write, when they changed. Write
    /// it after `snapshot` and `entries`: its commit index may point into
    /// them. (A node restarted with a commit index past its log ignores
    /// the stored commit index, so the other order loses only that
    /// optimisation, never data.)
    pub hard_state: Option<HardState>,
    /// A leader's snapshot to install, before `entries`: write it to
    /// storage (replacing the log) and load it into the state machine.
    pub snapshot: Option<Snapshot>,
    /// Pieces of a leader's snapshot for storage to stage, in order, before
    /// `staged_snapshot` (handed out only when
    /// [`Storage::stages_snapshots`] says so). They need no sync.
    pub snapshot_pieces: Vec<SnapshotPiece>,
    /// Install the snapshot whose pieces storage staged, as `snapshot`
    /// would be installed (its data read back from storage to load the
    /// state machine). Never set together with `snapshot`.
    pub staged_snapshot: Option<SnapshotMeta>,
    /// Entries to append to the log (replacing any suffix from the first
    /// one's index on).
    pub entries: Vec<Entry>,
    /// Whether the write must be synced to disk before going on: true when
    /// there are entries, a snapshot to install, or a new term or vote (the
    /// commit index or snapshot pieces alone may be written lazily).
    pub must_sync: bool,
    /// The messages that wait for this write, and the receipt for
    /// [`RaftNode::on_persisted`]: call [`AfterPersist::persisted`] once
    /// the write is durable.
    pub after: AfterPersist,
}

/// What waits for a [`Persist`] batch to be durable. It does not hold the
/// batch's entries, so they can be moved into storage first.
#[derive(Debug)]
#[must_use = "call `persisted` after writing, to get the messages that waited"]
pub struct AfterPersist {
    pub(crate) held: Vec<Message>,
    pub(crate) receipt: PersistReceipt,
}

impl AfterPersist {
    /// Call once the batch is durably written (synced when `must_sync`)
    /// and its snapshot loaded into the state machine: releases the
    /// messages that waited.
    pub fn persisted(self) -> Persisted {
        Persisted {
            messages: self.held,
            receipt: self.receipt,
        }
    }
}

/// Proof that a [`Persist`] batch was written: the messages it held, and
/// the receipt to hand back with [`RaftNode::on_persisted`].
#[derive(Debug)]
pub struct Persisted {
    /// Messages to send now.
    pub messages: Vec<Message>,
    /// Hand to [`RaftNode::on_persisted`].
    pub receipt: PersistReceipt,
}

/// Which entries a persisted batch covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistReceipt {
    snapshot_index: Option<Index>,
    last_entry: Option<(Index, Term)>,
    /// The batch carried a new term or vote.
    epoch: bool,
}

impl Persist {
    /// Whether there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.snapshot_pieces.is_empty()
            && self.staged_snapshot.is_none()
            && self.entries.is_empty()
    }

    /// Call after `snapshot`, `hard_state` and `entries` are durably
    /// written (synced when `must_sync`) and the snapshot is loaded into the
    /// state machine: releases the messages that waited. (To move the
    /// entries into storage instead of cloning them, destructure the batch
    /// and call [`AfterPersist::persisted`].)
    pub fn persisted(self) -> Persisted {
        self.after.persisted()
    }
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Whether [`RaftNode::ready`] has anything to hand out.
    #[must_use]
    pub fn has_ready(&self) -> bool {
        (self.appends_due && self.role == crate::node::Role::Leader)
            || !self.msgs.is_empty()
            || !self.reads.ready.is_empty()
            || self.soft_state() != self.last_soft_state
            || self.hard_state() != self.last_hard_state
            || self.log.has_new_unstable()
            || self.pending_snapshot().is_some()
            || !self.staged_pieces.is_empty()
            || self
                .log
                .committed_range_after(self.applying, false)
                .is_ok_and(|(lo, hi)| lo < hi)
    }

    /// Hands out the work accumulated since the last call. Each entry,
    /// message and state change is handed out once.
    ///
    /// # Errors
    /// A storage error while reading committed entries.
    pub fn ready(&mut self) -> Result<Ready, Error> {
        // Before the committed membership changes below take effect: nodes
        // they remove still hear the commit index that removes them.
        self.flush_appends();
        let soft = self.soft_state();
        let soft_state = (soft != self.last_soft_state).then_some(soft);
        self.last_soft_state = soft;

        let hard = self.hard_state();
        let term_or_vote_changed =
            hard.term != self.last_hard_state.term || hard.vote != self.last_hard_state.vote;
        let hard_state = (hard != self.last_hard_state).then_some(hard);
        self.last_hard_state = hard;

        let mut snapshot = self.pending_snapshot().cloned();
        let mut staged_snapshot = None;
        if let Some(s) = &snapshot {
            self.snapshot_handed_out = s.meta.index;
        }
        if self.log.unstable_snapshot_staged() {
            staged_snapshot = snapshot.take().map(|s| s.meta);
        }
        let snapshot_pieces = std::mem::take(&mut self.staged_pieces);
        let installs = snapshot
            .as_ref()
            .map(|s| s.meta.index)
            .or(staged_snapshot.as_ref().map(|m| m.index));
        let entries = self.log.take_unstable();
        let committed_entries = self
            .log
            .take_committed_entries_after(self.applying, self.config.max_size_per_msg_bytes)?;
        if let Some(last) = committed_entries.last() {
            self.applying = last.index;
        }
        for e in &committed_entries {
            if let crate::types::Payload::ConfChange(cc) = &e.payload {
                self.apply_committed_conf_change(cc);
            }
        }
        self.maybe_auto_leave();
        if self.role == crate::node::Role::Leader {
            let applied: u64 = committed_entries
                .iter()
                .map(|e| crate::types::payload_bytes(&e.payload))
                .sum();
            self.uncommitted_bytes = self.uncommitted_bytes.saturating_sub(applied);
        }

        // And after them: a member they add hears from us in this round.
        self.flush_appends();
        if term_or_vote_changed {
            self.epoch_writes = self.epoch_writes.saturating_add(1);
        }
        // A leader sends nothing before its term is durable: while a batch
        // with a new term or vote is away, its messages wait for a batch
        // after it. A lone voter leads without anyone's vote, so its term
        // may still be in flight when a later `ready` (persistence
        // pipelined) has appends for a learner; had they left, a crash
        // losing the term would let it lead the same term again and send
        // other entries under it, which the learner would take for the
        // ones it holds. (A leader elected by others' votes asked for them
        // only once its term was durable. Other roles' messages under an
        // undurable term vouch for nothing but the votes and
        // acknowledgements that wait anyway.)
        let leads_undurable = self.role == crate::node::Role::Leader && self.epoch_writes > 0;
        let (messages, held) = self.split_messages(term_or_vote_changed || leads_undurable);
        let must_sync = !entries.is_empty() || installs.is_some() || term_or_vote_changed;
        let receipt = PersistReceipt {
            snapshot_index: installs,
            last_entry: entries.last().map(|e| (e.index, e.term)),
            epoch: term_or_vote_changed,
        };
        Ok(Ready {
            soft_state,
            messages,
            persist: Persist {
                hard_state,
                snapshot,
                snapshot_pieces,
                staged_snapshot,
                entries,
                must_sync,
                after: AfterPersist { held, receipt },
            },
            committed_entries,
            read_states: std::mem::take(&mut self.reads.ready),
        })
    }

    /// Splits the messages produced since the last `ready` into those that
    /// may go now and those that wait for the persist batch. Usually they
    /// are all of one kind (a leader's appends; a follower's
    /// acknowledgements), and the buffer is handed out whole.
    fn split_messages(&mut self, epoch_away: bool) -> (Vec<Message>, Vec<Message>) {
        let early_votes = self.mutated(crate::node::Mutated::VoteBeforePersist);
        let waits = |msg: &Message| {
            let early = early_votes && matches!(msg.body, MessageBody::VoteResponse { .. });
            !early && (epoch_away || is_acknowledgement(&msg.body))
        };
        if self.msgs.iter().all(waits) {
            return (Vec::new(), self.spare_msgs.hand_out(&mut self.msgs));
        }
        if !self.msgs.iter().any(waits) {
            return (self.spare_msgs.hand_out(&mut self.msgs), Vec::new());
        }
        self.msgs.drain(..).partition(|msg| !waits(msg))
    }

    /// The application wrote a [`Persist`] batch; `receipt` came from
    /// [`Persist::persisted`]. Batches must be reported in the order they
    /// were handed out.
    pub fn on_persisted(&mut self, receipt: PersistReceipt) {
        if receipt.epoch {
            self.epoch_writes = self.epoch_writes.saturating_sub(1);
        }
        if let Some(index) = receipt.snapshot_index {
            self.log.stable_snap_to(index);
            // Installing the snapshot applied everything it covers.
            self.log.applied_to(index);
            self.applying = self.applying.max(index);
        }
        if let Some((index, term)) = receipt.last_entry {
            self.log.stable_to(index, term);
            self.on_self_persisted(index);
        }
    }

    /// A leader's snapshot waiting to be handed out.
    fn pending_snapshot(&self) -> Option<&Snapshot> {
        self.log
            .unstable_snapshot()
            .filter(|s| s.meta.index > self.snapshot_handed_out)
    }

    /// The application applied committed entries up to `index`.
    pub fn on_applied(&mut self, index: Index) {
        self.log.applied_to(index);
    }

    /// Hands back an entry buffer the node handed out (the committed
    /// entries once applied, [`Persist::entries`] once written, if storage
    /// left the `Vec`): the node fills it next time instead of allocating
    /// one. Optional; what it still holds is dropped. A node keeps a few
    /// buffers of at most 16 KiB each.
    pub fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        self.log.reuse_entries(buffer);
    }

    /// Hands back a message buffer the node handed out
    /// ([`Ready::messages`], [`Persisted::messages`]) once sent, as
    /// [`RaftNode::reuse_entries`] does for entries.
    pub fn reuse_messages(&mut self, buffer: Vec<Message>) {
        self.spare_msgs.give(buffer);
    }
}

/// Messages that vouch for this node's durable state.
fn is_acknowledgement(body: &MessageBody) -> bool {
    matches!(
        body,
        MessageBody::VoteResponse { .. } | MessageBody::AppendResponse(_)
    )
}
