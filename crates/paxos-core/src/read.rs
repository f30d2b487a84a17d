//! Linearizable reads by quorum rounds: the leader numbers its read
//! rounds; a read started before round `r` is sent waits for a quorum to
//! acknowledge `r` (or later) in the leader's ballot. An acceptor
//! acknowledges only while it holds that promise, so when a quorum has,
//! no newer ballot had a quorum at the time and nothing was decided that
//! the leader does not hold. The read is served once the state machine
//! has applied the leader's last index as of the read's start.

use std::collections::BTreeMap;

use synod_protocol::{Index, NodeId, ReadId, ReadState, Storage};

use crate::ballot::Ballot;
use crate::node::{PaxosNode, Role};

#[derive(Debug, Default)]
pub(crate) struct Reads {
    next_id: u64,
    /// The latest round sent.
    sent: u64,
    /// Force a new round at the next send (a heartbeat resends).
    force: bool,
    /// Send a round at the next send even with no read waiting (to renew
    /// a lease).
    renew: bool,
    /// (round it waits for, id, index to serve at).
    waiting: Vec<(u64, ReadId, Index)>,
    acks: BTreeMap<NodeId, u64>,
    ready: Vec<ReadState>,
}

impl Reads {
    pub(crate) fn starting_at(first_id: u64) -> Self {
        Self {
            next_id: first_id,
            ..Self::default()
        }
    }

    pub(crate) fn start(&mut self, index: Index) -> ReadId {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.waiting.push((self.sent + 1, id, index));
        id
    }

    /// The round to send now, if a read waits for one not yet sent.
    pub(crate) fn round_to_send(&mut self) -> Option<u64> {
        let due = self.waiting.iter().any(|&(r, _, _)| r > self.sent)
            || (self.force && !self.waiting.is_empty())
            || self.renew;
        self.force = false;
        self.renew = false;
        if !due {
            return None;
        }
        self.sent += 1;
        Some(self.sent)
    }

    pub(crate) fn new_round(&mut self) {
        self.force = true;
    }

    /// The next send carries a round even if no read waits.
    pub(crate) fn renew(&mut self) {
        self.renew = true;
    }

    /// Forgets every waiting read and acknowledgement (a new leadership,
    /// or leadership lost): those reads are never answered, and their
    /// callers time out or retry.
    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
        self.acks.clear();
        self.renew = false;
    }

    pub(crate) fn confirm_all(&mut self) {
        for (_, id, index) in self.waiting.drain(..) {
            self.ready.push(ReadState { id, index });
        }
    }

    fn confirm_through(&mut self, round: u64) {
        let (done, rest): (Vec<_>, Vec<_>) =
            self.waiting.drain(..).partition(|&(r, _, _)| r <= round);
        self.waiting = rest;
        for (_, id, index) in done {
            self.ready.push(ReadState { id, index });
        }
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub(crate) fn take_ready(&mut self) -> Vec<ReadState> {
        std::mem::take(&mut self.ready)
    }

    pub(crate) fn pending(&self) -> usize {
        self.waiting.len()
    }
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    pub(crate) fn on_read_ack(&mut self, from: NodeId, ballot: Ballot, seq: u64) {
        if self.role != Role::Leader || ballot != self.promised || seq > self.reads.sent {
            return;
        }
        let acked = self.reads.acks.entry(from).or_insert(0);
        *acked = (*acked).max(seq);
        let me = self.id();
        let confirmed = self.quorum_value(self.q2(), |v| {
            if v == me {
                self.reads.sent
            } else {
                self.reads.acks.get(&v).copied().unwrap_or(0)
            }
        });
        self.reads.confirm_through(confirmed);
        if self.config.lease_reads {
            let ticks = u64::from(
                self.config.election_timeout_ticks - self.config.lease_drift_margin_ticks,
            );
            self.lease.confirmed(confirmed, ticks);
        }
    }

    /// Starts lease round `seq` now: the leader binds itself as its
    /// acceptors will.
    pub(crate) fn lease_round_sent(&mut self, seq: u64) {
        if !self.config.lease_reads {
            return;
        }
        let (ballot, now) = (self.promised, self.now);
        self.lease.round_sent(seq, now);
        self.lease
            .grant(ballot, now, u64::from(self.config.election_timeout_ticks));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_from_the_first_one_drawn() {
        let mut reads = Reads::starting_at(41);
        assert_eq!(reads.start(5), 41);
        assert_eq!(reads.start(6), 42);
        let mut reads = Reads::starting_at(u64::MAX);
        assert_eq!(reads.start(5), u64::MAX);
        assert_eq!(reads.start(5), 0, "wraps, never panics");
    }

    #[test]
    fn a_read_asks_for_one_round_and_waits_for_it() {
        let mut reads = Reads::default();
        let id = reads.start(7);
        assert_eq!(reads.round_to_send(), Some(1));
        assert_eq!(reads.round_to_send(), None, "round 1 is out");
        reads.confirm_through(0);
        assert!(!reads.has_ready(), "an older round confirms nothing");
        reads.confirm_through(1);
        assert_eq!(reads.take_ready(), vec![ReadState { id, index: 7 }]);
        assert_eq!(reads.pending(), 0);
    }

    #[test]
    fn a_heartbeat_resends_a_round_only_while_reads_wait() {
        // Round 1 may be lost: the next heartbeat carries a new round, so
        // the read is confirmed without assuming any message arrives.
        let mut reads = Reads::default();
        let id = reads.start(3);
        assert_eq!(reads.round_to_send(), Some(1));
        reads.new_round();
        assert_eq!(reads.round_to_send(), Some(2));
        reads.confirm_through(2);
        assert_eq!(reads.take_ready(), vec![ReadState { id, index: 3 }]);
        reads.new_round();
        assert_eq!(reads.round_to_send(), None, "nothing waits");
    }

    #[test]
    fn a_renewal_sends_one_round_without_a_read() {
        let mut reads = Reads::default();
        reads.renew();
        assert_eq!(reads.round_to_send(), Some(1));
        assert_eq!(reads.round_to_send(), None);
    }

    #[test]
    fn a_change_of_leadership_forgets_reads_acknowledgements_and_renewal() {
        let mut reads = Reads::default();
        reads.start(3);
        reads.acks.insert(2, 1);
        reads.renew();
        reads.clear();
        assert_eq!(reads.pending(), 0);
        assert!(reads.acks.is_empty());
        assert_eq!(reads.round_to_send(), None);
        reads.confirm_all();
        assert!(!reads.has_ready(), "the forgotten read is never answered");
    }
}
