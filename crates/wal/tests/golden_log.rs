//! The log's on-disk format, frozen: a log written by a fixed history
//! (bootstrap, commands, a no-op, a membership change, a truncation, hard
//! states, a roll, a snapshot with compaction) must produce exactly the
//! committed files in `tests/golden/log-v4/`, and those files must open to
//! the same log. A change to either fails here and must bump the format
//! version (docs/wal.md). `UPDATE_GOLDEN=1` rewrites the files. The same
//! history written by format versions 1 (`tests/golden/log-v1/`, snapshot
//! data inline in the snapshot file), 2 (`tests/golden/log-v2/`, record
//! headers checksummed without a seed) and 3 (`tests/golden/log-v3/`, no
//! padding records) must still open to the same log.

use crate::support;

use std::path::PathBuf;

use synod_raft_core::{ConfChange, ConfChangeKind, ConfState, Entry, MemStorage, Payload, Storage};
use synod_wal::fs::{Dir, File, SimDir};
use synod_wal::segment::decode_header;
use synod_wal::{Options, Wal, segment_name};

use support::{assert_same, entries, hs, snapshot_and_compact};

fn options() -> Options {
    Options {
        segment_bytes: 4096,
        preallocate: false,
        // Off, so the files are the records alone (`zeros_ahead_change_no_record`
        // writes the same history with it on).
        zero_ahead_bytes: 0,
        recycle_segments: 2,
        write_behind_bytes: 0,
        // Low, so the history's larger syncs end on a page boundary with
        // a padding record and the golden files hold some.
        pad_syncs_from_bytes: 1024,
        cache_bytes: 1024,
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/log-v4"))
}

fn golden_v3_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/log-v3"))
}

fn golden_v2_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/log-v2"))
}

fn golden_v1_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/log-v1"))
}

/// The fixed history, applied to the log and to the model.
fn write(wal: &mut Wal<SimDir>, model: &mut MemStorage) {
    wal.bootstrap(&[1, 2, 3]).unwrap();
    *model = MemStorage::bootstrap(&[1, 2, 3]);
    let mut batch = vec![Entry {
        term: 2,
        index: 2,
        payload: Payload::Noop,
    }];
    for index in 3..=40u64 {
        batch.push(Entry {
            term: 2,
            index,
            payload: Payload::Command(format!("set k{index} = {}", index * 7).into_bytes().into()),
        });
    }
    batch.push(Entry {
        term: 2,
        index: 41,
        payload: Payload::ConfChange(ConfChange::single(ConfChangeKind::AddLearner, 4)),
    });
    wal.append(batch.clone()).unwrap();
    model.append(batch).unwrap();
    wal.set_hard_state(hs(2, Some(1), 30)).unwrap();
    model.set_hard_state(hs(2, Some(1), 30));
    wal.sync().unwrap();
    // A new leader overwrites the uncommitted tail.
    let tail: Vec<Entry> = (38..=60u64)
        .map(|index| Entry {
            term: 3,
            index,
            payload: Payload::Command(vec![index as u8; 100].into()),
        })
        .collect();
    wal.append(tail.clone()).unwrap();
    model.append(tail).unwrap();
    wal.set_hard_state(hs(3, None, 55)).unwrap();
    model.set_hard_state(hs(3, None, 55));
    wal.sync().unwrap();
    let conf = ConfState {
        voters: vec![1, 2, 3],
        learners: vec![4],
        ..ConfState::default()
    };
    wal.create_snapshot(50, conf.clone(), b"state machine at 50".to_vec())
        .unwrap();
    model
        .create_snapshot(50, conf, b"state machine at 50".to_vec())
        .unwrap();
    wal.compact(20).unwrap();
    model.compact(20).unwrap();
}

#[test]
fn the_log_format_matches_the_golden_files() {
    let dir = SimDir::new(1);
    let mut wal = Wal::open(dir.clone(), options()).unwrap();
    let mut model = MemStorage::new();
    write(&mut wal, &mut model);
    drop(wal);
    let names = dir.list().unwrap();
    assert!(
        names.contains(&synod_wal::segment_name(2)),
        "the history rolls a segment: {names:?}"
    );
    let golden = golden_dir();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(&golden).unwrap();
        for name in &names {
            std::fs::write(golden.join(name), dir.read_all(name).unwrap()).unwrap();
        }
    }
    let mut committed: Vec<String> = std::fs::read_dir(&golden)
        .expect("golden files (UPDATE_GOLDEN=1 writes them)")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    committed.sort();
    assert_eq!(names, committed, "the files of the log changed");
    for name in &names {
        let want = std::fs::read(golden.join(name)).unwrap();
        assert_eq!(
            dir.read_all(name).unwrap(),
            want,
            "{name}: the format changed"
        );
    }
}

