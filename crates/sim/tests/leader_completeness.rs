//! The leader-completeness check on a scripted protocol (issue 9, defect
//! 10). Raft §5.4 promises a committed entry only to leaders of terms
//! *after* the one in which it was committed: node 3 leads term 3 and
//! commits index 2; a vote delayed long enough then makes node 1, still a
//! candidate of term 2, leader of term 2 without it. That is legal. The
//! same log as leader of term 4 is a violation.

use rand::rngs::StdRng;
use synod_sim::{
    Applied, FaultConfig, MembershipChange, Proposed, Ready, Replica, SimConfig, Violation,
    run_with,
};

/// Node 1 leads this term from tick 6 on, with an empty log.
#[derive(Debug)]
struct Scripted<const LATE_TERM: u64> {
    id: u64,
    ticks: u64,
    handed_out: bool,
}

impl<const LATE_TERM: u64> Scripted<LATE_TERM> {
    fn leads(&self) -> Option<u64> {
        match (self.id, self.ticks) {
            (3, 2..) => Some(3),
            (1, 6..) => Some(LATE_TERM),
            _ => None,
        }
    }

    /// Node 3's log: indexes 1 and 2, both of term 3.
    fn log(&self) -> Vec<(u64, u64)> {
        if self.id == 3 {
            vec![(1, 3), (2, 3)]
        } else {
            Vec::new()
        }
    }
}

impl<const LATE_TERM: u64> Replica for Scripted<LATE_TERM> {
    const NAME: &'static str = "scripted";
    type Message = ();
    type Disk = ();
    type Write = ();
    type Receipt = ();
    type Payload = u64;
    type Options = ();

    fn bootstrap(_voters: &[u64]) {}

    fn start(
        id: u64,
        _disk: &(),
        _cfg: &SimConfig<()>,
        _rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String> {
        let node = Self {
            id,
            ticks: 0,
            handed_out: false,
        };
        Ok((node, None))
    }

    fn tick(&mut self) {
        self.ticks += 1;
    }
    fn step(&mut self, _msg: ()) {}
    fn addressee(_msg: &()) -> u64 {
        0
    }
    fn message_term(_msg: &()) -> u64 {
        0
    }
    fn describe(_msg: &()) -> String {
        String::new()
    }
    fn propose(&mut self, _command: Vec<u8>) -> Proposed {
        Proposed::Rejected { leader: None }
    }

    fn has_ready(&self) -> bool {
        self.id == 3 && self.ticks >= 3 && !self.handed_out
    }

    fn ready(&mut self) -> Result<Ready<Self>, String> {
        self.handed_out = true;
        let committed = self
            .log()
            .into_iter()
            .map(|(index, term)| Applied {
                index,
                term,
                payload: index,
            })
            .collect();
        Ok(Ready {
            send: Vec::new(),
            write: (),
            after_sync: Vec::new(),
            receipt: (),
            restored: None,
            committed,
            reads: Vec::new(),
        })
    }

    fn on_synced(&mut self, _receipt: ()) {}
    fn on_applied(&mut self, _index: u64) {}
    fn write(_disk: &mut (), _write: &()) -> Result<(), String> {
        Ok(())
    }
    fn changes_vote(_disk: &(), _write: &()) -> bool {
        false
    }
    fn torn_units(_pending: &[()]) -> usize {
        0
    }
    fn tear(_disk: &mut (), _pending: &[()], _keep: usize) -> bool {
        false
    }

    fn leader_term(&self) -> Option<u64> {
        self.leads()
    }
    fn term(&self) -> u64 {
        match self.id {
            3 => 3,
            1 => LATE_TERM,
            _ => 1,
        }
    }
    fn log_terms(&self) -> Vec<(u64, u64)> {
        self.log()
    }
    fn first_index(&self) -> u64 {
        1
    }
    fn holds(&self, index: u64, term: u64) -> bool {
        self.log().contains(&(index, term))
    }
    fn command(_payload: &u64) -> Option<&[u8]> {
        None
    }
    fn voters(&self) -> Vec<u64> {
        vec![1, 2, 3]
    }
    fn propose_membership(&mut self, _change: MembershipChange) -> bool {
        false
    }
    fn compact(&mut self, _durable: &mut (), _state: impl FnOnce() -> Vec<u8>) -> bool {
        false
    }
}

fn script() -> SimConfig<()> {
    SimConfig {
        nodes: 3,
        ticks: 20,
        clients: 0,
        ops: 0,
        faults: FaultConfig::none(),
        reconfigure: 0.0,
        joint_changes: 0.0,
        retire_removed: false,
        compact: 0.0,
        read_index: false,
        ..SimConfig::safety(1)
    }
    .with_protocol(|_| ())
}

#[test]
fn a_late_leader_of_an_older_term_need_not_hold_newer_commits() {
    let report = run_with::<Scripted<2>>(&script()).unwrap();
    assert_eq!(report.violation, None);
    assert_eq!(
        report.summary.terms_with_leader, 2,
        "both leaders were seen"
    );
}

#[test]
fn a_leader_of_a_later_term_must_hold_every_committed_entry() {
    let report = run_with::<Scripted<4>>(&script()).unwrap();
    assert_eq!(
        report.violation,
        Some(Violation::LeaderIncomplete { node: 1, index: 1 })
    );
}
