//! The acceptor's side: promises (phase 1b), accepting the leader's log
//! (phase 2b), the decided index, and read rounds.

use synod_protocol::{Entry, Index, NodeId, Storage, StorageError, Term};

use crate::ballot::Ballot;
use crate::error::Error;
use crate::message::{Body, Suffix};
use crate::node::{PaxosNode, Role};

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// Answers a message of a ballot older than the promise: tells the
    /// sender of the newer one.
    fn refuse_stale(&mut self, to: NodeId) -> Result<(), Error> {
        self.send(to, Body::Nack);
        Err(Error::Stale)
    }

    pub(crate) fn on_prepare(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        leader_decided: Index,
        leader_last_term: Term,
        leader_last_index: Index,
    ) -> Result<(), Error> {
        if ballot < self.promised {
            return self.refuse_stale(from);
        }
        #[allow(unused_mut)]
        let mut honour = true;
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::LeaseNotHonoured) {
            honour = false;
        }
        if honour && ballot > self.promised && self.lease.blocks(ballot, self.now) {
            return Err(Error::LeaseHeld);
        }
        if ballot > self.promised {
            self.step_down();
            self.promised = ballot;
            self.synced = None;
        }
        if ballot > self.leader {
            self.follow(ballot);
        }
        self.leader_since = self.now;
        let last_index = self.last_index();
        let last_term = self.log.last_term()?;
        // Only a log ahead of the leader's is worth sending, and only a
        // message's worth of it: a candidate that adopts this log asks for
        // the rest (another prepare, or the snapshot piece by piece) before
        // it leads, so no decided entry is lost to the cut.
        let ahead = (last_term, last_index) > (leader_last_term, leader_last_index);
        let large = if ahead && self.log.compacted_past(leader_decided)? {
            let (meta, total) = self.log.snapshot_meta()?;
            (total > self.config.snapshot_chunk_bytes).then_some(meta)
        } else {
            None
        };
        let suffix = match &large {
            _ if !ahead => Suffix {
                after: leader_decided,
                ..Suffix::default()
            },
            Some(meta) => Suffix {
                after: meta.index,
                ..Suffix::default()
            },
            None => self
                .log
                .suffix(leader_decided, self.config.max_size_per_msg_bytes)?,
        };
        let pieces = large.map(Box::new);
        // The promise vouches for the persisted ballot: it waits for it.
        let promise = Body::Promise {
            decided: self.decided,
            last_term,
            last_index,
            suffix,
            pieces,
        };
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::PromiseBeforePersist) {
            self.send(from, promise);
            return Ok(());
        }
        self.send_after_write(from, promise);
        Ok(())
    }

    /// A candidate this node promised asks for a piece of its snapshot:
    /// sent from storage a piece at a time (of the current snapshot from
    /// its start, if it has compacted since the promise).
    pub(crate) fn on_fetch_piece(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        index: Index,
        offset: u64,
    ) -> Result<(), Error> {
        if ballot != self.promised {
            return Err(Error::Stale);
        }
        let (meta, total) = match self.log.snapshot_meta() {
            Ok(found) if found.0.index > 0 => found,
            // None (it was installed over, and the candidate will learn
            // from a new promise), or one being staged: it asks again.
            Ok(_) | Err(StorageError::SnapshotTemporarilyUnavailable) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let offset = if meta.index == index && offset < total {
            offset
        } else {
            0
        };
        let data =
            match self
                .log
                .snapshot_piece(meta.index, offset, self.config.snapshot_chunk_bytes)
            {
                Ok(data) => data,
                Err(StorageError::SnapshotTemporarilyUnavailable) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
        self.send(
            from,
            Body::PromisePiece {
                meta: Box::new(meta),
                total,
                offset,
                data,
            },
        );
        Ok(())
    }

    /// Checks the ballot of a leader's phase-2 message: `Ok(true)` to go
    /// on, `Ok(false)` when this node must promise first (it asked).
    pub(crate) fn admit(&mut self, from: NodeId, ballot: Ballot) -> Result<bool, Error> {
        if ballot < self.promised {
            self.refuse_stale(from)?;
        }
        if ballot > self.promised || self.role != Role::Follower {
            // Not promised yet: ask to be prepared.
            self.send(from, Body::Resync);
            return Ok(false);
        }
        if ballot > self.leader {
            self.follow(ballot);
        }
        self.leader_since = self.now;
        // A phase-2 message of the ballot followed: its leader leads.
        if ballot == self.leader {
            self.leader_seen_at = Some(self.now);
            self.failed_campaigns = 0;
        }
        Ok(true)
    }

    pub(crate) fn on_accept_sync(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        suffix: Suffix,
        leader_decided: Index,
    ) -> Result<(), Error> {
        if !self.admit(from, ballot)? {
            return Ok(());
        }
        if self.synced == Some(ballot) && suffix.after <= self.accepted_through {
            // Synced already in this ballot: this is a repeat (or a late
            // copy). The leader's log only grows within a ballot, so it
            // may extend what is held but never cut it. (A sync starting
            // past what this node holds of the ballot is not a repeat: the
            // leader re-synced it after a gap, maybe with a snapshot, and
            // answering it as an accept would ask for the same sync again,
            // for ever.)
            return self.on_accept(from, ballot, suffix.after, suffix.entries, leader_decided);
        }
        if let Some(snapshot) = suffix.snapshot {
            let at = snapshot.meta.index;
            // A log that holds the snapshot's last entry (same term) is
            // kept: entries after it may have been counted toward a
            // decision, and the leader's entries may not all be in this
            // message (it is cut at the message size).
            let holds_its_end = self.log.term(at) == Ok(snapshot.meta.term);
            if at > self.decided && at > self.log.snapshot_index() && !holds_its_end {
                self.install(*snapshot);
            }
        }
        let last = self.last_index();
        if suffix.after > last {
            // The leader's run starts past this log: ask again.
            self.send(from, Body::Resync);
            return Ok(());
        }
        // Everything through the decided index is decided, hence the same
        // in every leader's log: keep it, even when this sync was computed
        // from an older promise (a late copy must not cut decided entries).
        // Entries this node compacted are decided too.
        #[allow(unused_mut)]
        let mut keep = suffix.after.max(self.decided).min(last);
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::SyncTruncates) {
            keep = suffix.after;
        }
        let entries: Vec<Entry> = suffix
            .entries
            .into_iter()
            .filter(|e| e.index > keep)
            .collect();
        let through = entries.last().map_or(keep, |e| e.index);
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::SyncTruncates) {
            self.append_log(entries.clone());
        }
        self.merge_log(entries);
        self.synced = Some(ballot);
        self.accepted_through = through;
        self.learn_decided(leader_decided);
        self.send_after_write(
            from,
            Body::Accepted {
                last_index: through,
            },
        );
        Ok(())
    }

    pub(crate) fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        prev_index: Index,
        entries: Vec<Entry>,
        leader_decided: Index,
    ) -> Result<(), Error> {
        if !self.admit(from, ballot)? {
            return Ok(());
        }
        if self.synced != Some(ballot) || prev_index > self.accepted_through {
            // Not synced in this ballot, or an accept was lost.
            self.send(from, Body::Resync);
            return Ok(());
        }
        // Within a ballot the leader's log only grows: keep what is held of
        // it (a stale repeat never truncates). Past that, this log may
        // still hold entries of earlier ballots (a sync cut at the message
        // size stops short of them): the same entry is kept, and the log is
        // replaced only from the first that differs. Appending would cut
        // the entries after it, which may have been counted toward a
        // decision: with one entry per message, chaos seeds 1001226 and
        // 1002792 lost a decided entry that way.
        let skip = (self.accepted_through - prev_index) as usize;
        if skip < entries.len() {
            let fresh = crate::node::drop_front(entries, skip);
            self.accepted_through = fresh.last().map_or(self.accepted_through, |e| e.index);
            #[cfg(feature = "mutations")]
            if self.mutated(crate::mutation::Mutation::AcceptTruncates) {
                self.append_log(fresh);
                self.learn_decided(leader_decided);
                let last_index = self.accepted_through;
                self.send_after_write(from, Body::Accepted { last_index });
                return Ok(());
            }
            self.merge_log(fresh);
        }
        self.learn_decided(leader_decided);
        let last_index = self.accepted_through;
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::AcceptedBeforeDurable) {
            self.send(from, Body::Accepted { last_index });
            return Ok(());
        }
        self.send_after_write(from, Body::Accepted { last_index });
        Ok(())
    }

    /// The leader decided through `index`: so is this log's copy of it.
    fn learn_decided(&mut self, index: Index) {
        let decided = index.min(self.accepted_through);
        if decided > self.decided {
            self.raise_decided(decided);
        }
    }

    pub(crate) fn on_read(&mut self, from: NodeId, ballot: Ballot, seq: u64) -> Result<(), Error> {
        if !self.admit(from, ballot)? {
            return Ok(());
        }
        if self.config.lease_reads {
            let ticks = u64::from(self.config.election_timeout_ticks);
            self.lease.grant(ballot, self.now, ticks);
        }
        // Vouches for the promise: leaves with this round's write.
        self.send_after_write(from, Body::ReadAck { seq });
        Ok(())
    }

    /// A newer ballot exists: leave candidacy or leadership.
    pub(crate) fn on_nack(&mut self, ballot: Ballot) {
        self.max_round = self.max_round.max(ballot.round());
        if ballot > self.promised && self.role != Role::Follower {
            self.step_down();
        }
    }
}
