//! Linearizable reads (Raft §6.4): ReadIndex, confirmed by a round of
//! heartbeats, and lease reads, which trust the voters' leader stickiness
//! for as long as the lease rule in `docs/raft.md` allows.

use std::collections::{BTreeSet, VecDeque};

use crate::config::ReadMode;
use crate::error::{DropReason, Error};
use crate::message::MessageBody;
use crate::node::{Mutated, RaftNode, Role};
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
    /// The last id this node handed out. Ids start at a random point (from
    /// the node's RNG) so that a restarted node does not reissue the ids of
    /// reads whose answers may still be on the way.
    pub(crate) last_id: ReadId,
    /// Requester: reads forwarded to the leader and not yet answered, with
    /// the commit index known when each was issued (an answer below it is
    /// stale). Oldest first.
    pub(crate) forwarded: VecDeque<(ReadId, Index)>,
    /// Leader: reads in arrival order, awaiting confirmation.
    pub(crate) pending: VecDeque<PendingRead>,
    /// Leader: reads that arrived before it committed an entry of its term.
    pub(crate) waiting_commit: Vec<(NodeId, ReadId)>,
    /// Reads ready for the application.
    pub(crate) ready: Vec<ReadState>,
}

impl Reads {
    /// Bookkeeping whose first id follows `last_id`.
    pub(crate) fn starting_at(last_id: ReadId) -> Self {
        Self {
            last_id,
            ..Self::default()
        }
    }

    /// Forgets what a former leader held, and reads forwarded to a former
    /// leader (their requesters time out).
    pub(crate) fn clear_leader_state(&mut self) {
        self.pending.clear();
        self.waiting_commit.clear();
        self.forwarded.clear();
    }

    fn next_id(&mut self) -> ReadId {
        self.last_id = self.last_id.wrapping_add(1);
        self.last_id
    }
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Starts a linearizable read and returns its id; a [`ReadState`] with
    /// that id comes out of a later `Ready` once it is safe. On a follower
    /// the read is forwarded to the leader.
    ///
    /// Ids are unique per node across restarts as long as each start gets a
    /// generator that does not replay an earlier start's stream (seed it
    /// afresh, or from the restart count); an answer is also never below
    /// the commit index this node knew when it issued the read.
    ///
    /// # Errors
    /// [`Error::ProposalDropped`] with [`DropReason::NotLeader`] when no
    /// leader is known, or [`DropReason::TooManyReads`] on a leader with
    /// `max_pending_reads` reads waiting.
    pub fn read_index(&mut self) -> Result<ReadId, Error> {
        let leader = match self.role {
            Role::Leader => self.id(),
            _ => self
                .leader
                .ok_or(Error::ProposalDropped(DropReason::NotLeader {
                    leader: None,
                }))?,
        };
        let limit = self.config.max_pending_reads;
        if leader == self.id() {
            if self.leader_reads_waiting() >= limit {
                return Err(Error::ProposalDropped(DropReason::TooManyReads { limit }));
            }
            let id = self.reads.next_id();
            self.leader_read(leader, id);
            return Ok(id);
        }
        let id = self.reads.next_id();
        if self.reads.forwarded.len() >= limit {
            self.reads.forwarded.pop_front();
        }
        let floor = self.log.committed();
        self.reads.forwarded.push_back((id, floor));
        self.send(leader, MessageBody::ReadIndex { id });
        Ok(id)
    }

    fn leader_reads_waiting(&self) -> usize {
        self.reads.pending.len() + self.reads.waiting_commit.len()
    }

    pub(crate) fn on_read_index(&mut self, from: NodeId, id: ReadId) {
        if self.role == Role::Leader && self.leader_reads_waiting() < self.config.max_pending_reads
        {
            self.leader_read(from, id);
        }
    }

    /// The leader's answer to a forwarded read: accepted once, for a read
    /// this node issued, from its current leader, and never below the
    /// commit index known when the read was issued.
    pub(crate) fn on_read_index_response(&mut self, from: NodeId, id: ReadId, index: Index) {
        if self.leader != Some(from) {
            return;
        }
        let Some(at) = self.reads.forwarded.iter().position(|&(i, _)| i == id) else {
            return;
        };
        let (_, floor) = self
            .reads
            .forwarded
            .remove(at)
            .expect("position is in range");
        if index >= floor || self.mutated(Mutated::ReusedReadIds) {
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
        if alone || self.holds_lease() {
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

    /// Whether a lease read may be answered now (Raft thesis §6.4.1): a
    /// quorum acknowledged heartbeats this leader sent at tick `t` or later,
    /// and `now < t + election_timeout - margin`. Every voter of that
    /// quorum refuses votes for an election timeout after it received such
    /// a heartbeat, and any new leader needs one of them, so none can have
    /// been elected yet, unless clocks drift by more than the margin. Void
    /// once this leader handed over (`TimeoutNow` skips the stickiness).
    fn holds_lease(&self) -> bool {
        if self.config.read_mode != ReadMode::Lease || self.handed_over {
            return false;
        }
        if self.mutated(Mutated::LeaseUntilStepDown) {
            return true;
        }
        let (me, now) = (self.id(), self.now_ticks);
        let progress = &self.progress;
        // One past the tick each voter vouches for; 0 for none.
        let acked = |id: NodeId| {
            if id == me {
                return now.saturating_add(1);
            }
            progress
                .get(&id)
                .and_then(|pr| pr.heartbeat_acked_at)
                .map_or(0, |t| t.saturating_add(1))
        };
        let quorum = self.committed_index_everywhere(acked);
        if quorum == 0 {
            return false;
        }
        let lease_ticks =
            u64::from(self.config.election_timeout_ticks - self.config.lease_drift_margin_ticks);
        let sent = quorum - 1;
        now < sent.saturating_add(lease_ticks)
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
    /// of that round or earlier.
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
        self.answer_confirmed_reads();
    }

    /// Answers, in order, the pending reads whose acknowledgements form a
    /// quorum of the current configuration. Called on every acknowledgement
    /// and when the configuration changes (a smaller quorum may already be
    /// there).
    pub(crate) fn answer_confirmed_reads(&mut self) {
        while let Some(front) = self.reads.pending.front() {
            if !self.has_quorum_everywhere(|id| front.acks.contains(&id)) {
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
