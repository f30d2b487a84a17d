//! `Wal::buffers_hard_state` tells a driver whether setting a hard state
//! is a memory copy (done on its own task) or may touch files (handed to
//! its disk thread). It must never say "memory" for a write that rolls
//! to a new segment.

use crate::support;

use synod_wal::Wal;
use synod_wal::fs::{Dir, SimDir};

use support::{entries, hs, small};

/// The files in `dir` and their lengths.
fn files(dir: &SimDir) -> Vec<(String, usize)> {
    let mut names = dir.list().unwrap();
    names.sort();
    (names.into_iter())
        .map(|n| {
            let len = dir.read_all(&n).unwrap().len();
            (n, len)
        })
        .collect()
}

#[test]
fn a_hard_state_is_buffered_until_its_record_would_roll_the_segment() {
    let dir = SimDir::new(31);
    let mut wal = Wal::open(dir.clone(), small()).unwrap();
    wal.append(entries(1, 3, 1)).unwrap();
    wal.sync().unwrap();
    let mut commit = 0;
    let mut buffered = 0;
    // Commit indexes alone, never synced: each is a record in the buffer
    // until one would not fit in the 4 KiB segment.
    loop {
        commit += 1;
        let next = hs(1, Some(1), commit);
        if !wal.buffers_hard_state(&next) {
            break;
        }
        let (before, segments) = (files(&dir), wal.segment_count());
        wal.set_hard_state(next).unwrap();
        assert_eq!(files(&dir), before, "commit {commit} touched a file");
        assert_eq!(wal.segment_count(), segments);
        buffered += 1;
        assert!(buffered < 10_000, "a 4 KiB segment never filled");
    }
    assert!(buffered > 50, "only {buffered} records fit");
    // The one it refused does roll, touching files.
    let (before, segments) = (files(&dir), wal.segment_count());
    wal.set_hard_state(hs(1, Some(1), commit)).unwrap();
    assert_eq!(wal.segment_count(), segments + 1, "the refused one rolls");
    assert_ne!(files(&dir), before);
    // An unchanged hard state writes nothing, full segment or not.
    assert!(wal.buffers_hard_state(&hs(1, Some(1), commit)));
    // And what was buffered is durable after a sync.
    wal.sync().unwrap();
    drop(wal);
    let wal = Wal::open(dir, small()).unwrap();
    assert_eq!(wal.hard_state(), hs(1, Some(1), commit));
}
