//! Leader leases (`Config::lease_reads`): reads answered by the leader
//! alone while no other ballot can have completed phase 1.
//!
//! An acceptor that acknowledges a lease round of ballot `b` grants `b` a
//! lease: for one election timeout of its own ticks it promises no other
//! ballot (it refuses their prepares, and does not campaign itself). The
//! leader grants itself the same when it sends the round. Once a phase-2
//! quorum acknowledged a round sent at the leader's tick `t`, every
//! phase-1 quorum contains an acceptor bound until at least `t + timeout`
//! of its own clock; under the drift bound that is after `t + timeout -
//! margin` of the leader's clock, so until then no other leader exists and
//! the leader's log holds every decided entry. A restarted acceptor may
//! have granted a lease it no longer remembers, so it refuses every
//! prepare for one timeout after it starts.

use std::collections::VecDeque;

use crate::ballot::Ballot;

#[derive(Debug, Default)]
pub(crate) struct Lease {
    /// As acceptor: promises no ballot but `holder` before tick `until`.
    holder: Ballot,
    until: u64,
    /// As leader: answers reads alone before this tick.
    leader_until: u64,
    /// As leader: lease rounds sent and the tick each left, oldest first.
    sent: VecDeque<(u64, u64)>,
}

impl Lease {
    /// A node starting now (tick 0): with leases on, bound for `ticks`
    /// to no ballot at all.
    pub(crate) fn at_start(ticks: Option<u64>) -> Self {
        Self {
            until: ticks.unwrap_or(0),
            ..Self::default()
        }
    }

    /// Whether a grant forbids promising `ballot` at tick `now`.
    pub(crate) fn blocks(&self, ballot: Ballot, now: u64) -> bool {
        now < self.until && ballot != self.holder
    }

    /// Grants `ballot` a lease for `ticks` from `now`. Only the ballot
    /// this acceptor promised is ever granted, and it promised it only
    /// once no other grant bound it, so a grant never moves a live lease.
    pub(crate) fn grant(&mut self, ballot: Ballot, now: u64, ticks: u64) {
        self.holder = ballot;
        self.until = self.until.max(now.saturating_add(ticks));
    }

    /// As leader: lease round `seq` leaves at tick `now`.
    pub(crate) fn round_sent(&mut self, seq: u64, now: u64) {
        self.sent.push_back((seq, now));
        // A quorum that never answers must not grow this without bound.
        if self.sent.len() > 1024 {
            self.sent.pop_front();
        }
    }

    /// As leader: a phase-2 quorum acknowledged rounds through `seq`; the
    /// lease lasts `ticks` (timeout less the drift margin) from the tick
    /// the latest of them left.
    pub(crate) fn confirmed(&mut self, seq: u64, ticks: u64) {
        let mut latest = None;
        while let Some(&(s, at)) = self.sent.front() {
            if s > seq {
                break;
            }
            latest = Some(at);
            self.sent.pop_front();
        }
        if let Some(at) = latest {
            self.leader_until = self.leader_until.max(at.saturating_add(ticks));
        }
    }

    /// As leader: whether reads may be answered alone at tick `now`.
    pub(crate) fn leader_holds(&self, now: u64) -> bool {
        now < self.leader_until
    }

    /// Leadership began or ended: no lease as leader (an acceptor's grant
    /// stays: it binds this node whatever its role).
    pub(crate) fn clear_leader(&mut self) {
        self.leader_until = 0;
        self.sent.clear();
    }
}
