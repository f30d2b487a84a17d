//! Log replication: the leader's appends and heartbeats, the follower's
//! answers, and commitment (Raft §5.3, §5.4).

use crate::StorageError;
use crate::error::Error;
use crate::log::AppendOutcome;
use crate::message::{AppendResult, MessageBody};
use crate::node::Mutated;
use crate::node::{RaftNode, Role};
use crate::progress::ProgressState;
use crate::storage::Storage;
use crate::types::{Entry, Index, NodeId, Term};

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Marks that followers should hear what changed (new entries, a
    /// commit advance); the appends go out at the next `ready`, so
    /// everything between two `ready` calls shares one append per follower.
    pub(crate) fn broadcast_append(&mut self) {
        self.appends_due = true;
    }

    /// Sends the appends `broadcast_append` asked for: each follower gets
    /// what it lacks, within its in-flight window, and an empty append when
    /// it lacks nothing but the commit index (or is being probed).
    pub(crate) fn flush_appends(&mut self) {
        if !std::mem::take(&mut self.appends_due) || self.role != Role::Leader {
            return;
        }
        let committed = self.log.committed();
        // By position: `peer_ids` only changes with the membership, which
        // sending does not touch.
        for k in 0..self.peer_ids.len() {
            let to = self.peer_ids[k];
            let Some(pr) = self.progress.get(&to) else {
                continue;
            };
            let send_if_empty = pr.state == ProgressState::Probe || pr.commit_sent < committed;
            self.send_append(to, send_if_empty);
        }
    }

    pub(crate) fn broadcast_heartbeat(&mut self) {
        for k in 0..self.peer_ids.len() {
            let to = self.peer_ids[k];
            let Some(pr) = self.progress.get_mut(&to) else {
                continue;
            };
            // Never let a follower commit past what it is known to match:
            // its entries beyond that may differ from ours.
            let commit = self.log.committed().min(pr.match_index);
            pr.commit_sent = pr.commit_sent.max(commit);
            let read_round = self.read_round;
            let sent_at_tick = self.now_ticks;
            self.send(
                to,
                MessageBody::Heartbeat {
                    commit,
                    read_round,
                    sent_at_tick,
                },
            );
        }
    }

    /// Sends `to` the entries from its next index, unless paused; with no
    /// entries to send, sends an empty append only if `send_if_empty`.
    pub(crate) fn send_append(&mut self, to: NodeId, send_if_empty: bool) {
        let (max_msgs, max_bytes) = (
            self.config.max_inflight_msgs,
            self.config.max_inflight_bytes,
        );
        let Some(pr) = self.progress.get(&to) else {
            return;
        };
        if pr.is_paused(max_msgs, max_bytes) {
            return;
        }
        let next = pr.next_index;
        let prev_index = next - 1;
        // A node that needs the log from its start may be joining with an
        // empty configuration: if replaying the log would not give it the
        // configuration, it must get the snapshot (which carries it).
        if prev_index == 0 && !self.log_begins_with_configuration() && self.has_snapshot() {
            return self.send_snapshot(to);
        }
        let prev_term = match self.log.term(prev_index) {
            Ok(t) => t,
            Err(StorageError::Compacted { .. }) => return self.send_snapshot(to),
            // Temporarily unavailable: try again on the next round.
            Err(_) => return,
        };
        let last = self.log.last_index().unwrap_or(prev_index);
        let out = self.log.spare_entries();
        let (entries, bytes) =
            match self
                .log
                .slice_counted(next, last + 1, self.config.max_size_per_msg_bytes, out)
            {
                Ok(counted) => counted,
                // Temporarily unavailable or compacted meanwhile: next round.
                Err(StorageError::Compacted { .. }) => return self.send_snapshot(to),
                Err(_) => return,
            };
        let had_entries = !entries.is_empty();
        if !had_entries && !send_if_empty {
            self.log.reuse_entries(entries);
            return;
        }
        let last_sent = entries.last().map_or(prev_index, |e| e.index);
        let commit = self.log.committed();
        self.send(
            to,
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            },
        );
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.sent(last_sent, had_entries, bytes);
            pr.commit_sent = pr.commit_sent.max(commit);
        }
    }

    /// Tells the leader whether sending a snapshot to `id` succeeded, when
    /// the transport knows (large snapshots are streamed). On failure the
    /// leader probes again and resends later.
    pub fn report_snapshot(&mut self, id: NodeId, success: bool) {
        if self.role != Role::Leader {
            return;
        }
        if let Some(pr) = self.progress.get_mut(&id)
            && pr.state == ProgressState::Snapshot
        {
            if !success {
                pr.pending_snapshot = 0;
            }
            pr.become_probe();
            self.snapshot_sends.remove(&id);
        }
    }

    /// The follower side of an append (Raft Figure 2).
    pub(crate) fn on_append(
        &mut self,
        from: NodeId,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Result<(), Error> {
        if self.membership.voters.is_empty()
            && prev_index == 0
            && entries
                .first()
                .is_some_and(|e| !matches!(e.payload, crate::types::Payload::ConfChange(_)))
        {
            // Joining with an empty configuration: replaying a log that does
            // not start with the configuration would make us guess who
            // votes (and believe we were alone).
            return Err(Error::ConfigurationUnknown(
                "the log does not begin with the configuration and no snapshot was sent",
            ));
        }
        let committed = self.log.committed();
        if prev_index < committed {
            // Everything up to our commit index already matches; tell the
            // leader so it resends from there.
            let result = AppendResult::Accepted {
                match_index: committed,
            };
            self.send(from, MessageBody::AppendResponse(result));
            return Ok(());
        }
        if self.mutated(Mutated::SkipConsistencyCheck)
            && entries.first().is_some_and(|e| e.index > committed)
        {
            // Broken on purpose: take the entries whatever precedes them.
            let last = self.log.append(entries);
            self.log.commit_to(commit.min(last));
            let result = AppendResult::Accepted { match_index: last };
            self.send(from, MessageBody::AppendResponse(result));
            return Ok(());
        }
        let result = match self
            .log
            .maybe_append(prev_index, prev_term, commit, entries)?
        {
            AppendOutcome::Accepted { last_index } => AppendResult::Accepted {
                match_index: last_index,
            },
            AppendOutcome::Mismatch => {
                let probe_from = prev_index.min(self.log.last_index()?);
                let (hint_index, hint_term) = self.log.find_conflict_by_term(probe_from, prev_term);
                AppendResult::Rejected {
                    rejected_index: prev_index,
                    hint_index,
                    hint_term,
                }
            }
            AppendOutcome::Malformed => {
                return Err(Error::Malformed("append entries out of order"));
            }
            AppendOutcome::WouldOverwriteCommitted { .. } => {
                return Err(Error::Malformed("append would overwrite committed entries"));
            }
        };
        self.send(from, MessageBody::AppendResponse(result));
        Ok(())
    }

    pub(crate) fn on_heartbeat(
        &mut self,
        from: NodeId,
        commit: Index,
        read_round: u64,
        sent_at_tick: u64,
    ) {
        // The leader caps `commit` at our match index, so it is in our log
        // and matches the leader's.
        self.log.commit_to(commit);
        let body = MessageBody::HeartbeatResponse {
            read_round,
            sent_at_tick,
        };
        self.send(from, body);
    }

    pub(crate) fn on_append_response(
        &mut self,
        from: NodeId,
        result: AppendResult,
    ) -> Result<(), Error> {
        if self.role != Role::Leader {
            return Ok(());
        }
        let last = self.log.last_index()?;
        let Some(pr) = self.progress.get_mut(&from) else {
            return Ok(());
        };
        pr.recent_active = true;
        match result {
            AppendResult::Accepted { match_index } => {
                if match_index > last {
                    return Err(Error::Malformed("match index past the leader's log"));
                }
                let snapshot_landed =
                    pr.state == ProgressState::Snapshot && match_index >= pr.pending_snapshot;
                if pr.maybe_update(match_index) || snapshot_landed {
                    if pr.state == ProgressState::Probe || snapshot_landed {
                        pr.become_replicate();
                    }
                    if snapshot_landed {
                        self.snapshot_sends.remove(&from);
                    }
                    if self.transferee == Some(from) {
                        self.maybe_send_timeout_now(from);
                    }
                    // Only an acknowledgement past the commit index can
                    // form a new quorum above it.
                    if match_index > self.log.committed() {
                        self.maybe_commit();
                    }
                }
                // The rest of the log and any new commit index go out with
                // everything else at the next `ready`.
                self.broadcast_append();
            }
            AppendResult::Rejected {
                rejected_index,
                hint_index,
                hint_term,
            } => {
                // We never send an append after our last index; a refusal
                // of one is forged or from another life of this node.
                if rejected_index > last {
                    return Err(Error::Malformed(
                        "refusal of an append past the leader's log",
                    ));
                }
                // Skip the follower's whole conflicting term at once: probe
                // from the last index where our term is at or below its.
                let next_probe = if hint_term > 0 {
                    self.log.find_conflict_by_term(hint_index, hint_term).0
                } else {
                    hint_index
                };
                let Some(pr) = self.progress.get_mut(&from) else {
                    return Ok(());
                };
                if pr.maybe_decrease(rejected_index, next_probe) {
                    self.send_append(from, true);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn on_heartbeat_response(
        &mut self,
        from: NodeId,
        read_round: u64,
        sent_at_tick: u64,
    ) -> Result<(), Error> {
        if self.role != Role::Leader {
            return Ok(());
        }
        self.ack_read_round(from, read_round);
        let last = self.log.last_index()?;
        let now = self.now_ticks;
        let Some(pr) = self.progress.get_mut(&from) else {
            return Ok(());
        };
        pr.recent_active = true;
        // The lease runs from when the acknowledged heartbeat was sent; a
        // date from the future is forged or garbled: trust at most now.
        let sent = sent_at_tick.min(now);
        if pr.heartbeat_acked_at.is_none_or(|t| t < sent) {
            pr.heartbeat_acked_at = Some(sent);
        }
        // A snapshot not acknowledged within an election timeout of
        // heartbeats is presumed lost (the transport may not report it):
        // probe again, which sends it again.
        let mut stalled = None;
        if pr.state == ProgressState::Snapshot {
            pr.snapshot_wait = pr.snapshot_wait.saturating_add(1);
            if pr.snapshot_wait >= self.config.election_timeout_ticks {
                pr.pending_snapshot = 0;
                pr.become_probe();
                self.snapshot_sends.remove(&from);
            } else {
                stalled = Some(pr.snapshot_wait);
            }
        }
        // Lost appends must not stall the follower: resume probing, and in
        // replicate free one slot of a full window (the oldest append is
        // most likely lost) so one more append goes out.
        pr.probe_sent = false;
        if pr.is_paused(
            self.config.max_inflight_msgs,
            self.config.max_inflight_bytes,
        ) {
            pr.free_oldest();
        }
        if pr.match_index < last {
            self.send_append(from, true);
        }
        if let Some(rounds) = stalled {
            self.snapshot_stalled(from, rounds);
        }
        Ok(())
    }

    /// The transport could not reach `id`: stop streaming to it and probe
    /// again (what was in flight is presumed lost).
    pub fn report_unreachable(&mut self, id: NodeId) {
        if self.role != Role::Leader || id == self.id() {
            return;
        }
        if let Some(pr) = self.progress.get_mut(&id)
            && pr.state == ProgressState::Replicate
        {
            pr.become_probe();
        }
    }

    /// Raises the commit index to what a majority of voters hold, if that
    /// entry is of this term (Raft §5.4.2). Returns whether it moved.
    pub(crate) fn maybe_commit(&mut self) -> bool {
        let progress = &self.progress;
        let index =
            self.committed_index_everywhere(|id| progress.get(&id).map_or(0, |pr| pr.match_index));
        let mut term = self.term;
        if self.mutated(Mutated::CommitPreviousTermByCounting) {
            term = self.log.term(index).unwrap_or(term);
        }
        let moved = self.log.maybe_commit(index, term);
        if moved {
            self.release_waiting_reads();
        }
        moved
    }

    /// The leader persisted its own entries up to `index`.
    pub(crate) fn on_self_persisted(&mut self, index: Index) {
        if self.role != Role::Leader {
            return;
        }
        let me = self.id();
        let updated = self
            .progress
            .get_mut(&me)
            .is_some_and(|pr| pr.maybe_update(index));
        if updated && self.maybe_commit() {
            self.broadcast_append();
        }
    }
}
