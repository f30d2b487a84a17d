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

// Large commands go to the file in one vectored write (pwritev on Linux)
// from the entries' own buffers; the simulated file system concatenates
// the pieces into one write. Both must leave the same bytes, including a
// batch of more pieces than one pwritev call takes (IOV_MAX, 1024), and
// the real log must read its entries back.
#[test]
fn vectored_writes_leave_the_bytes_a_single_write_would() {
    use synod_raft_core::{Entry, Payload, Storage};
    use synod_wal::fs::SimDir;
    use synod_wal::record::SPLICE_MIN_BYTES;
    use synod_wal::{Options, Wal};

    let options = Options {
        segment_bytes: 16 << 20,
        ..Options::default()
    };
    let entry = |index: u64| {
        // Large and small bodies alternate, with odd lengths, so the
        // spliced pieces leave the owned bytes between them unaligned.
        let len = if index.is_multiple_of(2) {
            SPLICE_MIN_BYTES + (index as usize * 7) % 13
        } else {
            (index as usize * 5) % 40
        };
        Entry {
            term: 1,
            index,
            payload: Payload::Command(
                (0..len)
                    .map(|i| (i as u64 ^ index) as u8)
                    .collect::<Vec<_>>()
                    .into(),
            ),
        }
    };
    let batches: [(u64, u64); 3] = [(1, 10), (11, 1_300), (1_301, 1_320)];
    let tmp = tempfile::tempdir().unwrap();
    let real = StdDir::open(tmp.path()).unwrap();
    let sim = SimDir::new(7);
    let mut on_disk = Wal::open(real.clone(), options).unwrap();
    let mut in_memory = Wal::open(sim.clone(), options).unwrap();
    for (lo, hi) in batches {
        let batch: Vec<Entry> = (lo..=hi).map(entry).collect();
        on_disk.append(batch.clone()).unwrap();
        in_memory.append(batch).unwrap();
        on_disk.sync().unwrap();
        in_memory.sync().unwrap();
    }
    let names = real.list().unwrap();
    assert_eq!(names, sim.list().unwrap());
    for name in &names {
        let bytes = std::fs::read(tmp.path().join(name)).unwrap();
        assert!(bytes == sim.read_all(name).unwrap(), "{name} differs");
    }
    drop(on_disk);
    let reopened = Wal::open(real, options).unwrap();
    assert_eq!(reopened.last_index().unwrap(), 1_320);
    assert_eq!(
        reopened.entries(1, 1_321, u64::MAX).unwrap(),
        (1..=1_320).map(entry).collect::<Vec<_>>()
    );
}

#[test]
fn a_vectored_write_of_many_pieces_lands_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path()).unwrap();
    let mut f = dir.create("v").unwrap();
    let pieces: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| vec![(i % 251) as u8; (i % 7) as usize])
        .collect();
    let slices: Vec<std::io::IoSlice<'_>> =
        pieces.iter().map(|p| std::io::IoSlice::new(p)).collect();
    f.write_vectored_at(100, &slices).unwrap();
    let want: Vec<u8> = pieces.concat();
    let mut got = vec![0u8; want.len()];
    assert_eq!(f.read_at(100, &mut got).unwrap(), want.len());
    assert_eq!(got, want);
    assert_eq!(f.size_bytes().unwrap(), 100 + want.len() as u64);
}

#[test]
fn a_vectored_write_with_empty_pieces_at_either_end_writes_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path()).unwrap();
    let mut f = dir.create("v").unwrap();
    let empty: &[u8] = &[];
    let slices = [
        std::io::IoSlice::new(empty),
        std::io::IoSlice::new(b"abc"),
        std::io::IoSlice::new(empty),
        std::io::IoSlice::new(b"de"),
        std::io::IoSlice::new(empty),
    ];
    f.write_vectored_at(2, &slices).unwrap();
    f.write_vectored_at(7, &[std::io::IoSlice::new(empty)])
        .unwrap();
    let mut got = [9u8; 8];
    assert_eq!(f.read_at(0, &mut got).unwrap(), 7);
    assert_eq!(&got[..7], b"\0\0abcde");
}
