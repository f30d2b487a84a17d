//! Linearizable reads (Raft §6.4): ReadIndex, confirmed by a round of
//! heartbeats, and lease reads, which trust check-quorum instead.

use std::collections::{BTreeSet, VecDeque};

use crate::config::ReadMode;
use crate::error::{DropReason, Error};
use crate::message::MessageBody;
use crate::node::{RaftNode, Role};
use crate::storage::Storage;
use crate::types::{Index, NodeId, ReadId, ReadState};

/// A read waiting for a quorum to confirm the leader still leads.
#[derive(Debug, Clone)]
pub(crate) struct PendingRead {
    /// The heartbeat round that confirms it (or any later round).
    round: u64,
    /// The commit index when the read arrived.
    index: Index,
    requester: NodeId,
    id: ReadId,
    /// Voters that answered a heartbeat of round `round` or later.
    acks: BTreeSet<NodeId>,
}

/// The leader's and the requester's read bookkeeping.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reads {
    /// The last id this node handed out.
    pub(crate) last_id: ReadId,
    /// Leader: reads in arrival order, awaiting confirmation.
    pub(crate) pending: VecDeque<PendingRead>,
    /// Leader: reads that arrived before it committed an entry of its term.
    pub(crate) waiting_commit: Vec<(NodeId, ReadId)>,
    /// Reads ready for the application.
    pub(crate) ready: Vec<ReadState>,
}

impl Reads {
    /// Forgets what a former leader held (its requesters time out).
    pub(crate) fn clear_leader_state(&mut self) {
        self.pending.clear();
        self.waiting_commit.clear();
    }
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Starts a linearizable read and returns its id; a [`ReadState`] with
    /// that id comes out of a later `Ready` once it is safe. On a follower
    /// the read is forwarded to the leader.
    ///
    /// # Errors
    /// [`Error::ProposalDropped`] with [`DropReason::NotLeader`] when no
    /// leader is known.
    pub fn read_index(&mut self) -> Result<ReadId, Error> {
        let leader = match self.role {
            Role::Leader => self.id(),
            _ => self
                .leader
                .ok_or(Error::ProposalDropped(DropReason::NotLeader {
                    leader: None,
                }))?,
        };
        self.reads.last_id += 1;
        let id = self.reads.last_id;
        if leader == self.id() {
            self.leader_read(leader, id);
        } else {
            self.send(leader, MessageBody::ReadIndex { id });
        }
        Ok(id)
    }

    pub(crate) fn on_read_index(&mut self, from: NodeId, id: ReadId) {
        if self.role == Role::Leader {
            self.leader_read(from, id);
        }
    }

    pub(crate) fn on_read_index_response(&mut self, from: NodeId, id: ReadId, index: Index) {
        if self.leader == Some(from) && id <= self.reads.last_id {
            self.reads.ready.push(ReadState { id, index });
        }
    }

    /// The leader's handling of a read from `requester` (itself or a
    /// follower).
    fn leader_read(&mut self, requester: NodeId, id: ReadId) {
        // Raft §6.4 step 1: until the leader commits an entry of its term,
        // it may not know the latest commit index.
        if !self.committed_in_current_term() {
            self.reads.waiting_commit.push((requester, id));
            return;
        }
        let index = self.log.committed();
        let alone = self.membership.is_singleton(self.id());
        if alone || self.config.read_mode == ReadMode::Lease {
            self.answer_read(requester, id, index);
            return;
        }
        // Steps 2-3: confirm leadership with a round of heartbeats.
        self.read_round += 1;
        let mut acks = BTreeSet::new();
        acks.insert(self.id());
        self.reads.pending.push_back(PendingRead {
            round: self.read_round,
            index,
            requester,
            id,
            acks,
        });
        self.broadcast_heartbeat();
    }

    fn committed_in_current_term(&self) -> bool {
        self.log
            .term(self.log.committed())
            .is_ok_and(|t| t == self.term)
    }

    fn answer_read(&mut self, requester: NodeId, id: ReadId, index: Index) {
        if requester == self.id() {
            self.reads.ready.push(ReadState { id, index });
        } else {
            self.send(requester, MessageBody::ReadIndexResponse { id, index });
        }
    }

    /// A voter answered a heartbeat of `round`: it acknowledges every read
    /// of that round or earlier. Reads confirmed by a quorum are answered,
    /// in order.
    pub(crate) fn ack_read_round(&mut self, from: NodeId, round: u64) {
        if round == 0 || !self.is_voter(from) {
            return;
        }
        for read in self
            .reads
            .pending
            .iter_mut()
            .take_while(|r| r.round <= round)
        {
            read.acks.insert(from);
        }
        while let Some(front) = self.reads.pending.front() {
            if !self.membership.has_quorum(|id| front.acks.contains(&id)) {
                break;
            }
            let read = self.reads.pending.pop_front().expect("front exists");
            self.answer_read(read.requester, read.id, read.index);
        }
    }

    /// After a commit in this term: serve the reads that waited for it.
    pub(crate) fn release_waiting_reads(&mut self) {
        if self.reads.waiting_commit.is_empty() || !self.committed_in_current_term() {
            return;
        }
        for (requester, id) in std::mem::take(&mut self.reads.waiting_commit) {
            self.leader_read(requester, id);
        }
    }
}
