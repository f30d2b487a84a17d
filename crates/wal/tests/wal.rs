//! The log as a whole: Raft's durable state round-trips through reopen,
//! across segments, truncations, snapshots and compaction, checked against
//! raft-core's `MemStorage` as the model.

use crate::support;

use synod_raft_core::{ConfState, MemStorage, Snapshot, SnapshotMeta, Storage, StorageError};
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};
use synod_wal::{Error, Options, Wal};

use support::{assert_same, entries, hs, small};

fn open(dir: &SimDir) -> Wal<SimDir> {
    Wal::open(dir.clone(), small()).unwrap()
}

#[test]
fn a_fresh_directory_opens_as_an_empty_log() {
    let dir = SimDir::new(1);
    let wal = open(&dir);
    assert_same(&wal, &MemStorage::new(), "fresh");
    assert_eq!(wal.recovery().segments, 0);
    assert_eq!(dir.list().unwrap(), vec![synod_wal::segment_name(1)]);
    drop(wal);
    dir.crash();
    let wal = open(&dir);
    assert_same(&wal, &MemStorage::new(), "fresh, after a crash");
    assert_eq!(wal.recovery().segments, 1);
}

#[test]
fn entries_and_hard_state_survive_a_crash_across_segments() {
    let dir = SimDir::new(2);
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    for batch in 0..20u64 {
        let batch = entries(batch * 10 + 1, batch * 10 + 10, 1 + batch / 5);
        wal.append(batch.clone()).unwrap();
        model.append(batch).unwrap();
        let h = hs(
            1 + model.last_index().unwrap() / 50,
            Some(2),
            model.last_index().unwrap(),
        );
        wal.set_hard_state(h).unwrap();
        model.set_hard_state(h);
        wal.sync().unwrap();
    }
    assert!(wal.segment_count() > 5, "{} segments", wal.segment_count());
    assert_same(&wal, &model, "before the crash");
    // Appended but never synced: a crash may keep a prefix of it (a roll
    // in the middle syncs what went before), never more, never a gap.
    wal.append(entries(201, 205, 9)).unwrap();
    drop(wal);
    dir.crash();
    let wal = open(&dir);
    let kept = wal.last_index().unwrap();
    assert!((200..=205).contains(&kept), "kept up to {kept}");
    if kept > 200 {
        model.append(entries(201, kept, 9)).unwrap();
    }
    assert_same(&wal, &model, "after the crash");
    assert_eq!(wal.recovery().entries, kept);
}

#[test]
fn an_append_into_the_log_truncates_it_even_across_segments() {
    let dir = SimDir::new(3);
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    for (lo, hi, term) in [(1, 120, 1), (100, 130, 2), (40, 45, 3), (46, 60, 3)] {
        let batch = entries(lo, hi, term);
        wal.append(batch.clone()).unwrap();
        model.append(batch).unwrap();
        wal.sync().unwrap();
        assert_same(&wal, &model, &format!("after {lo}..={hi}"));
    }
    drop(wal);
    dir.crash();
    let mut wal = open(&dir);
    assert_same(&wal, &model, "reopened");
    // The reopened log keeps appending after the truncated tail.
    wal.append(entries(61, 70, 3)).unwrap();
    model.append(entries(61, 70, 3)).unwrap();
    wal.sync().unwrap();
    drop(wal);
    let wal = open(&dir);
    assert_same(&wal, &model, "appended after reopening");
}

#[test]
fn entries_that_leave_a_gap_are_refused() {
    let dir = SimDir::new(4);
    let mut wal = open(&dir);
    wal.append(entries(1, 3, 1)).unwrap();
    assert!(matches!(
        wal.append(entries(5, 6, 1)),
        Err(Error::Raft(StorageError::Gap {
            first: 5,
            last_index: 3
        }))
    ));
    let mut broken = entries(4, 6, 1);
    broken.remove(1);
    assert!(matches!(
        wal.append(broken),
        Err(Error::Raft(StorageError::Gap { .. }))
    ));
    assert_eq!(wal.last_index().unwrap(), 3);
}

fn snapshot(index: u64, term: u64, voters: &[u64]) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            conf_state: ConfState {
                voters: voters.to_vec(),
                ..ConfState::default()
            },
        },
        data: format!("state at {index}").into_bytes().into(),
    }
}

#[test]
fn an_installed_snapshot_empties_the_log_durably() {
    let dir = SimDir::new(5);
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    // A log whose entries 1..=80 conflict with the leader's snapshot at 50.
    wal.append(entries(1, 80, 1)).unwrap();
    model.append(entries(1, 80, 1)).unwrap();
    wal.sync().unwrap();
    wal.apply_snapshot(snapshot(50, 4, &[1, 2, 3])).unwrap();
    model.apply_snapshot(snapshot(50, 4, &[1, 2, 3])).unwrap();
    assert_same(&wal, &model, "installed");
    // Entries after the snapshot, then a crash: the stale 51..=80 of term 1
    // must not come back, the new ones must stay.
    wal.append(entries(51, 55, 4)).unwrap();
    model.append(entries(51, 55, 4)).unwrap();
    wal.set_hard_state(hs(4, None, 52)).unwrap();
    model.set_hard_state(hs(4, None, 52));
    wal.sync().unwrap();
    drop(wal);
    dir.crash();
    let wal = open(&dir);
    assert_same(&wal, &model, "after the crash");
    assert!(matches!(
        open(&dir).apply_snapshot(snapshot(50, 4, &[1])),
        Err(Error::Raft(StorageError::SnapshotOutOfDate {
            index: 50,
            ..
        }))
    ));
}