#[test]
fn the_golden_files_open_to_the_same_log() {
    opens_to_the_same_log(&golden_dir());
}

#[test]
fn a_version_3_log_still_opens_to_the_same_log() {
    opens_to_the_same_log(&golden_v3_dir());
}

#[test]
fn a_version_2_log_still_opens_to_the_same_log() {
    opens_to_the_same_log(&golden_v2_dir());
}

#[test]
fn a_version_1_log_still_opens_to_the_same_log() {
    opens_to_the_same_log(&golden_v1_dir());
}

fn opens_to_the_same_log(golden: &std::path::Path) {
    let (_, wal, model) = open_golden(golden);
    assert_same(&wal, &model, "the golden log");
}

/// A version 2 log carried on: its version 2 segments are compacted away
/// and recycled as segments of this build's version, over records checksummed without a
/// seed, which must never read as the new segments' records, also when a
/// crash tears the first write into a recycled file and the scan meets
/// what follows it (the version 2 records among it).
#[test]
fn a_version_2_log_recycles_its_old_segments_safely() {
    let append = |wal: &mut Wal<SimDir>, model: &mut MemStorage, next: &mut u64, n: u64| {
        if n > 0 {
            wal.append(entries(*next, *next + n - 1, 3)).unwrap();
            model.append(entries(*next, *next + n - 1, 3)).unwrap();
        }
        wal.sync().unwrap();
        *next += n;
    };
    for round in 0..64u64 {
        let (dir, mut wal, mut model) = open_golden(&golden_v2_dir());
        let mut next = model.last_index().unwrap() + 1;
        append(&mut wal, &mut model, &mut next, 40);
        let conf = ConfState {
            voters: vec![1, 2, 3],
            learners: vec![4],
            ..ConfState::default()
        };
        snapshot_and_compact(&mut wal, &mut model, next - 1, conf);
        // Roll into a freed version 2 file, then write into it with a sync
        // that fails, and crash.
        let free = wal.free_segment_count();
        assert!(free > 0, "version 2 segments freed");
        while wal.free_segment_count() == free {
            append(&mut wal, &mut model, &mut next, 1);
        }
        let active = segment_name(wal.segment_count() as u64 + first_segment_id(&dir) - 1);
        let header = decode_header(&dir.read_all(&active).unwrap(), &active).unwrap();
        assert!(
            header.recycled && header.version == synod_wal::segment::FORMAT_VERSION,
            "{active}: {header:?}"
        );
        append(&mut wal, &mut model, &mut next, round % 5);
        let n = 1 + round % 7;
        let batch = entries(next, next + n - 1, 3);
        wal.append(batch.clone()).unwrap();
        dir.fail(synod_wal::fs::Op::Sync, 0, synod_wal::fs::Fault::Eio);
        let _ = wal.sync();
        dir.clear_faults();
        drop(wal);
        dir.crash();
        let wal = Wal::open(dir.clone(), options())
            .unwrap_or_else(|e| panic!("round {round}: reopen after a crash: {e}"));
        let got = wal.last_index().unwrap();
        assert!(
            (next - 1..next + n).contains(&got),
            "round {round}: last index {got}, expected {} to {}",
            next - 1,
            next + n - 1
        );
        let kept: Vec<Entry> = batch.into_iter().take((got + 1 - next) as usize).collect();
        if !kept.is_empty() {
            model.append(kept).unwrap();
        }
        assert_same(&wal, &model, &format!("round {round}: after a crash"));
    }
}

/// The lowest segment id in `dir`.
fn first_segment_id(dir: &SimDir) -> u64 {
    (dir.list().unwrap().iter())
        .filter_map(|n| synod_wal::segment_id(n))
        .min()
        .unwrap()
}

