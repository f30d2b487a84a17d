//! The configurations a candidate's or leader's log passes through after
//! the applied one, and quorums counted in all of them at once.
//!
//! A node switches configuration when it hands out a committed change. A
//! node that holds changes it has not applied (it lost its commit index in
//! a crash, or never heard that they committed) would otherwise count only
//! the old voters, while other nodes already count the new ones; a quorum
//! of the old voters need not meet a quorum of the new. So a candidate
//! must win every configuration its log leads through, and a leader
//! commits, confirms reads and holds its lease only with a quorum of each,
//! until it has applied them all (bank seed 326287642201035: a removed
//! node's vote made a leader of a node that lacked entry 43).

use crate::membership::{Membership, VoteResult};
use crate::node::RaftNode;
use crate::storage::Storage;
use crate::types::{Index, NodeId, Payload};
use synod_protocol::StorageError;

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// The configuration after each membership change in the log past the
    /// applied ones, in log order (empty when there are none). A change
    /// that would be refused when applied is skipped here too, as it will
    /// be on every node.
    pub(crate) fn memberships_in_log(&self) -> Result<Vec<Membership>, StorageError> {
        let last = self.log.last_index()?;
        let Some(mut next) = self.applying.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<Membership> = Vec::new();
        while next <= last {
            // In pieces: elections are rare, but the tail after a lost
            // commit index may be long.
            let chunk = self
                .log
                .slice(next, last + 1, self.config.max_size_per_msg_bytes)?;
            let Some(end) = chunk.last().map(|e| e.index) else {
                break;
            };
            for e in &chunk {
                if let Payload::ConfChange(cc) = &e.payload
                    && let Ok(after) = found.last().unwrap_or(&self.membership).apply(cc)
                {
                    found.push(after);
                }
            }
            next = end + 1;
        }
        Ok(found)
    }

    /// The applied configuration has moved on (a change was handed out):
    /// the configurations in the log up to it are no longer pending.
    pub(crate) fn forget_applied_log_configs(&mut self) {
        if let Some(at) = (self.log_memberships.iter()).position(|m| *m == self.membership) {
            self.log_memberships.drain(..=at);
        }
    }

    /// Whether `id` is a member of a configuration pending in the log.
    pub(crate) fn in_log_configs(&self, id: NodeId) -> bool {
        self.log_memberships.iter().any(|m| m.is_member(id))
    }

    /// Every member of the applied configuration and of those pending in
    /// the log, sorted.
    pub(crate) fn all_members(&self) -> Vec<NodeId> {
        self.union_over(Membership::all)
    }

    /// Every voter of the applied configuration and of those pending in
    /// the log, sorted.
    pub(crate) fn all_voters_everywhere(&self) -> Vec<NodeId> {
        self.union_over(Membership::all_voters)
    }

    /// The union of `ids` over the applied configuration and those pending
    /// in the log, sorted.
    fn union_over(&self, ids: impl Fn(&Membership) -> Vec<NodeId>) -> Vec<NodeId> {
        let mut all = ids(&self.membership);
        for m in &self.log_memberships {
            all.extend(ids(m));
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The election's outcome: won only when won in every configuration.
    pub(crate) fn vote_result_everywhere(&self) -> VoteResult {
        let applied = self.membership.vote_result(&self.votes);
        (self.log_memberships.iter()).fold(applied, |r, m| r.both(m.vote_result(&self.votes)))
    }

    /// Whether the nodes for which `yes` holds form a quorum of every
    /// configuration.
    pub(crate) fn has_quorum_everywhere(&self, yes: impl Fn(NodeId) -> bool) -> bool {
        self.membership.has_quorum(&yes) && self.log_memberships.iter().all(|m| m.has_quorum(&yes))
    }

    /// The highest index a quorum of every configuration holds.
    pub(crate) fn committed_index_everywhere(&self, match_of: impl Fn(NodeId) -> Index) -> Index {
        let applied = self.membership.committed_index(&match_of);
        (self.log_memberships.iter()).fold(applied, |i, m| i.min(m.committed_index(&match_of)))
    }
}
