//! The simulator drives any [`Replica`], not only raft-core: a user's own
//! protocol gets the same disks, crashes, clients and checks. Here a
//! single-node durable log, correct when it acknowledges after the disk
//! syncs and caught when it acknowledges before.

use rand::rngs::StdRng;
use synod_sim::{
    Applied, FaultConfig, MembershipChange, Proposed, Ready, Replica, SimConfig, Summary,
    Violation, run_with,
};

/// The toy's disk: its log.
#[derive(Debug, Clone, Default)]
struct LogDisk {
    entries: Vec<Vec<u8>>,
}

/// Entries to write at a position (0-based).
#[derive(Debug, Clone)]
struct LogWrite {
    at: usize,
    entries: Vec<Vec<u8>>,
}

/// A single-node replicated log. With `EARLY` it commits what is appended
/// before the disk syncs: the bug a crash exposes.
#[derive(Debug)]
struct Solo<const EARLY: bool> {
    log: Vec<Vec<u8>>,
    unwritten_from: usize,
    committed: usize,
    handed_out: usize,
}

impl<const EARLY: bool> Replica for Solo<EARLY> {
    const NAME: &'static str = "solo";
    type Message = ();
    type Disk = LogDisk;
    type Write = LogWrite;
    type Receipt = usize;
    type Payload = Vec<u8>;
    // The toy has no options of its own: raft-core's never reach it.
    type Options = ();

    fn bootstrap(_voters: &[u64]) -> LogDisk {
        LogDisk::default()
    }

    fn start(
        _id: u64,
        disk: &LogDisk,
        _cfg: &SimConfig<()>,
        _rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String> {
        let n = disk.entries.len();
        let node = Self {
            log: disk.entries.clone(),
            unwritten_from: n,
            // Everything on disk is committed and is applied again from
            // the start (there are no snapshots).
            committed: n,
            handed_out: 0,
        };
        Ok((node, None))
    }

    fn tick(&mut self) {}
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

    fn propose(&mut self, command: Vec<u8>) -> Proposed {
        self.log.push(command);
        Proposed::Appended
    }

    fn has_ready(&self) -> bool {
        self.unwritten_from < self.log.len() || self.handed_out < self.committed
    }

    fn ready(&mut self) -> Result<Ready<Self>, String> {
        let write = LogWrite {
            at: self.unwritten_from,
            entries: self.log[self.unwritten_from..].to_vec(),
        };
        self.unwritten_from = self.log.len();
        if EARLY {
            self.committed = self.log.len();
        }
        let committed = (self.handed_out..self.committed)
            .map(|i| Applied {
                index: i as u64 + 1,
                term: 1,
                payload: self.log[i].clone(),
            })
            .collect();
        self.handed_out = self.committed;
        Ok(Ready {
            send: Vec::new(),
            write,
            after_sync: Vec::new(),
            receipt: self.log.len(),
            restored: None,
            committed,
            reads: Vec::new(),
        })
    }

    fn on_synced(&mut self, synced: usize) {
        self.committed = self.committed.max(synced);
    }

    fn on_applied(&mut self, _index: u64) {}

    fn write(disk: &mut LogDisk, write: &LogWrite) -> Result<(), String> {
        if write.at > disk.entries.len() {
            return Err(format!(
                "gap: write at {} past {}",
                write.at,
                disk.entries.len()
            ));
        }
        disk.entries.truncate(write.at);
        disk.entries.extend(write.entries.iter().cloned());
        Ok(())
    }

    fn changes_vote(_disk: &LogDisk, _write: &LogWrite) -> bool {
        false
    }

    fn torn_units(pending: &[LogWrite]) -> usize {
        pending.iter().map(|w| w.entries.len()).sum()
    }

    fn tear(disk: &mut LogDisk, pending: &[LogWrite], keep: usize) -> bool {
        let Some(first) = pending.first() else {
            return false;
        };
        let entries = pending.iter().flat_map(|w| w.entries.iter().cloned());
        let torn = LogWrite {
            at: first.at,
            entries: entries.take(keep).collect(),
        };
        Self::write(disk, &torn).is_ok()
    }

    fn leader_term(&self) -> Option<u64> {
        Some(1)
    }
    fn term(&self) -> u64 {
        1
    }
    fn log_terms(&self) -> Vec<(u64, u64)> {
        (1..=self.log.len() as u64).map(|i| (i, 1)).collect()
    }
    fn first_index(&self) -> u64 {
        1
    }
    fn holds(&self, index: u64, term: u64) -> bool {
        term == 1 && 1 <= index && index <= self.log.len() as u64
    }
    fn command(payload: &Vec<u8>) -> Option<&[u8]> {
        Some(payload)
    }
    fn voters(&self) -> Vec<u64> {
        vec![1]
    }
    fn propose_membership(&mut self, _change: MembershipChange) -> bool {
        false
    }
    fn compact(&mut self, _durable: &mut LogDisk, _state: impl FnOnce() -> Vec<u8>) -> bool {
        false
    }
}

fn solo_config(seed: u64) -> SimConfig<()> {
    SimConfig {
        nodes: 1,
        reconfigure: 0.0,
        joint_changes: 0.0,
        retire_removed: false,
        compact: 0.0,
        faults: FaultConfig::safety(),
        ..SimConfig::safety(seed)
    }
    .with_protocol(|_| ())
}

#[test]
fn a_correct_custom_protocol_passes_every_check() {
    let mut total = Summary::default();
    for seed in 0..50 {
        let report = run_with::<Solo<false>>(&solo_config(seed)).unwrap();
        assert_eq!(report.violation, None, "seed {seed}");
        assert_eq!(report.protocol, "solo");
        assert!(report.summary.ops.0 > 0, "seed {seed}: nothing completed");
        total.add(&report.summary);
    }
    assert!(total.lost_writes > 0, "no crash lost a write: {total:?}");
    assert!(total.torn_writes > 0, "no write was torn: {total:?}");
}

#[test]
fn acknowledging_before_the_disk_syncs_is_caught() {
    let caught = (0..50).find_map(|seed| {
        let report = run_with::<Solo<true>>(&solo_config(seed)).unwrap();
        report.violation.map(|v| (seed, v))
    });
    let Some((seed, violation)) = caught else {
        panic!("acknowledging unsynced writes went unnoticed for 50 seeds");
    };
    assert!(
        matches!(
            violation,
            Violation::CommittedEntryChanged { .. } | Violation::NotLinearizable(_)
        ),
        "seed {seed}: {violation:?}"
    );
    eprintln!("caught at seed {seed}: {violation:?}");
}