#[test]
fn compaction_deletes_whole_segments_below_the_snapshot() {
    let dir = SimDir::new(6);
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    wal.append(entries(1, 300, 2)).unwrap();
    model.append(entries(1, 300, 2)).unwrap();
    wal.set_hard_state(hs(2, Some(1), 280)).unwrap();
    model.set_hard_state(hs(2, Some(1), 280));
    wal.sync().unwrap();
    let segments = wal.segment_count();
    let conf = ConfState {
        voters: vec![1, 2, 3],
        ..ConfState::default()
    };
    wal.create_snapshot(250, conf.clone(), b"app state".to_vec())
        .unwrap();
    model
        .create_snapshot(250, conf.clone(), b"app state".to_vec())
        .unwrap();
    assert!(matches!(
        wal.compact(251),
        Err(Error::Raft(StorageError::NotSnapshotted {
            index: 251,
            snapshot_index: 250
        }))
    ));
    wal.compact(240).unwrap();
    model.compact(240).unwrap();
    assert!(
        wal.segment_count() < segments / 2,
        "{} of {segments} left",
        wal.segment_count()
    );
    assert_same(&wal, &model, "compacted");
    assert!(matches!(
        wal.compact(240),
        Err(Error::Raft(StorageError::Compacted { index: 240, .. }))
    ));
    assert!(matches!(
        wal.entries(240, 250, u64::MAX),
        Err(StorageError::Compacted { .. })
    ));
    drop(wal);
    dir.crash();
    let wal = open(&dir);
    assert_same(&wal, &model, "compacted, after a crash");
}

#[test]
fn reads_honour_the_size_limit_and_come_from_disk_or_memory_alike() {
    let dir = SimDir::new(7);
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    wal.append(entries(1, 200, 1)).unwrap();
    model.append(entries(1, 200, 1)).unwrap();
    wal.sync().unwrap();
    for (lo, hi) in [(1, 201), (17, 90), (150, 201), (199, 200)] {
        for max in [0, 100, 1000, 5000, u64::MAX] {
            assert_eq!(
                wal.entries(lo, hi, max).unwrap(),
                model.entries(lo, hi, max).unwrap(),
                "{lo}..{hi} max {max}"
            );
        }
    }
    assert!(matches!(
        wal.entries(1, 202, u64::MAX),
        Err(StorageError::Unavailable { .. })
    ));
    assert!(matches!(
        wal.entries(0, 2, u64::MAX),
        Err(StorageError::Compacted { .. })
    ));
}

#[test]
fn bootstrap_matches_mem_storage() {
    let dir = SimDir::new(8);
    let mut wal = open(&dir);
    wal.bootstrap(&[3, 1, 2]).unwrap();
    let model = MemStorage::bootstrap(&[3, 1, 2]);
    assert_same(&wal, &model, "bootstrapped");
    assert!(wal.bootstrap(&[1]).is_err(), "bootstrap twice");
    drop(wal);
    dir.crash();
    assert_same(&open(&dir), &model, "bootstrapped, after a crash");
}

#[test]
fn options_out_of_range_are_refused() {
    for segment_bytes in [0, 4095, (1 << 30) + 1] {
        let options = Options {
            segment_bytes,
            ..Options::default()
        };
        assert!(matches!(
            Wal::open(SimDir::new(9), options),
            Err(Error::InvalidOptions {
                field: "segment_bytes",
                ..
            })
        ));
    }
    let options = Options {
        zero_ahead_bytes: u64::MAX,
        ..Options::default()
    };
    assert!(matches!(
        Wal::open(SimDir::new(9), options),
        Err(Error::InvalidOptions {
            field: "zero_ahead_bytes",
            ..
        })
    ));
    // At the limit, and off, the log opens.
    for zero_ahead_bytes in [0, 1 << 30] {
        let options = Options {
            zero_ahead_bytes,
            ..Options::default()
        };
        assert!(Wal::open(SimDir::new(9), options).is_ok());
    }
    let options = Options {
        write_behind_bytes: (1 << 30) + 1,
        ..Options::default()
    };
    assert!(matches!(
        Wal::open(SimDir::new(9), options),
        Err(Error::InvalidOptions {
            field: "write_behind_bytes",
            ..
        })
    ));
    for write_behind_bytes in [0, 1, 1 << 30] {
        let options = Options {
            write_behind_bytes,
            ..Options::default()
        };
        assert!(Wal::open(SimDir::new(9), options).is_ok());
    }
}

