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
