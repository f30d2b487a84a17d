//! Elections: timeouts, pre-vote, votes and becoming leader (Raft §5.2,
//! §5.4.1; pre-vote and check-quorum from the Raft thesis §9.6, §6.2).

use crate::error::{DropReason, Error};
use crate::membership::VoteResult;
use crate::message::MessageBody;
use crate::node::Mutated;
use crate::node::{RaftNode, Role};
use crate::progress::Progress;
use crate::storage::Storage;
use crate::types::{Index, NodeId, Payload, Term};

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    pub(crate) fn tick_election(&mut self) {
        // Saturating: a learner that never hears a leader ticks forever.
        self.election_elapsed = self.election_elapsed.saturating_add(1);
        if self.election_elapsed >= self.config.election_timeout_ticks {
            self.fresh_start = false;
        }
        if self.election_elapsed >= self.randomized_election_timeout && self.is_voter(self.id()) {
            self.start_election(self.config.pre_vote, false);
        }
    }

    pub(crate) fn tick_leader(&mut self) {
        self.election_elapsed = self.election_elapsed.saturating_add(1);
        self.heartbeat_elapsed = self.heartbeat_elapsed.saturating_add(1);
        if self.election_elapsed >= self.config.election_timeout_ticks {
            self.election_elapsed = 0;
            // A transfer not done within an election timeout is abandoned
            // (the target fell behind or is gone); proposals resume.
            self.transferee = None;
            if self.config.check_quorum && !self.quorum_recently_active() {
                // Raft thesis §6.2: a leader that cannot reach a quorum
                // steps down rather than serve stale reads.
                let term = self.term;
                self.become_follower(term, None);
                return;
            }
            if !self.is_voter(self.id()) {
                // Removed, and the hand-over did not finish: try again.
                self.hand_over_after_removal();
            }
        }
        if self.heartbeat_elapsed >= self.config.heartbeat_ticks {
            self.heartbeat_elapsed = 0;
            self.broadcast_heartbeat();
        }
    }

    /// Counts voters heard from since the last round (itself included) and
    /// starts a new round.
    fn quorum_recently_active(&mut self) -> bool {
        let me = self.id();
        let progress = &self.progress;
        let active = self.has_quorum_everywhere(|id| {
            id == me || progress.get(&id).is_some_and(|pr| pr.recent_active)
        });
        for pr in self.progress.values_mut() {
            pr.recent_active = false;
        }
        active
    }

    /// Begins a pre-vote round (no state changes) or an election (a new
    /// term, voting for itself); `transfer` when the leader handed over.
    pub(crate) fn start_election(&mut self, pre_vote: bool, transfer: bool) {
        let me = self.id();
        // Messages at u64::MAX are refused, so this holds unless storage
        // started us there (also refused); never campaign past the top.
        let Some(campaign_term) = self.term.checked_add(1).filter(|&t| t < Term::MAX) else {
            return;
        };
        // Read before anything changes: a candidate that cannot read the
        // changes in its log does not campaign (counting the applied
        // voters alone is what the log's configuration guards against).
        let Ok(log_memberships) = self.memberships_in_log() else {
            return;
        };
        self.fresh_start = false;
        if pre_vote {
            self.role = Role::PreCandidate;
            self.leader = None;
            self.votes.clear();
            self.reset_timers();
        } else {
            self.become_follower(campaign_term, None);
            self.role = Role::Candidate;
            self.vote = Some(me);
        }
        self.log_memberships = log_memberships;
        self.refresh_peer_ids();
        self.votes.insert(me, true);
        if self.tally() {
            return;
        }
        let last_index = self.log.last_index().unwrap_or(0);
        let last_term = self.log.last_term().unwrap_or(0);
        for to in self.all_voters_everywhere() {
            if to == me {
                continue;
            }
            let body = MessageBody::VoteRequest {
                pre_vote,
                last_index,
                last_term,
                transfer,
            };
            self.send_with_term(to, campaign_term, body);
        }
    }

    /// A vote request (real or pre-vote) from `from` for `term`.
    pub(crate) fn on_vote_request(
        &mut self,
        from: NodeId,
        term: Term,
        pre_vote: bool,
        last_index: Index,
        last_term: Term,
    ) -> Result<(), Error> {
        // Raft §5.2: one vote per term, first come first served. A pre-vote
        // for a later term may be granted when no leader has been heard
        // for an election timeout (thesis §9.6). A leader merely known is
        // not enough to refuse: a node that does not see itself as a voter
        // never campaigns, so it never forgets a leader that went away, and
        // may still be a voter the others need (it missed its promotion).
        let leader_silent =
            self.leader.is_none() || self.election_elapsed >= self.config.election_timeout_ticks;
        let can_vote = self.mutated(Mutated::DoubleVote)
            || self.vote == Some(from)
            || (self.vote.is_none() && self.leader.is_none())
            || (pre_vote && term > self.term && leader_silent);
        // Raft §5.4.1: only to a candidate whose log is at least as up to date.
        let granted = can_vote && self.log.is_up_to_date(last_index, last_term)?;
        if granted && !pre_vote {
            self.vote = Some(from);
            self.election_elapsed = 0;
        }
        // A granted pre-vote answers in the candidate's future term.
        let reply_term = if granted && pre_vote { term } else { self.term };
        self.send_with_term(
            from,
            reply_term,
            MessageBody::VoteResponse { pre_vote, granted },
        );
        Ok(())
    }

    pub(crate) fn on_vote_response(&mut self, from: NodeId, pre_vote: bool, granted: bool) {
        let expected = if pre_vote {
            Role::PreCandidate
        } else {
            Role::Candidate
        };
        let log_voter = self.log_memberships.iter().any(|m| m.is_voter(from));
        if self.role != expected || !(self.is_voter(from) || log_voter) {
            return;
        }
        self.votes.entry(from).or_insert(granted);
        self.tally();
    }

    /// Acts on the votes so far; returns whether the election is decided.
    fn tally(&mut self) -> bool {
        match self.vote_result_everywhere() {
            VoteResult::Won => {
                match self.role {
                    Role::PreCandidate => self.start_election(false, false),
                    Role::Candidate => self.become_leader(),
                    _ => {}
                }
                true
            }
            VoteResult::Lost => {
                let term = self.term;
                self.become_follower(term, None);
                true
            }
            VoteResult::Pending => false,
        }
    }

    /// The leader handed over: campaign at once, skipping pre-vote (Raft
    /// thesis §3.10).
    pub(crate) fn on_timeout_now(&mut self, from: NodeId) {
        if self.role != Role::Leader && self.is_voter(self.id()) && self.leader == Some(from) {
            self.start_election(false, true);
        }
    }

    /// Hands leadership to `to` (Raft thesis §3.10): stop taking proposals,
    /// bring `to` up to date, then tell it to campaign at once. Abandoned
    /// if not done within an election timeout. `to` = this node cancels a
    /// pending transfer, as in etcd (see also
    /// [`RaftNode::cancel_transfer_leader`]).
    ///
    /// # Errors
    /// [`Error::ProposalDropped`] with [`DropReason::NotLeader`] when not
    /// the leader; [`Error::UnknownPeer`] when `to` is not a voter.
    pub fn transfer_leader(&mut self, to: NodeId) -> Result<(), Error> {
        if self.role != Role::Leader {
            return Err(Error::ProposalDropped(DropReason::NotLeader {
                leader: self.leader,
            }));
        }
        if to == self.id() {
            // As in etcd: a transfer to the leader itself cancels one.
            self.cancel_transfer_leader();
            return Ok(());
        }
        if self.transferee == Some(to) {
            return Ok(());
        }
        if !self.is_voter(to) {
            return Err(Error::UnknownPeer(to));
        }
        self.transferee = Some(to);
        // The transfer gets one election timeout.
        self.election_elapsed = 0;
        self.maybe_send_timeout_now(to);
        Ok(())
    }

    /// Cancels a pending leadership transfer, if any: proposals are taken
    /// again at once. A `TimeoutNow` already sent cannot be recalled; the
    /// target may still win an election (and this leader's lease stays
    /// void for the term).
    pub fn cancel_transfer_leader(&mut self) {
        self.transferee = None;
    }

    /// Sends `TimeoutNow` to the transferee once it has the whole log,
    /// else sends it what it lacks.
    pub(crate) fn maybe_send_timeout_now(&mut self, to: NodeId) {
        let last = self.log.last_index().unwrap_or(0);
        let caught_up = self
            .progress
            .get(&to)
            .is_some_and(|pr| pr.match_index == last);
        if caught_up {
            // The target campaigns past the voters' leader stickiness, so
            // the lease no longer protects reads in this term.
            self.handed_over = true;
            self.send(to, MessageBody::TimeoutNow);
        } else {
            self.send_append(to, true);
        }
    }

    fn become_leader(&mut self) {
        let me = self.id();
        self.role = Role::Leader;
        self.leader = Some(me);
        self.uncommitted_bytes = 0;
        self.transferee = None;
        self.handed_over = false;
        self.reads.clear_leader_state();
        self.votes.clear();
        self.snapshot_sends.clear();
        // A leader receives no snapshot: free any half-received one.
        self.snapshot_incoming = None;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        let last = self.log.last_index().unwrap_or(0);
        let persisted = self.log.persisted_last_index();
        self.progress = self
            .all_members()
            .into_iter()
            .map(|id| (id, Progress::new(last + 1)))
            .collect();
        if let Some(own) = self.progress.get_mut(&me) {
            own.maybe_update(persisted.min(last));
            own.become_replicate();
        }
        // Changes in the log may not be committed yet: allow a new one only
        // after everything up to here is handed out.
        self.pending_conf_index = last;
        // Raft §5.4.2 and §8: commit an entry of the new term so entries of
        // earlier terms commit with it.
        if self.append_entry(Payload::Noop).is_ok() {
            self.broadcast_append();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::{Config, MemStorage, RaftNode, Role};

    // Issue 9, defect 6: a learner that never hears a leader ticks past
    // 2^32 without overflowing its election counter.
    #[test]
    fn tick_counters_saturate() {
        let storage = MemStorage::with_voters(&[1, 2]);
        let config = Config::new(3);
        let mut n = RaftNode::new(config, storage, StdRng::seed_from_u64(3)).unwrap();
        n.election_elapsed = u32::MAX - 1;
        n.now_ticks = u64::MAX - 1;
        for _ in 0..4 {
            n.tick();
        }
        assert_eq!(n.election_elapsed, u32::MAX);
        assert_eq!(n.now_ticks, u64::MAX);
        assert_eq!(n.role(), Role::Follower, "a non-voter never campaigns");
        let mut leader = RaftNode::new(
            Config::new(1),
            MemStorage::with_voters(&[1]),
            StdRng::seed_from_u64(1),
        )
        .unwrap();
        leader.campaign();
        assert_eq!(leader.role(), Role::Leader);
        leader.election_elapsed = u32::MAX - 1;
        leader.heartbeat_elapsed = u32::MAX - 1;
        leader.tick();
        leader.tick();
        assert_eq!(leader.role(), Role::Leader);
    }
}