#[test]
fn the_index_takes_at_most_sixteen_bytes_per_entry() {
    let dir = SimDir::new(10);
    let mut wal = Wal::open(
        dir,
        Options {
            segment_bytes: 1 << 20,
            ..Options::default()
        },
    )
    .unwrap();
    for k in 0..100u64 {
        let batch: Vec<_> = (k * 1000 + 1..=k * 1000 + 1000)
            .map(|i| synod_raft_core::Entry {
                term: 1 + k / 10,
                index: i,
                payload: synod_raft_core::Payload::Command(vec![7u8; 16].into()),
            })
            .collect();
        wal.append(batch).unwrap();
        wal.sync().unwrap();
    }
    let per_entry = wal.index_memory_bytes() as f64 / 100_000.0;
    assert!(per_entry <= 16.0, "{per_entry} bytes per entry");
    println!("index: {per_entry:.2} bytes per entry");
}

#[test]
fn a_failed_sync_is_never_retried_and_acknowledged_entries_survive() {
    for (op, fault) in [
        (Op::Sync, Fault::Eio),
        (Op::Write, Fault::Eio),
        (Op::Write, Fault::Enospc),
    ] {
        let dir = SimDir::new(11);
        let mut wal = open(&dir);
        wal.append(entries(1, 10, 1)).unwrap();
        wal.sync().unwrap();
        dir.fail(op, 0, fault);
        // The append may roll (the sync above ended its batch on a page
        // boundary, filling the small segment), and the roll's own write
        // or sync then fails; otherwise the sync does.
        let failed = wal.append(entries(11, 20, 1)).and_then(|()| wal.sync());
        assert!(
            matches!(failed, Err(Error::Io { .. })),
            "{op:?}: {failed:?}"
        );
        // Everything after is refused, the sync above included: it is
        // never retried in the hope that it worked.
        assert!(matches!(wal.sync(), Err(Error::Poisoned)), "{op:?}");
        assert!(matches!(
            wal.append(entries(21, 21, 1)),
            Err(Error::Poisoned)
        ));
        assert!(matches!(
            wal.set_hard_state(hs(2, None, 5)),
            Err(Error::Poisoned)
        ));
        assert!(matches!(
            wal.compact(1),
            Err(Error::Poisoned | Error::Raft(_))
        ));
        drop(wal);
        dir.crash();
        let wal = open(&dir);
        let last = wal.last_index().unwrap();
        assert!((10..=20).contains(&last), "{op:?}: last {last}");
        assert_eq!(
            wal.entries(1, 11, u64::MAX).unwrap(),
            entries(1, 10, 1),
            "{op:?}: acknowledged entries"
        );
    }
}

#[test]
fn enospc_while_rolling_to_a_new_segment_refuses_writes_until_reopened() {
    let dir = SimDir::new(12);
    let mut wal = open(&dir);
    wal.append(entries(1, 10, 1)).unwrap();
    wal.sync().unwrap();
    dir.fail(Op::Create, 0, Fault::Enospc);
    let err = wal.append(entries(11, 200, 1)).and_then(|()| wal.sync());
    assert!(matches!(err, Err(Error::Io { .. })), "{err:?}");
    assert!(matches!(
        wal.append(entries(11, 11, 1)),
        Err(Error::Poisoned)
    ));
    drop(wal);
    dir.crash();
    let mut wal = open(&dir);
    assert!(wal.last_index().unwrap() >= 10);
    // Reopened, it writes again.
    let next = wal.last_index().unwrap() + 1;
    wal.append(entries(next, next + 300, 1)).unwrap();
    wal.sync().unwrap();
}

// Found by the wal_open fuzzer: a stray byte after the data of the last
// segment (pieces of a lost batch a disk wrote out of order look like
// this) is harmless when the log opens, but once appends fill the
// segment and seal it, it used to read as damage at the next open.
// Recovery now zeroes everything after the tail's data.
#[test]
fn stray_bytes_after_the_tail_never_turn_into_damage() {
    let dir = SimDir::new(13);
    let mut wal = open(&dir);
    wal.append(entries(1, 5, 1)).unwrap();
    wal.sync().unwrap();
    drop(wal);
    // Stray bytes every 16 bytes from a little past the data to the end of
    // the preallocated 4 KiB segment: the data still ends at a zero header,
    // but wherever later records stop, a stray byte follows within a header.
    let name = synod_wal::segment_name(1);
    let bytes = dir.read_all(&name).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
    let mut f = dir.open(&name).unwrap();
    for at in (end as u64 + 64..4096).step_by(16) {
        f.write_at(at, &[0x5A]).unwrap();
    }
    f.sync_data().unwrap();
    let mut wal = open(&dir);
    let mut model = MemStorage::new();
    model.append(entries(1, 5, 1)).unwrap();
    for k in 0..40u64 {
        let batch = entries(6 + k * 5, 10 + k * 5, 1);
        wal.append(batch.clone()).unwrap();
        model.append(batch).unwrap();
        wal.sync().unwrap();
    }
    assert!(wal.segment_count() > 2, "the first segment was sealed");
    drop(wal);
    assert_same(&open(&dir), &model, "reopened after the seal");
}
