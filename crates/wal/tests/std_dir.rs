//! The real file system through the same traits as the simulated one.

use std::io::ErrorKind;

use synod_wal::fs::{Dir, File, StdDir};

#[test]
fn files_read_write_rename_remove_and_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path().join("wal")).unwrap();
    let mut f = dir.create("a").unwrap();
    assert_eq!(
        dir.create("a").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    f.write_at(4, b"xy").unwrap();
    f.sync_data().unwrap();
    assert_eq!(f.size_bytes().unwrap(), 6);
    let mut buf = [9u8; 8];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"\0\0\0\0xy");
    f.set_len(5).unwrap();
    assert_eq!(f.size_bytes().unwrap(), 5);
    dir.create("b").unwrap();
    dir.rename("a", "c").unwrap();
    dir.remove("b").unwrap();
    dir.sync().unwrap();
    assert_eq!(dir.list().unwrap(), ["c"]);
    let reopened = dir.open("c").unwrap();
    assert_eq!(reopened.size_bytes().unwrap(), 5);
    assert_eq!(dir.open("a").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn names_cannot_leave_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path()).unwrap();
    for bad in ["", ".", "..", "../x", "a/b", "a\0b"] {
        let err = dir.create(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[test]
fn a_file_is_not_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("file");
    std::fs::write(&path, b"x").unwrap();
    assert!(StdDir::open(&path).is_err());
}

// The whole log on the real file system: fallocated segments, rolling,
// a snapshot with compaction, and a reopen that finds it all.
#[test]
fn the_log_round_trips_through_the_real_file_system() {
    use synod_raft_core::{ConfState, Entry, HardState, Payload, Storage};
    use synod_wal::{Options, Wal};

    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        segment_bytes: 64 << 10,
        ..Options::default()
    };
    let entry = |index: u64| Entry {
        term: 1 + index / 500,
        index,
        payload: Payload::Command(vec![(index % 251) as u8; 300].into()),
    };
    let mut wal = Wal::open(StdDir::open(tmp.path()).unwrap(), options).unwrap();
    for chunk in 0..20u64 {
        wal.append(
            (chunk * 100 + 1..=chunk * 100 + 100)
                .map(entry)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        wal.set_hard_state(HardState {
            term: 1 + chunk * 100 / 500,
            vote: Some(2),
            commit: chunk * 100 + 90,
        })
        .unwrap();
        wal.sync().unwrap();
    }
    assert!(wal.segment_count() >= 8, "{} segments", wal.segment_count());
    // Preallocated: the active segment is already full size on disk.
    let active = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".wal"))
        .max_by_key(|e| e.file_name())
        .unwrap();
    assert_eq!(active.metadata().unwrap().len(), 64 << 10);
    let conf = ConfState {
        voters: vec![1, 2, 3],
        ..ConfState::default()
    };
    wal.create_snapshot(1500, conf, b"state".to_vec()).unwrap();
    wal.compact(1400).unwrap();
    let segments = wal.segment_count();
    drop(wal);
    let wal = Wal::open(StdDir::open(tmp.path()).unwrap(), options).unwrap();
    assert_eq!(wal.segment_count(), segments);
    assert_eq!(wal.last_index().unwrap(), 2000);
    assert!(wal.first_index().unwrap() <= 1401);
    assert_eq!(wal.hard_state().commit, 1990);
    assert_eq!(
        wal.entries(1401, 2001, u64::MAX).unwrap(),
        (1401..=2000).map(entry).collect::<Vec<_>>()
    );
    assert_eq!(wal.snapshot(0).unwrap().meta.index, 1500);
}
