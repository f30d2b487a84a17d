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
        self.membership.apply(&cc)?;
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
        self.membership = next;
        if self.role != Role::Leader {
            return;
        }
        let me = self.id();
        if !self.membership.is_voter(me) {
            // Removed (Raft §6): step down once the change is committed; the
            // remaining voters elect a leader.
            let term = self.term;
            self.become_follower(term, None);
            return;
        }
        let last = self.log.last_index().unwrap_or(0);
        let all = self.membership.all();
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
        // The quorum changed: entries may commit now.
        self.maybe_commit();
        self.broadcast_append();
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