/// The log in `golden` opened in a simulated directory, and the model of
/// the history that wrote it.
fn open_golden(golden: &std::path::Path) -> (SimDir, Wal<SimDir>, MemStorage) {
    let dir = SimDir::new(2);
    for entry in std::fs::read_dir(golden).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let mut f = dir.create(&name).unwrap();
        f.write_at(0, &std::fs::read(entry.path()).unwrap())
            .unwrap();
        f.sync_data().unwrap();
    }
    dir.sync().unwrap();
    let wal = Wal::open(dir.clone(), options()).unwrap();
    let mut model = MemStorage::new();
    let mut scratch = Wal::open(SimDir::new(3), options()).unwrap();
    write(&mut scratch, &mut model);
    (dir, wal, model)
}

/// Zeroing ahead changes what follows the records and nothing else: the
/// same history written with it on leaves each file the bytes it leaves
/// without, then zeros, and it reopens to the same log. (Without padding:
/// the golden history's padded syncs fill their small segments to the
/// end, leaving no room to zero.)
#[test]
fn zeros_ahead_change_no_record() {
    let unpadded = Options {
        pad_syncs_from_bytes: 0,
        ..options()
    };
    let plain = SimDir::new(5);
    let mut wal = Wal::open(plain.clone(), unpadded).unwrap();
    write(&mut wal, &mut MemStorage::new());
    drop(wal);
    let zeroing = Options {
        zero_ahead_bytes: 1 << 20,
        ..unpadded
    };
    let dir = SimDir::new(4);
    let mut wal = Wal::open(dir.clone(), zeroing).unwrap();
    let mut model = MemStorage::new();
    write(&mut wal, &mut model);
    drop(wal);
    assert_eq!(dir.list().unwrap(), plain.list().unwrap());
    let mut zeroed_some = false;
    for name in dir.list().unwrap() {
        let got = dir.read_all(&name).unwrap();
        let want = plain.read_all(&name).unwrap();
        assert!(got.len() >= want.len(), "{name}: shorter than without");
        assert_eq!(got[..want.len()], want[..], "{name}: a record changed");
        assert!(
            got[want.len()..].iter().all(|&b| b == 0),
            "{name}: something but zeros after the records"
        );
        zeroed_some |= got.len() > want.len();
    }
    assert!(zeroed_some, "the history's small syncs zero ahead");
    let wal = Wal::open(dir, zeroing).unwrap();
    assert_same(&wal, &model, "the log written with zeros ahead");
}

/// A version 3 log carried on keeps writing its version 3 tail segment
/// without padding records (which a version 3 build could not read), and
/// the version 4 segments after it get them.
#[test]
fn a_version_3_tail_is_never_padded() {
    let padding = |bytes: &[u8]| {
        let header = decode_header(bytes, "segment").unwrap();
        let scan = synod_wal::record::scan(&bytes[32..], header.seed());
        let pads = scan
            .records
            .iter()
            .filter(|r| r.kind == synod_wal::record::KIND_PADDING)
            .count();
        (header.version, pads)
    };
    let (dir, mut wal, mut model) = open_golden(&golden_v3_dir());
    let tail = segment_name(wal.segment_count() as u64 + first_segment_id(&dir) - 1);
    assert_eq!(padding(&dir.read_all(&tail).unwrap()), (3, 0));
    let mut next = model.last_index().unwrap() + 1;
    let mut syncs = 0;
    while wal.segment_count() < 4 {
        // About 1.6 KiB a sync: over the threshold of `options()`.
        wal.append(entries(next, next + 7, 3)).unwrap();
        model.append(entries(next, next + 7, 3)).unwrap();
        wal.sync().unwrap();
        next += 8;
        let (version, pads) = padding(&dir.read_all(&tail).unwrap());
        assert_eq!((version, pads), (3, 0), "the version 3 tail was padded");
        syncs += 1;
    }
    assert!(syncs > 1, "syncs into the version 3 tail");
    let newest = segment_name(wal.segment_count() as u64 + first_segment_id(&dir) - 1);
    let (version, _) = padding(&dir.read_all(&newest).unwrap());
    assert_eq!(version, synod_wal::segment::FORMAT_VERSION);
    let last_full = segment_name(wal.segment_count() as u64 + first_segment_id(&dir) - 2);
    let (version, pads) = padding(&dir.read_all(&last_full).unwrap());
    assert!(
        version == 4 && pads > 0,
        "{last_full}: version {version}, {pads} padding records"
    );
    drop(wal);
    let wal = Wal::open(dir, options()).unwrap();
    assert_same(&wal, &model, "the carried-on version 3 log");
}
