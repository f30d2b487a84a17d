//! Leader election that requires the candidate to be quorum-connected
//! (the idea of OmniPaxos's ballot leader election): every node beats to
//! every peer; a node hearing a quorum is *connected*; a connected node
//! that has not heard its leader for a (randomized) election timeout takes
//! a ballot above every round it has seen and campaigns. Connected nodes
//! follow the highest leader ballot other connected nodes report, so a
//! leader cut off from a quorum (while still reachable by some) is
//! replaced, and a node that hears nobody never disrupts anyone.
//!
//! Election only decides who *tries* to lead: safety is Paxos's (phase 1
//! with ballots), whatever the beats say.

use synod_protocol::Storage;

use crate::ballot::Ballot;
use crate::message::Body;
use crate::node::{PaxosNode, Role, View};

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// One unit of logical time passes.
    pub fn tick(&mut self) {
        self.now = self.now.saturating_add(1);
        self.heartbeat_elapsed = self.heartbeat_elapsed.saturating_add(1);
        if self.heartbeat_elapsed >= self.config.heartbeat_ticks {
            self.heartbeat_elapsed = 0;
            self.beat();
        }
        self.connected = self.hears_quorum();
        self.follow_highest_connected();
        match self.role {
            Role::Leader => {
                // A leader that hears no quorum for an election timeout
                // gives way (it cannot decide anything).
                if !self.connected && self.now - self.leader_since >= u64::from(self.timeout) {
                    self.step_down();
                }
            }
            Role::Candidate => {
                // Phase 1 that does not complete within an election timeout
                // (promises lost, or refused for a newer ballot) starts
                // over with a higher ballot, if this node is still
                // connected; otherwise it gives way.
                if self.now - self.leader_since >= u64::from(self.timeout) {
                    if self.connected {
                        self.campaign();
                    } else {
                        self.step_down();
                    }
                }
            }
            Role::Follower => {
                let window = u64::from(self.config.election_timeout_ticks);
                let voter = self.is_voter(self.id());
                if let Some(asked) = self.take_over_asked {
                    // The leader handed over: campaign as soon as no lease
                    // this node granted forbids it, within two timeouts.
                    if self.now.saturating_sub(asked) >= 2 * window {
                        self.take_over_asked = None;
                    } else if voter && self.connected {
                        self.campaign();
                        return;
                    }
                }
                // The leader is alive if this node heard it lead, or a
                // connected peer following it did, within the timeout.
                let alive = self.leader != Ballot::ZERO
                    && (self.leader_directly_alive() || self.leader_relayed_alive(window));
                let quiet_since = self.leader_since.max(self.leader_seen_at.unwrap_or(0));
                let quiet = self.now - quiet_since;
                let due = quiet >= u64::from(self.timeout);
                // Priority: give a connected peer of higher priority that
                // also lost the leader one more timeout to campaign first.
                let defer = due
                    && quiet < u64::from(self.timeout) + window
                    && self.higher_priority_peer_waits(window);
                if !alive && self.connected && voter && due && !defer {
                    self.campaign();
                }
            }
        }
    }

    /// A connected peer heard recently, of higher priority than this
    /// node, that has lost the leader too (so it will campaign).
    fn higher_priority_peer_waits(&self, window: u64) -> bool {
        self.views.iter().any(|(p, v)| {
            v.priority > self.config.priority
                && v.connected
                && !v.leader_alive
                && self.is_voter(*p)
                && self
                    .heard
                    .get(p)
                    .is_some_and(|&t| self.now.saturating_sub(t) < window)
        })
    }

    /// Sends every peer this node's view; as leader also the heartbeat
    /// accepts (carrying the decided index) and prepares for peers that
    /// have not promised.
    fn beat(&mut self) {
        // Every node beats, learners too: a receiver counts only the voters
        // of its own log, so a true learner's beats count toward nothing,
        // but a node's log can lag the others' (it missed its promotion to
        // voter) or run ahead of them (it holds an undecided change that
        // removes it). Silent, it would be missing from quorums the other
        // voters still count it in, and with one more node down the
        // cluster could never elect (liveness seed 229706462200169).
        let (leader, connected, priority) = (self.leader, self.connected, self.config.priority);
        let leader_alive = match self.role {
            Role::Leader => connected,
            // A candidate holding a quorum's promises while it takes the
            // most advanced log (a large snapshot can take seconds) counts
            // as alive while that moves: the peers that promised it must
            // not campaign over it, and start again from nothing, every
            // election timeout. A candidate without them, or stalled, does
            // not.
            Role::Candidate => connected && self.catching_up(),
            Role::Follower => self.leader_directly_alive(),
        };
        for i in 0..self.peers.len() {
            let to = self.peers[i];
            self.send(
                to,
                Body::Beat {
                    leader,
                    connected,
                    leader_alive,
                    priority,
                },
            );
        }
        match self.role {
            Role::Leader => self.leader_heartbeat(),
            Role::Candidate => self.resend_prepares(),
            Role::Follower => {}
        }
    }

    /// Heard the leader lead (its own beat, connected) within an election
    /// timeout.
    fn leader_directly_alive(&self) -> bool {
        let window = u64::from(self.config.election_timeout_ticks);
        self.leader_seen_at
            .is_some_and(|t| self.now.saturating_sub(t) < window)
    }

    /// A connected peer heard recently follows the same leader and heard
    /// it lead directly.
    fn leader_relayed_alive(&self, window: u64) -> bool {
        self.views.iter().any(|(p, v)| {
            v.leader == self.leader
                && v.connected
                && v.leader_alive
                && self
                    .heard
                    .get(p)
                    .is_some_and(|&t| self.now.saturating_sub(t) < window)
        })
    }

    /// Heard, within an election timeout, enough voters to make a quorum
    /// with itself (counted whatever its own role: connectivity, not
    /// safety).
    fn hears_quorum(&self) -> bool {
        let window = u64::from(self.config.election_timeout_ticks);
        let me = self.id();
        let heard = |p: synod_protocol::NodeId| {
            self.heard
                .get(&p)
                .is_some_and(|&t| self.now.saturating_sub(t) < window)
        };
        let count = |set: &[synod_protocol::NodeId]| {
            set.iter().filter(|&&p| p != me && heard(p)).count() + 1
        };
        count(&self.voters) >= self.q1().max(self.q2())
            && (self.outgoing.is_empty() || count(&self.outgoing) > self.outgoing.len() / 2)
    }

    /// Follows the highest leader ballot a connected peer heard recently
    /// reports, when it is above this node's.
    fn follow_highest_connected(&mut self) {
        let window = u64::from(self.config.election_timeout_ticks);
        let best = self
            .views
            .iter()
            .filter(|(p, v)| {
                v.connected
                    && self
                        .heard
                        .get(p)
                        .is_some_and(|&t| self.now.saturating_sub(t) < window)
            })
            .map(|(_, v)| v.leader)
            .max();
        if let Some(b) = best
            && b > self.leader
        {
            self.follow(b);
        }
    }

    pub(crate) fn on_beat(&mut self, from: synod_protocol::NodeId, view: View) {
        self.views.insert(from, view);
        match self.role {
            Role::Leader => self.transfer_heard(from),
            Role::Candidate => self.catch_up_heard(from),
            Role::Follower => {}
        }
        let leader = view.leader;
        self.max_round = self.max_round.max(leader.round());
        if view.connected && leader > self.leader {
            self.follow(leader);
        }
        // The leader's own beat, saying it leads (connected): alive. A node
        // that only owns the ballot (a candidate, or restarted) says not.
        if from == self.leader.node()
            && leader == self.leader
            && view.connected
            && view.leader_alive
        {
            self.leader_seen_at = Some(self.now);
            self.failed_campaigns = 0;
        }
    }

    /// The leader asks this node to take over (a transfer).
    pub(crate) fn on_take_over(&mut self, from: synod_protocol::NodeId, ballot: Ballot) {
        if self.role == Role::Follower && ballot == self.leader && ballot.node() == from {
            self.take_over_asked = Some(self.now);
        }
    }

    /// Follows leader ballot `b`, above the current one.
    pub(crate) fn follow(&mut self, b: Ballot) {
        if self.role != Role::Follower && b > self.promised {
            self.step_down();
        }
        self.leader = b;
        self.leader_since = self.now;
        self.leader_seen_at = None;
        self.reset_timeout();
    }

    /// Leaves candidacy or leadership.
    pub(crate) fn step_down(&mut self) {
        if self.role == Role::Follower {
            return;
        }
        self.role = Role::Follower;
        self.promises.clear();
        self.catch_up = None;
        self.progress.clear();
        self.transfers.clear();
        self.appends_due = false;
        self.reads.clear();
        self.lease.clear_leader();
        self.transfer = None;
        self.promotion = None;
        if self.leader.node() == self.id() {
            self.leader = Ballot::ZERO;
        }
        self.leader_since = self.now;
        self.reset_timeout();
    }

    pub(crate) fn reset_timeout(&mut self) {
        // Randomized exponential backoff: each campaign in a row that did
        // not win doubles the spread of the next wait (up to 8 timeouts),
        // so duelling candidates draw apart.
        let base = u64::from(self.config.election_timeout_ticks);
        let spread = base << self.failed_campaigns.min(3);
        let wait = base + self.rng.next_u64() % spread;
        self.timeout = u32::try_from(wait).unwrap_or(u32::MAX);
    }

    /// Asks again every peer that has not promised (a prepare or its
    /// promise may have been lost).
    fn resend_prepares(&mut self) {
        let (decided, last_index) = (self.decided, self.last_index());
        let last_term = self.log.last_term().unwrap_or(0);
        for i in 0..self.peers.len() {
            let to = self.peers[i];
            if !self.promises.contains_key(&to) {
                // Held like the first: the promise may not be durable yet.
                self.send_after_write(
                    to,
                    Body::Prepare {
                        decided,
                        last_term,
                        last_index,
                    },
                );
            }
        }
    }

    /// Campaigns with a ballot above every round seen: promises it to
    /// itself (persisted before any prepare leaves) and asks every peer.
    pub fn campaign(&mut self) {
        if !self.is_voter(self.id()) {
            return;
        }
        let round = self
            .max_round
            .max(self.promised.round())
            .max(self.leader.round())
            .saturating_add(1);
        let Some(ballot) = Ballot::new(round, self.id()) else {
            // Rounds exhausted: this node can no longer lead.
            return;
        };

        #[allow(unused_mut)]
        let mut honour = true;
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::LeaseNotHonoured) {
            honour = false;
        }
        if honour && self.lease.blocks(ballot, self.now) {
            // This node granted another ballot a lease (or restarted and
            // may have): it may not promise itself yet.
            return;
        }
        if self.role == Role::Candidate {
            self.failed_campaigns = self.failed_campaigns.saturating_add(1);
        }
        self.take_over_asked = None;
        self.max_round = round;
        self.promised = ballot;
        self.leader = ballot;
        self.leader_since = self.now;
        self.role = Role::Candidate;
        self.synced = None;
        self.promises.clear();
        self.catch_up = None;
        self.progress.clear();
        self.reset_timeout();
        let (decided, last_index) = (self.decided, self.last_index());
        let last_term = self.log.last_term().unwrap_or(0);
        for i in 0..self.peers.len() {
            let to = self.peers[i];
            self.send_after_write(
                to,
                Body::Prepare {
                    decided,
                    last_term,
                    last_index,
                },
            );
        }
        // Its own promise alone is a phase-1 quorum (a flexible quorum of
        // one, or a single voter): it leads once that promise is durable,
        // not before. A leader whose promise a crash lost would restart
        // below this ballot, campaign with it again and propose other
        // values under the same ballot, which acceptors take as the same
        // entries (found by the `paxos_cluster` fuzz target: a decided
        // entry changed). With peers in the quorum this holds anyway:
        // their promises answer prepares that leave only once the promise
        // is durable.
        self.lead_when_durable = None;
        let me = self.id();
        if self.is_quorum(self.q1(), |p| p == me) {
            self.lead_when_durable = Some(ballot);
        }
    }
}
