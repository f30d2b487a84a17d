//! The log cut at every byte of its last segment, as a crash that kept
//! only part of the file would leave it: reopening recovers exactly the
//! records wholly before the cut, and never fails.

use crate::support;

use synod_raft_core::{MemStorage, Storage};
use synod_wal::fs::{Dir, File, SimDir};
use synod_wal::{Options, Wal};

use support::{assert_same, entries, hs};

fn options() -> Options {
    Options {
        segment_bytes: 8 << 10,
        preallocate: false,
        // Small enough that the writes pass the zeroed stretch now and then.
        zero_ahead_bytes: 2048,
        // Compactions free segments that later rolls write over.
        recycle_segments: 2,
        // Write-behind at 1 KiB: appends are cut into records of at most
        // 1 KiB of payload (more record boundaries for the cuts to meet)
        // and written out before their sync; the bytes they leave are the
        // same as one write would.
        write_behind_bytes: 1024,
        // Syncs of 512 bytes and more end on a page boundary with a
        // padding record: cuts meet those records too.
        pad_syncs_from_bytes: 512,
        cache_bytes: 0,
    }
}

/// Where the records of segment file `bytes` end: the zeros a writer
/// wrote ahead of them (`Options::zero_ahead_bytes`) and the stale records
/// after a recycled segment's end mark hold no record.
fn data_end(bytes: &[u8]) -> usize {
    let header = synod_wal::segment::SEGMENT_HEADER_BYTES as usize;
    let seed = synod_wal::segment::decode_header(bytes, "segment")
        .expect("a segment header")
        .seed();
    match synod_wal::record::scan(bytes.get(header..).unwrap_or_default(), seed).end {
        synod_wal::record::End::Clean { offset } => header + offset,
        other => panic!("a written segment ends {other:?}"),
    }
}

/// A copy of `dir` whose file `name` keeps only its first `len` bytes.
fn copy_cut(dir: &SimDir, name: &str, len: usize) -> SimDir {
    let copy = SimDir::new(0);
    for file in dir.list().unwrap() {
        let mut bytes = dir.read_all(&file).unwrap();
        if file == name {
            bytes.truncate(len);
        }
        let mut f = copy.create(&file).unwrap();
        f.write_at(0, &bytes).unwrap();
        f.sync_data().unwrap();
    }
    copy.sync().unwrap();
    copy
}

#[test]
fn a_cut_at_every_byte_of_the_last_segment_recovers_the_records_before_it() {
    let dir = SimDir::new(1);
    let mut wal = Wal::open(dir.clone(), options()).unwrap();
    let mut model = MemStorage::new();
    // (end of the last segment after the step, the model after it)
    let mut steps: Vec<(String, usize, MemStorage)> = Vec::new();
    let mut note = |wal: &Wal<SimDir>, model: &MemStorage| {
        let name = synod_wal::segment_name(wal.segment_count() as u64);
        let end = data_end(&dir.read_all(&name).unwrap());
        steps.push((name, end, model.clone()));
    };
    note(&wal, &model);
    for (lo, hi, term) in [
        (1, 30, 1),
        (31, 60, 1),
        (50, 70, 2),
        (71, 75, 2),
        (60, 64, 3),
    ] {
        for e in entries(lo, hi, term) {
            wal.append(vec![e.clone()]).unwrap();
            model.append(vec![e]).unwrap();
            wal.sync().unwrap();
            note(&wal, &model);
        }
        let h = hs(term, Some(1), model.last_index().unwrap() - 2);
        wal.set_hard_state(h).unwrap();
        model.set_hard_state(h);
        wal.sync().unwrap();
        note(&wal, &model);
    }
    let last_name = steps.last().unwrap().0.clone();
    assert!(wal.segment_count() >= 3, "{} segments", wal.segment_count());
    let full = dir.read_all(&last_name).unwrap().len();
    assert!(full > steps.last().unwrap().1, "zeros follow the records");
    // Cut from the start of the last segment to its end, zeros included.
    for cut in 0..=full {
        let copy = copy_cut(&dir, &last_name, cut);
        let reopened = Wal::open(copy, options()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        // The newest step whose records all lie before the cut.
        let want = steps
            .iter()
            .rev()
            .find(|(name, end, _)| *name != last_name || *end <= cut)
            .map(|(_, _, model)| model)
            .unwrap();
        assert_same(&reopened, want, &format!("cut at {cut} of {full}"));
    }
}

use proptest::prelude::*;
use synod_raft_core::{ConfState, HardState, Snapshot, SnapshotMeta};

#[derive(Debug, Clone)]
enum Op {
    Append { back: u8, n: u8, new_term: bool },
    Commit(u8),
    Snapshot { tail: u8 },
    Install { ahead: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..6, 1u8..12, any::<bool>())
            .prop_map(|(back, n, new_term)| Op::Append { back, n, new_term }),
        3 => (0u8..20).prop_map(Op::Commit),
        1 => (0u8..8).prop_map(|tail| Op::Snapshot { tail }),
        1 => (1u8..10).prop_map(|ahead| Op::Install { ahead }),
    ]
}

