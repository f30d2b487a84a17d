//! Membership changes on the node: proposing them, and switching
//! configuration when one is committed (Raft §6; single-server changes,
//! Raft thesis §4).

use crate::error::{DropReason, Error};
use crate::membership::Membership;
use crate::node::{RaftNode, Role};
use crate::progress::Progress;
use crate::storage::Storage;
use crate::types::{ConfChange, Index, Payload};

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Proposes a membership change; returns its log index. It takes effect
    /// on each node when that node learns it is committed. A change of at
    /// most one voter applies directly; a larger one enters a joint
    /// configuration that the leader leaves automatically.
    ///
    /// # Errors
    /// [`Error::ProposalDropped`] when not the leader (or transferring);
    /// [`Error::InvalidConfChange`] when it is empty, malformed (node 0, a
    /// node twice, no voters left, demoting a voter), or another change is
    /// still in progress.
    pub fn propose_conf_change(&mut self, cc: ConfChange) -> Result<Index, Error> {
        if self.role != Role::Leader {
            return Err(Error::ProposalDropped(DropReason::NotLeader {
                leader: self.leader,
            }));
        }
        if let Some(to) = self.transferee {
            return Err(Error::ProposalDropped(DropReason::Transferring { to }));
        }
        if cc.changes.is_empty() {
            return Err(Error::InvalidConfChange("no changes"));
        }
        if self.pending_conf_index > self.applying {
            return Err(Error::InvalidConfChange("another change is in progress"));
        }
        let next = self.membership.apply(&cc)?;
        let joiners = next
            .all()
            .into_iter()
            .any(|id| !self.membership.is_member(id));
        if joiners && !self.joiners_can_learn_configuration() {
            return Err(Error::InvalidConfChange(
                "a new node could not learn the configuration: it is neither in the log \
                 (start clusters with MemStorage::bootstrap) nor in a snapshot (create one first)",
            ));
        }
        let index = self.append_entry(Payload::ConfChange(cc))?;
        self.pending_conf_index = index;
        self.broadcast_append();
        Ok(index)
    }

    /// A committed membership change is being handed out: switch to it. A
    /// change that is invalid by now is skipped, identically on every node.
    pub(crate) fn apply_committed_conf_change(&mut self, cc: &ConfChange) {
        if let Ok(next) = self.membership.apply(cc) {
            self.switch_membership(next);
        }
    }

    fn switch_membership(&mut self, next: Membership) {
        self.set_membership(next);
        if self.role != Role::Leader {
            return;
        }
        let me = self.id();
        let last = self.log.last_index().unwrap_or(0);
        let all = self.all_members();
        self.progress.retain(|id, _| all.binary_search(id).is_ok());
        for id in all {
            self.progress
                .entry(id)
                .or_insert_with(|| Progress::new(last + 1));
        }
        if self
            .transferee
            .is_some_and(|t| !self.membership.is_voter(t))
        {
            self.transferee = None;
        }
        // The quorum changed: entries may commit now, and reads may be
        // confirmed by the acknowledgements already in.
        self.maybe_commit();
        self.answer_confirmed_reads();
        self.broadcast_append();
        if !self.membership.is_voter(me) {
            self.hand_over_after_removal();
        }
    }

    /// As a leader that has applied its own removal (Raft §6): hands
    /// leadership to the voter with the most of the log among those that
    /// answer heartbeats, and leads (taking
    /// no proposals) until that voter's election ends its term.
    ///
    /// Stepping down at once is not enough. The voters that have not yet
    /// heard that the change committed still use the old configuration,
    /// which counts this node; and this node's log is the longest, so it
    /// refuses their votes while, removed, it never campaigns itself. The
    /// simulator found clusters left with no electable node that way
    /// (liveness seed 7100001394). The target campaigns at once with a log
    /// as long as this one, so every voter can grant it, whichever of the
    /// two configurations it uses. A hand-over not done within an election
    /// timeout is tried again (`tick_leader`); check-quorum still steps a
    /// cut-off leader down.
    pub(crate) fn hand_over_after_removal(&mut self) {
        let progress = &self.progress;
        let now = self.now_ticks;
        let window = u64::from(self.config.election_timeout_ticks);
        let target = self
            .membership
            .all_voters()
            .into_iter()
            .filter_map(|id| {
                let pr = progress.get(&id)?;
                // A voter that answered a heartbeat within an election
                // timeout first: a retry must not pick a dead one again.
                let answering = pr
                    .heartbeat_acked_at
                    .is_some_and(|sent| now.saturating_sub(sent) <= window);
                Some(((answering, pr.match_index, std::cmp::Reverse(id)), id))
            })
            // Then the most of the log; then the lowest id.
            .max_by_key(|&(key, _)| key)
            .map(|(_, id)| id);
        let Some(target) = target else {
            let term = self.term;
            self.become_follower(term, None);
            return;
        };
        self.transferee = Some(target);
        self.election_elapsed = 0;
        self.maybe_send_timeout_now(target);
    }

    /// Whether a node that starts with an empty configuration can learn the
    /// full one: from a snapshot (one exists, or the log is compacted so one
    /// must), or by replaying a log whose first entry is the configuration
    /// (a bootstrapped cluster). A configuration given only to storage at
    /// start (`MemStorage::with_voters`) is in neither.
    pub(crate) fn joiners_can_learn_configuration(&self) -> bool {
        self.log.first_index().is_ok_and(|first| first > 1)
            || self.log_begins_with_configuration()
            || self.has_snapshot()
    }

    /// Whether entry 1 is a membership change: replaying the log from the
    /// start then yields the configuration.
    pub(crate) fn log_begins_with_configuration(&self) -> bool {
        self.log.slice(1, 2, 0).is_ok_and(|first| {
            first
                .first()
                .is_some_and(|e| matches!(e.payload, Payload::ConfChange(_)))
        })
    }

    pub(crate) fn has_snapshot(&self) -> bool {
        self.log
            .snapshot_meta(0)
            .is_ok_and(|(meta, _)| meta.index != 0)
    }

    /// As leader in a joint configuration with no change pending, proposes
    /// leaving it (Raft §6: C_new follows once C_old,new is committed).
    pub(crate) fn maybe_auto_leave(&mut self) {
        if self.role != Role::Leader
            || !self.membership.is_joint()
            || self.pending_conf_index > self.applying
        {
            return;
        }
        if let Ok(index) = self.append_entry(Payload::ConfChange(ConfChange::default())) {
            self.pending_conf_index = index;
            self.broadcast_append();
        }
    }
}
