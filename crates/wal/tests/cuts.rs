//! The log cut at every byte of its last segment, as a crash that kept
//! only part of the file would leave it: reopening recovers exactly the
//! records wholly before the cut, and never fails.

mod support;

use synod_raft_core::{MemStorage, Storage};
use synod_wal::fs::{Dir, File, SimDir};
use synod_wal::{Options, Wal};

use support::{assert_same, entries, hs};

fn options() -> Options {
    Options {
        segment_bytes: 8 << 10,
        preallocate: false,
        cache_bytes: 0,
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
        let end = dir.read_all(&name).unwrap().len();
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
    let full = steps.last().unwrap().1;
    // Cut from the start of the last segment to its end.
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
