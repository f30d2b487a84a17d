//! The leader's side: gathering promises and adopting the most advanced
//! accepted log (phase 1), then proposing and pipelining accepts with flow
//! control (phase 2) and deciding.

use bytes::Bytes;
use synod_protocol::{Entry, Index, NodeId, Payload, Storage, StorageError};

use crate::ballot::Ballot;
use crate::error::Error;
use crate::message::Body;
use crate::node::{PaxosNode, Progress, PromiseInfo, Role};

/// Why a proposal was not taken.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// This node does not lead; `leader` is the one it follows, if any.
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader it follows.
        leader: Option<NodeId>,
    },
    /// An empty command (reserved).
    #[error("empty command")]
    Empty,
    /// Over `Config::max_proposal_bytes`.
    #[error("command of {bytes} bytes is over the limit of {limit}")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// `Config::max_uncommitted_entries` undecided entries wait.
    #[error("too many undecided entries")]
    Busy,
    /// Leadership is being handed to `to` (for at most an election
    /// timeout): proposals wait for the next leader.
    #[error("leadership is moving to {to}")]
    Transferring {
        /// The leader-to-be.
        to: NodeId,
    },
    /// A transfer to a node that is not a voter.
    #[error("node {0} is not a voter")]
    NotAVoter(NodeId),
    /// A membership change refused: another is in progress, or it is
    /// invalid against the current members.
    #[error("membership change refused: {0}")]
    Membership(&'static str),
    /// A stop-sign is in the log and not decided yet: the configuration
    /// it ends takes no more commands. Retry once it is decided (with the
    /// next configuration's leader).
    #[error("the configuration is stopping (a stop-sign awaits its decision)")]
    Stopped,
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    pub(crate) fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        info: PromiseInfo,
    ) -> Result<(), Error> {
        if ballot != self.promised || ballot.node() != self.id() {
            return Err(Error::Stale);
        }
        match self.role {
            Role::Candidate => {
                self.promises.insert(from, info);
                let me = self.id();
                if self.is_quorum(self.q1(), |p| p == me || self.promises.contains_key(&p)) {
                    self.become_leader();
                }
                Ok(())
            }
            Role::Leader => {
                // A late promise (or one asked for by a resync): sync it.
                if info.decided > self.last_index() {
                    return Err(Error::Malformed("promise decided past the leader's log"));
                }
                self.sync_acceptor(from, info.decided)
            }
            Role::Follower => Err(Error::Stale),
        }
    }

    /// Phase 1 is complete: adopt the most advanced log among the
    /// promises (it holds every decided entry), open the ballot with an
    /// entry of its own, and sync every acceptor that promised.
    pub(crate) fn become_leader(&mut self) {
        let mut promises = std::mem::take(&mut self.promises);
        let mine = (self.log.last_term().unwrap_or(0), self.last_index());
        let best = promises
            .iter()
            .max_by_key(|(_, p)| (p.last_term, p.last_index))
            .filter(|(_, p)| (p.last_term, p.last_index) > mine)
            .map(|(&id, _)| id);
        #[cfg(feature = "mutations")]
        let best = best.filter(|_| !self.mutated(crate::mutation::Mutation::NoAdoption));
        let reported = promises.values().map(|p| p.decided).max().unwrap_or(0);
        let synced: Vec<(NodeId, Index)> =
            promises.iter().map(|(&id, p)| (id, p.decided)).collect();
        // Moved, not cloned: the suffix can be a long run of the log.
        if let Some(id) = best
            && let Some(p) = promises.get_mut(&id)
        {
            let (their_term, their_last) = (p.last_term, p.last_index);
            if let Some(meta) = p.pieces.take() {
                // Behind that log's large snapshot: fetch it first.
                self.promises = promises;
                self.leader_since = self.now;
                let holds_its_end = self.log.term(meta.index) == Ok(meta.term);
                if holds_its_end || meta.index <= self.decided {
                    if holds_its_end && meta.index > self.decided {
                        self.raise_decided(meta.index);
                    }
                    self.ask_entries(id, meta.index.min(self.last_index()));
                } else {
                    self.fetch_snapshot(id, meta);
                }
                return;
            }
            let suffix = std::mem::take(&mut p.suffix);
            let end = suffix.entries.last().map(|e| (e.index, e.term));
            self.adopt(suffix);
            let mine = (self.log.last_term().unwrap_or(0), self.last_index());
            if mine < (their_term, their_last) {
                // That log is longer than one message: take the rest,
                // one request out at a time, before leading.
                self.promises = promises;
                self.continue_catch_up(id, end);
                return;
            }
        }
        self.catch_up = None;
        let last = self.last_index();
        self.raise_decided(reported.max(self.decided).min(last));
        // The adopted log may hold a membership change: the promises must
        // form a phase-1 quorum of the voters it names.
        let me = self.id();
        if !self.is_voter(me) {
            self.step_down();
            return;
        }
        if !self.is_quorum(self.q1(), |p| p == me || promises.contains_key(&p)) {
            // Wait for more promises (prepares go to the new voters with
            // the next beat); what was adopted stays adopted.
            self.promises = promises;
            return;
        }
        self.role = Role::Leader;
        self.leader = self.promised;
        let index = last + 1;
        self.ballot_start = index;
        self.append_log(vec![Entry {
            term: self.promised.0,
            index,
            payload: Payload::Noop,
        }]);
        for (id, their_decided) in synced {
            // A bad suffix read is retried by the acceptor's resync.
            let _ = self.sync_acceptor(id, their_decided.min(last));
        }
        self.reads.clear();
        self.lease.clear_leader();
        self.failed_campaigns = 0;
        self.transfer = None;
        self.appends_due = true;
    }

    /// Hands leadership to voter `to`: it is asked to campaign at once,
    /// and this leader takes no proposals for an election timeout (nor
    /// renews its lease, so the grants it holds run out). A transfer to
    /// this node itself cancels one.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`], or [`ProposeError::NotAVoter`].
    pub fn transfer_leadership(&mut self, to: NodeId) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            let leader = (self.leader != Ballot::ZERO && self.leader.node() != self.id())
                .then_some(self.leader.node());
            return Err(ProposeError::NotLeader { leader });
        }
        if to == self.id() {
            self.transfer = None;
            return Ok(());
        }
        if self.voters.binary_search(&to).is_err() {
            return Err(ProposeError::NotAVoter(to));
        }
        if self.transfer.is_none_or(|(t, _)| t != to) {
            self.transfer = Some((to, self.now));
        }
        self.send(to, Body::TakeOver);
        Ok(())
    }

    /// The connected, caught-up peer of the highest priority above this
    /// leader's, once this node has led for an election timeout: the
    /// preferred leader it hands over to.
    fn preferred_successor(&self) -> Option<NodeId> {
        let window = u64::from(self.config.election_timeout_ticks);
        if self.now.saturating_sub(self.leader_since) < window {
            return None;
        }
        let last = self.last_index();
        self.peers
            .iter()
            .filter_map(|p| {
                let v = self.views.get(p)?;
                let heard = self
                    .heard
                    .get(p)
                    .is_some_and(|&t| self.now.saturating_sub(t) < window);
                let caught_up = self.progress.get(p).is_some_and(|pr| pr.matched >= last);
                (v.priority > self.config.priority && v.connected && heard && caught_up)
                    .then_some((v.priority, std::cmp::Reverse(*p)))
            })
            .max()
            .map(|(_, std::cmp::Reverse(p))| p)
    }

    /// Takes `suffix` (from the most advanced promise) as this log's
    /// continuation after its decided index.
    fn adopt(&mut self, suffix: crate::message::Suffix) {
        if let Some(snapshot) = suffix.snapshot
            && snapshot.meta.index > self.decided
            && snapshot.meta.index > self.log.snapshot_index()
        {
            self.install(*snapshot);
        }
        let floor = self.log.first_index().unwrap_or(1) - 1;
        let last = self.last_index();
        let entries: Vec<Entry> = suffix
            .entries
            .into_iter()
            .filter(|e| e.index > floor)
            .collect();
        if entries.first().is_some_and(|e| e.index <= last + 1) {
            self.merge_log(entries);
        }
    }

    /// Sends `to` this log after `their_decided` (replacing theirs) and
    /// tracks it as synced.
    fn sync_acceptor(&mut self, to: NodeId, their_decided: Index) -> Result<(), Error> {
        if self.log.compacted_past(their_decided)? && self.send_snapshot_in_pieces(to)? {
            return Ok(());
        }
        // Synced from here on: any transfer to it is over.
        self.transfers.remove(&to);
        // Bounded like any accept; pipelined accepts continue after it.
        let suffix = self
            .log
            .suffix(their_decided, self.config.max_size_per_msg_bytes)?;
        let next = suffix.entries.last().map_or(suffix.after, |e| e.index) + 1;
        self.progress.insert(
            to,
            Progress {
                matched: 0,
                next,
                decided_sent: self.decided,
            },
        );
        let decided = self.decided;
        self.send(to, Body::AcceptSync { suffix, decided });
        Ok(())
    }

    pub(crate) fn on_accepted(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        last_index: Index,
    ) -> Result<(), Error> {
        if self.role != Role::Leader || ballot != self.promised {
            return Err(Error::Stale);
        }
        if last_index > self.last_index() {
            return Err(Error::Malformed("accepted past the leader's log"));
        }
        let Some(pr) = self.progress.get_mut(&from) else {
            return Ok(());
        };
        pr.matched = pr.matched.max(last_index);
        pr.next = pr.next.max(last_index + 1);
        if pr.next <= self.last_index() {
            // Catching up (a sync or accept cut at the message size):
            // the next batch goes with this ready, not the next tick.
            self.appends_due = true;
        }
        // Raising one acceptor's count to at most the decided index cannot
        // raise the quorum's past it: a majority's second answer (the
        // common case) skips the count.
        if last_index > self.decided {
            self.maybe_decide();
        }
        self.advance_membership();
        Ok(())
    }

    pub(crate) fn on_resync(&mut self, from: NodeId, ballot: Ballot) {
        if self.role != Role::Leader || ballot > self.promised {
            return;
        }
        self.prepare(from);
    }

    /// Asks `to` for its promise (it will be synced when it answers).
    pub(crate) fn prepare(&mut self, to: NodeId) {
        self.progress.remove(&to);
        self.transfers.remove(&to);
        let (decided, last_index) = (self.decided, self.last_index());
        let last_term = self.log.last_term().unwrap_or(0);
        self.send(
            to,
            Body::Prepare {
                decided,
                last_term,
                last_index,
            },
        );
    }

    /// Raises the decided index to what a majority holds, if that entry is
    /// of this ballot (entries of earlier ballots are decided with it).
    pub(crate) fn maybe_decide(&mut self) {
        let last = self.last_index();
        let me = self.id();
        let index = self.quorum_value(self.q2(), |v| {
            if v == me {
                self.durable_through.min(last)
            } else {
                self.progress.get(&v).map_or(0, |p| p.matched)
            }
        });
        if index > self.decided
            && index >= self.ballot_start
            && self.log.term(index) == Ok(self.promised.0)
        {
            self.appends_due = true;
            self.raise_decided(index);
        }
    }

    /// Proposes `command` as leader.
    ///
    /// # Errors
    /// Why it was not taken.
    pub fn propose(&mut self, command: Bytes) -> Result<(Index, u64), ProposeError> {
        self.check_can_propose()?;
        if command.is_empty() {
            return Err(ProposeError::Empty);
        }
        if self.stopping {
            return Err(ProposeError::Stopped);
        }
        let bytes = command.len() as u64;
        if bytes > self.config.max_proposal_bytes {
            return Err(ProposeError::TooLarge {
                bytes,
                limit: self.config.max_proposal_bytes,
            });
        }
        let last = self.last_index();
        if last - self.decided >= self.config.max_uncommitted_entries {
            return Err(ProposeError::Busy);
        }
        let index = last + 1;
        // Right after the last entry and not a membership change: nothing
        // of `append_log`'s bookkeeping applies.
        self.log.push(Entry {
            term: self.promised.0,
            index,
            payload: Payload::Command(command),
        });
        self.appends_due = true;
        Ok((index, self.promised.0))
    }

    /// Whether this node takes proposals now: it leads and hands over to
    /// no one.
    pub(crate) fn check_can_propose(&self) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            let leader = (self.leader != Ballot::ZERO && self.leader.node() != self.id())
                .then_some(self.leader.node());
            return Err(ProposeError::NotLeader { leader });
        }
        if let Some((to, _)) = self.transfer {
            return Err(ProposeError::Transferring { to });
        }
        Ok(())
    }

    /// Sends what is due now (this leader was removed: the acceptors must
    /// hear that the change is decided before it leaves).
    pub(crate) fn flush_appends_now(&mut self) -> Result<(), Error> {
        self.appends_due = true;
        self.flush_appends()
    }

    /// The leader's periodic work: heartbeat accepts to synced acceptors
    /// (resending what they have not acknowledged) and prepares to the
    /// rest.
    pub(crate) fn leader_heartbeat(&mut self) {
        // Usually done as acceptances arrive; also here, for a decision
        // that came from this leader's own write.
        self.advance_membership();
        for i in 0..self.peers.len() {
            let p = self.peers[i];
            match self.progress.get_mut(&p) {
                Some(pr) => {
                    // Whatever was not acknowledged is presumed lost.
                    pr.next = pr.matched + 1;
                    pr.decided_sent = 0;
                }
                None if self.transfers.contains_key(&p) => {}
                None => self.prepare(p),
            }
        }
        self.beat_transfers();
        self.reads.new_round();
        let window = u64::from(self.config.election_timeout_ticks);
        if self
            .transfer
            .is_some_and(|(_, since)| self.now.saturating_sub(since) >= window)
        {
            // The transfer did not happen within a timeout: lead on, and
            // try no automatic hand-over for ten timeouts.
            self.transfer = None;
            self.handover_quiet_until = self.now.saturating_add(10 * window);
        }
        if self.transfer.is_none()
            && self.now >= self.handover_quiet_until
            && let Some(to) = self.preferred_successor()
        {
            self.transfer = Some((to, self.now));
        }
        match self.transfer {
            Some((to, _)) => self.send(to, Body::TakeOver),
            None if self.config.lease_reads => self.reads.renew(),
            None => {}
        }
        self.appends_due = true;
    }

    /// Sends each synced acceptor what it lacks (within the in-flight
    /// window), the decided index, and any read round.
    pub(crate) fn flush_appends(&mut self) -> Result<(), Error> {
        if !std::mem::take(&mut self.appends_due) || self.role != Role::Leader {
            return Ok(());
        }
        let last = self.last_index();
        let decided = self.decided;
        let window = self.config.max_inflight_entries;
        // A leader handing over with leases sends no round: acknowledging
        // one would renew the grants its successor waits out.
        let read_seq = if self.transfer.is_some() && self.config.lease_reads {
            None
        } else {
            self.reads.round_to_send()
        };
        if let Some(seq) = read_seq {
            self.lease_round_sent(seq);
        }
        // Synced acceptors are peers; walking the peer list by position
        // spares a copy of the progress keys on every ready.
        for i in 0..self.peers.len() {
            let id = self.peers[i];
            let Some(pr) = self.progress.get(&id).copied() else {
                continue;
            };
            let inflight = pr.next.saturating_sub(pr.matched + 1);
            let mut entries = Vec::new();
            if pr.next <= last && inflight < window {
                match self
                    .log
                    .entries_reusing(pr.next, last, self.config.max_size_per_msg_bytes)
                {
                    Ok(e) => entries = e,
                    Err(StorageError::Compacted { .. }) => {
                        self.sync_acceptor(id, pr.matched)?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if entries.is_empty() && pr.decided_sent >= decided && read_seq.is_none() {
                continue;
            }
            let prev_index = pr.next - 1;
            let sent_through = entries.last().map_or(prev_index, |e| e.index);
            if !entries.is_empty() || pr.decided_sent < decided {
                self.send(
                    id,
                    Body::Accept {
                        prev_index,
                        entries,
                        decided,
                    },
                );
            }
            if let Some(seq) = read_seq {
                self.send(id, Body::Read { seq });
            }
            if let Some(pr) = self.progress.get_mut(&id) {
                pr.next = sent_through + 1;
                pr.decided_sent = decided;
            }
        }
        Ok(())
    }
}
