//! Randomized histories of appends (with truncation), hard states, syncs,
//! snapshots with compaction, installed snapshots, injected EIO/ENOSPC and
//! crashes, on small segments over the simulated file system. After every
//! crash the reopened log must equal the model (raft-core's `MemStorage`)
//! at the last acknowledged point or at one of the record-by-record states
//! after it: never lose what a sync acknowledged, never invent a state no
//! prefix of the writes could produce.

use crate::support;

use proptest::prelude::*;
use synod_raft_core::{ConfState, Entry, HardState, MemStorage, Snapshot, SnapshotMeta, Storage};
use synod_wal::fs::{Fault, Op, SimDir};
use synod_wal::{Error, Wal};

use synod_wal::Options;

use support::{diff, entry, entry_large, roomy, small};

#[derive(Debug, Clone)]
enum Step {
    /// Append `n` entries starting `back` entries before the end (a
    /// truncation when `back > 0`), in a new term if `new_term`.
    Append {
        back: u8,
        n: u8,
        new_term: bool,
    },
    /// Advance the commit index by up to this much.
    Commit(u8),
    Sync,
    /// Sync, snapshot at the commit index, compact all but a short tail.
    Snapshot {
        tail: u8,
    },
    /// Install a leader's snapshot this far past the end.
    Install {
        ahead: u8,
    },
    /// Arm a fault on the operation of this kind after `after` more.
    Fail {
        op: u8,
        after: u8,
        enospc: bool,
    },
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u8..8, 1u8..24, any::<bool>())
            .prop_map(|(back, n, new_term)| Step::Append { back, n, new_term }),
        3 => (0u8..30).prop_map(Step::Commit),
        4 => Just(Step::Sync),
        1 => (0u8..10).prop_map(|tail| Step::Snapshot { tail }),
        1 => (1u8..20).prop_map(|ahead| Step::Install { ahead }),
        1 => (0u8..6, 0u8..4, any::<bool>())
            .prop_map(|(op, after, enospc)| Step::Fail { op, after, enospc }),
        2 => Just(Step::Crash),
    ]
}

const OPS: [Op; 6] = [
    Op::Write,
    Op::Sync,
    Op::Create,
    Op::Rename,
    Op::Remove,
    Op::DirSync,
];

/// The log under test, the model, and the states a crash may leave.
struct Run {
    dir: SimDir,
    wal: Wal<SimDir>,
    model: MemStorage,
    term: u64,
    /// States a crash may recover: the last acknowledged one first, then
    /// one per record written since.
    candidates: Vec<MemStorage>,
    /// Every third command large (spliced into the write, not copied),
    /// on larger segments.
    large: bool,
}

impl Run {
    fn options(&self) -> Options {
        if self.large { roomy() } else { small() }
    }

    fn entry(&self, index: u64) -> Entry {
        if self.large {
            entry_large(index, self.term)
        } else {
            entry(index, self.term)
        }
    }

    fn ack(&mut self) {
        self.candidates = vec![self.model.clone()];
    }

