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

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(round: u64, node: u64) -> Ballot {
        Ballot::new(round, node).expect("a valid ballot")
    }

    #[test]
    fn a_grant_binds_the_acceptor_to_its_holder_until_it_ends() {
        let (holder, other) = (ballot(3, 1), ballot(4, 2));
        let mut lease = Lease::default();
        assert!(!lease.blocks(other, 0), "no grant, no promise");
        lease.grant(holder, 5, 10);
        assert!(lease.blocks(other, 14));
        assert!(!lease.blocks(other, 15), "ends at 5 + 10");
        assert!(!lease.blocks(holder, 14), "the holder is never blocked");
        // A later grant to the same holder extends it, an earlier one
        // never shortens it.
        lease.grant(holder, 8, 10);
        assert!(lease.blocks(other, 17));
        lease.grant(holder, 0, 1);
        assert!(lease.blocks(other, 17));
    }

    #[test]
    fn a_starting_node_promises_nothing_for_one_timeout() {
        let lease = Lease::at_start(Some(10));
        assert!(lease.blocks(ballot(1, 1), 9));
        assert!(!lease.blocks(ballot(1, 1), 10));
        assert!(!Lease::at_start(None).blocks(ballot(1, 1), 0));
    }

    #[test]
    fn the_leader_holds_from_the_latest_round_a_quorum_confirmed() {
        let mut lease = Lease::default();
        assert!(!lease.leader_holds(0));
        lease.round_sent(1, 5);
        lease.round_sent(2, 7);
        lease.round_sent(3, 9);
        lease.confirmed(2, 10);
        assert!(lease.leader_holds(16), "round 2 left at 7: until 17");
        assert!(!lease.leader_holds(17));
        // Round 1 was confirmed with round 2: gone, so confirming it
        // again changes nothing.
        lease.confirmed(1, 100);
        assert!(!lease.leader_holds(17));
        lease.confirmed(3, 10);
        assert!(lease.leader_holds(18), "round 3 left at 9: until 19");
        assert!(!lease.leader_holds(19));
    }

    #[test]
    fn the_rounds_kept_are_bounded_and_the_newest_stay() {
        let mut lease = Lease::default();
        for seq in 1..=1025 {
            lease.round_sent(seq, seq);
        }
        assert_eq!(lease.sent.len(), 1024);
        lease.confirmed(1, 100);
        assert!(!lease.leader_holds(0), "round 1 was dropped");
        lease.confirmed(2, 100);
        assert!(lease.leader_holds(101), "round 2 was kept");
        assert!(!lease.leader_holds(102));
    }

    #[test]
    fn leadership_ending_ends_the_leaders_lease_and_its_rounds() {
        let mut lease = Lease::default();
        lease.grant(ballot(3, 1), 0, 10);
        lease.round_sent(1, 0);
        lease.round_sent(2, 1);
        lease.confirmed(1, 10);
        assert!(lease.leader_holds(5));
        lease.clear_leader();
        assert!(!lease.leader_holds(5));
        lease.confirmed(2, 10);
        assert!(
            !lease.leader_holds(5),
            "rounds of the old leadership are forgotten"
        );
        assert!(lease.blocks(ballot(4, 2), 5), "the acceptor's grant stays");
    }
}