/// Applies `op` to the log and the model, then syncs; returns whether it
/// replaced the snapshot file.
fn apply(
    op: &Op,
    wal: &mut Wal<SimDir>,
    model: &mut MemStorage,
    term: &mut u64,
    states: &mut Vec<MemStorage>,
) -> bool {
    match *op {
        Op::Append { back, n, new_term } => {
            let last = model.last_index().unwrap();
            let floor = model
                .hard_state()
                .commit
                .max(model.first_index().unwrap() - 1);
            let lo = (last + 1).saturating_sub(u64::from(back)).max(floor + 1);
            if new_term || lo <= last {
                *term += 1;
            }
            let batch = entries(lo, lo + u64::from(n) - 1, *term);
            wal.append(batch.clone()).unwrap();
            // A batch split by a roll lands as two records: every entry
            // boundary is a state a cut may leave.
            for e in batch {
                model.append(vec![e]).unwrap();
                states.push(model.clone());
            }
            wal.sync().unwrap();
            false
        }
        Op::Commit(by) => {
            let hs = model.hard_state();
            let last = model.last_index().unwrap();
            let hs = HardState {
                term: *term,
                commit: (hs.commit + u64::from(by)).min(last),
                ..hs
            };
            wal.set_hard_state(hs).unwrap();
            model.set_hard_state(hs);
            wal.sync().unwrap();
            false
        }
        Op::Snapshot { tail } => {
            let commit = model.hard_state().commit;
            if commit <= model.snapshot(0).unwrap().meta.index
                || commit < model.first_index().unwrap()
            {
                return false;
            }
            let conf = ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            };
            wal.create_snapshot(commit, conf.clone(), b"s".to_vec())
                .unwrap();
            model.create_snapshot(commit, conf, b"s".to_vec()).unwrap();
            let to = commit.saturating_sub(u64::from(tail));
            if to >= model.first_index().unwrap() {
                wal.compact(to).unwrap();
                model.compact(to).unwrap();
            }
            true
        }
        Op::Install { ahead } => {
            *term += 1;
            let index = model.last_index().unwrap() + u64::from(ahead);
            let snapshot = Snapshot {
                meta: SnapshotMeta {
                    index,
                    term: *term,
                    conf_state: ConfState {
                        voters: vec![1],
                        ..ConfState::default()
                    },
                },
                data: vec![7u8; 9].into(),
            };
            wal.apply_snapshot(snapshot.clone()).unwrap();
            model.apply_snapshot(snapshot).unwrap();
            true
        }
    }
}

/// Whether two models differ in what a log would hold.
fn diff_models(a: &MemStorage, b: &MemStorage) -> bool {
    a.last_index() != b.last_index()
        || a.hard_state() != b.hard_state()
        || a.snapshot(0).unwrap().meta.index != b.snapshot(0).unwrap().meta.index
        || a.entries(
            a.first_index().unwrap(),
            a.last_index().unwrap() + 1,
            u64::MAX,
        )
        .ok()
            != b.entries(
                a.first_index().unwrap(),
                a.last_index().unwrap() + 1,
                u64::MAX,
            )
            .ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random histories of appends (with truncation), commits, snapshots
    /// with compaction and installed snapshots, each step synced; then the
    /// last segment cut at every byte after the last snapshot change: each
    /// cut must reopen to the model after the newest step wholly before it.
    #[test]
    fn random_histories_cut_at_every_byte(ops in prop::collection::vec(op(), 1..40)) {
        let dir = SimDir::new(5);
        let mut wal = Wal::open(dir.clone(), options()).unwrap();
        let mut model = MemStorage::new();
        let mut term = 1;
        let segment = |wal: &Wal<SimDir>| {
            dir.list()
                .unwrap()
                .into_iter()
                .rfind(|n| n.ends_with(".wal"))
                .unwrap_or_else(|| synod_wal::segment_name(wal.segment_count() as u64))
        };
        // Every state a cut may leave, in order, and after each step the
        // (segment, end) it reached and the state it ended in.
        let mut states = vec![model.clone()];
        let mut steps = vec![(segment(&wal), data_end(&dir.read_all(&segment(&wal)).unwrap()), 0)];
        for op in &ops {
            let snap = apply(op, &mut wal, &mut model, &mut term, &mut states);
            if snap {
                // Earlier states had another snapshot file: not candidates.
                states.clear();
                steps.clear();
            }
            if states.last().is_none_or(|s| diff_models(s, &model)) {
                states.push(model.clone());
            }
            let name = segment(&wal);
            let end = data_end(&dir.read_all(&name).unwrap());
            steps.push((name, end, states.len() - 1));
        }
        drop(wal);
        let last = steps.last().unwrap().0.clone();
        let full = dir.read_all(&last).unwrap().len();
        for cut in 0..=full {
            // At least the newest step wholly before the cut, at most the
            // oldest step not wholly before it.
            let Some(lower) = steps
                .iter()
                .rev()
                .find(|(name, end, _)| *name != last || *end <= cut)
                .map(|s| s.2)
            else {
                continue;
            };
            let upper = steps
                .iter()
                .find(|(name, end, _)| *name == last && *end > cut)
                .map_or(states.len() - 1, |s| s.2);
            let copy = copy_cut(&dir, &last, cut);
            let reopened = Wal::open(copy, options());
            prop_assert!(reopened.is_ok(), "cut at {cut}: {:?}", reopened.err());
            let reopened = reopened.unwrap();
            let matched = (lower..=upper).any(|k| support::diff(&reopened, &states[k]).is_none());
            prop_assert!(
                matched,
                "cut at {cut} of {full}: matches no state in {lower}..={upper}: {}",
                support::diff(&reopened, &states[lower]).unwrap_or_default()
            );
        }
    }
}