    fn apply(&mut self, step: &Step) -> Result<(), Error> {
        match *step {
            Step::Append { back, n, new_term } => {
                let last = self.model.last_index().unwrap();
                let first = self.model.first_index().unwrap();
                let commit = self.model.hard_state().commit;
                // Never truncate committed entries: Raft does not.
                let lo = (last + 1)
                    .saturating_sub(u64::from(back))
                    .max(commit + 1)
                    .max(first);
                if new_term || lo <= last {
                    self.term += 1;
                }
                let batch: Vec<Entry> = (lo..lo + u64::from(n)).map(|i| self.entry(i)).collect();
                for e in &batch {
                    self.model.append(vec![e.clone()]).unwrap();
                    self.candidates.push(self.model.clone());
                }
                self.wal.append(batch)
            }
            Step::Commit(by) => {
                let hs = self.model.hard_state();
                let last = self.model.last_index().unwrap();
                let hs = HardState {
                    term: self.term,
                    commit: (hs.commit + u64::from(by)).min(last),
                    ..hs
                };
                self.model.set_hard_state(hs);
                self.candidates.push(self.model.clone());
                self.wal.set_hard_state(hs)
            }
            Step::Sync => {
                self.wal.sync()?;
                self.ack();
                Ok(())
            }
            Step::Snapshot { tail } => {
                self.wal.sync()?;
                self.ack();
                let commit = self.model.hard_state().commit;
                let snap_index = self.model.snapshot(0).unwrap().meta.index;
                if commit <= snap_index || commit < self.model.first_index().unwrap() {
                    return Ok(());
                }
                let conf = ConfState {
                    voters: vec![1, 2, commit],
                    ..ConfState::default()
                };
                let data = format!("applied {commit}").into_bytes();
                let mut after = self.model.clone();
                after
                    .create_snapshot(commit, conf.clone(), data.clone())
                    .unwrap();
                self.candidates.push(after.clone());
                self.wal.create_snapshot(commit, conf, data)?;
                self.model = after;
                self.ack();
                let to = commit.saturating_sub(u64::from(tail));
                if to >= self.model.first_index().unwrap() {
                    self.model.compact(to).unwrap();
                    self.candidates.push(self.model.clone());
                    self.wal.compact(to)?;
                    self.ack();
                }
                Ok(())
            }
            Step::Install { ahead } => {
                self.term += 1;
                let index = self.model.last_index().unwrap() + u64::from(ahead);
                let snapshot = Snapshot {
                    meta: SnapshotMeta {
                        index,
                        term: self.term,
                        conf_state: ConfState {
                            voters: vec![index],
                            ..ConfState::default()
                        },
                    },
                    data: format!("leader state {index}").into_bytes().into(),
                };
                self.model.apply_snapshot(snapshot.clone()).unwrap();
                self.candidates.push(self.model.clone());
                self.wal.apply_snapshot(snapshot)?;
                self.ack();
                Ok(())
            }
            Step::Fail { op, after, enospc } => {
                let fault = if enospc { Fault::Enospc } else { Fault::Eio };
                self.dir.fail(OPS[usize::from(op)], u64::from(after), fault);
                Ok(())
            }
            Step::Crash => {
                self.crash_and_check();
                Ok(())
            }
        }
    }

    /// Crashes, reopens, and checks the log against the candidates.
    fn crash_and_check(&mut self) {
        self.dir.clear_faults();
        self.dir.crash();
        self.wal = Wal::open(self.dir.clone(), self.options()).expect("reopen after a crash");
        let matched = self
            .candidates
            .iter()
            .position(|c| diff(&self.wal, c).is_none());
        let Some(k) = matched else {
            let why: Vec<_> = self
                .candidates
                .iter()
                .map(|c| diff(&self.wal, c).unwrap_or_default())
                .collect();
            panic!("the reopened log matches no state a crash may leave: {why:#?}");
        };
        self.model = self.candidates[k].clone();
        self.term = self.term.max(self.model.hard_state().term);
        self.ack();
    }
}

/// Runs one history; `large`: see [`Run::large`].
fn history(seed: u64, steps: &[Step], large: bool) -> Result<(), TestCaseError> {
    let dir = SimDir::new(seed);
    let options = if large { roomy() } else { small() };
    let wal = Wal::open(dir.clone(), options).unwrap();
    let mut run = Run {
        dir,
        wal,
        model: MemStorage::new(),
        term: 1,
        candidates: Vec::new(),
        large,
    };
    run.ack();
    for step in steps {
        if let Err(e) = run.apply(step) {
            // Only an injected fault may fail a step; the log then
            // refuses writes until reopened.
            prop_assert!(
                matches!(e, Error::Io { .. } | Error::Poisoned),
                "{step:?}: {e}"
            );
            // Refused until reopened; the failed sync is not retried.
            let next = run.model.last_index().unwrap() + 1;
            prop_assert!(matches!(
                run.wal.append(vec![run.entry(next)]),
                Err(Error::Poisoned)
            ));
            prop_assert!(matches!(run.wal.sync(), Err(Error::Poisoned)));
            run.crash_and_check();
        }
    }
    run.crash_and_check();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_crash_keeps_every_acknowledged_write_and_invents_nothing(
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        history(seed, &steps, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // The same with large commands, which the log writes from their own
    // buffers (spliced into one vectored write) instead of copying them.
    #[test]
    fn large_entries_written_in_place_survive_crashes_the_same_way(
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        history(seed, &steps, true)?;
    }
}
