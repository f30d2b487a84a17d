//! A leader's snapshot staged piece by piece in the log's directory:
//! installed from the staging file, its data in a file of its own that is
//! read back piece by piece and checked on open; a crash at any step of
//! staging or installing leaves the old snapshot or the new one, whole.

use synod_protocol::{
    Bytes, ConfState, Entry, Payload, SnapshotMeta, SnapshotPiece, Storage, StorageError,
};
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};
use synod_wal::{Error, Options, STAGING_FILE, Wal, data_name};

fn options() -> Options {
    Options {
        segment_bytes: 4096,
        preallocate: false,
        zero_ahead_bytes: 0,
        recycle_segments: 2,
        write_behind_bytes: 0,
        pad_syncs_from_bytes: 0,
        cache_bytes: 1024,
    }
}

fn meta(index: u64) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term: 2,
        conf_state: ConfState {
            voters: vec![1, 2, 3],
            ..ConfState::default()
        },
    }
}

/// The log's own snapshot at 3 (its entries are of term 1).
fn own() -> SnapshotMeta {
    SnapshotMeta { term: 1, ..meta(3) }
}

fn data(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn pieces(meta: &SnapshotMeta, data: &Bytes, size: usize) -> Vec<SnapshotPiece> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let end = (offset + size).min(data.len());
        out.push(SnapshotPiece {
            meta: meta.clone(),
            total_bytes: data.len() as u64,
            offset: offset as u64,
            data: data.slice(offset..end),
        });
        offset = end;
        if offset >= data.len() {
            return out;
        }
    }
}

/// A bootstrapped log with a few entries and a snapshot of its own at 3.
fn fresh(seed: u64) -> (SimDir, Wal<SimDir>) {
    let dir = SimDir::new(seed);
    let mut wal = Wal::open(dir.clone(), options()).unwrap();
    wal.bootstrap(&[1, 2, 3]).unwrap();
    let entries = (2..=5)
        .map(|index| Entry {
            term: 1,
            index,
            payload: Payload::Command(vec![index as u8; 10].into()),
        })
        .collect::<Vec<_>>();
    wal.append(entries).unwrap();
    wal.sync().unwrap();
    wal.create_snapshot(3, meta(3).conf_state, data(500, 1))
        .unwrap();
    (dir, wal)
}

fn read_all(wal: &Wal<SimDir>) -> (SnapshotMeta, Bytes) {
    let (meta, len) = wal.snapshot_meta(0).unwrap();
    let mut out = Vec::new();
    while (out.len() as u64) < len {
        let piece = wal
            .snapshot_piece(meta.index, out.len() as u64, 97)
            .unwrap();
        assert!(!piece.is_empty() && piece.len() <= 97);
        out.extend_from_slice(&piece);
    }
    (meta, out.into())
}

#[test]
fn a_staged_snapshot_is_installed_read_back_in_pieces_and_reopened() {
    let (dir, mut wal) = fresh(1);
    wal.set_stages_snapshots(true);
    assert!(wal.stages_snapshots());
    let snap = data(10_000, 7);
    for p in pieces(&meta(40), &snap, 333) {
        wal.stage_snapshot_piece(&p).unwrap();
    }
    wal.install_staged_snapshot(&meta(40)).unwrap();
    assert_eq!(read_all(&wal), (meta(40), snap.clone()));
    assert_eq!(wal.snapshot(0).unwrap().data, snap);
    assert_eq!(wal.first_index(), Ok(41));
    assert_eq!(wal.last_index(), Ok(40));
    // Past the end, or of a snapshot no longer the latest: refused.
    assert_eq!(
        wal.snapshot_piece(40, 10_001, 1),
        Err(StorageError::SnapshotTemporarilyUnavailable)
    );
    assert_eq!(
        wal.snapshot_piece(3, 0, 1),
        Err(StorageError::SnapshotTemporarilyUnavailable)
    );
    drop(wal);
    let names = dir.list().unwrap();
    assert!(names.contains(&data_name(40)), "{names:?}");
    assert!(
        !names.contains(&data_name(3)),
        "the old data is gone: {names:?}"
    );
    assert!(!names.contains(&STAGING_FILE.to_string()), "{names:?}");
    let wal = Wal::open(dir, options()).unwrap();
    assert_eq!(read_all(&wal), (meta(40), snap));
    assert_eq!(wal.first_index(), Ok(41));
}

#[test]
fn pieces_that_do_not_continue_and_incomplete_installs_are_refused() {
    let (_dir, mut wal) = fresh(2);
    let snap = data(1_000, 3);
    let ps = pieces(&meta(40), &snap, 300);
    wal.stage_snapshot_piece(&ps[0]).unwrap();
    // A gap, a piece of another snapshot, a piece past the end.
    assert!(matches!(
        wal.stage_snapshot_piece(&ps[2]),
        Err(Error::Raft(_))
    ));
    let mut other = ps[1].clone();
    other.meta = meta(41);
    assert!(matches!(
        wal.stage_snapshot_piece(&other),
        Err(Error::Raft(_))
    ));
    let mut long = ps[1].clone();
    long.total_bytes = 400;
    assert!(matches!(
        wal.stage_snapshot_piece(&long),
        Err(Error::Raft(_))
    ));
    // Not all staged yet, or another snapshot: nothing installed.
    assert!(matches!(
        wal.install_staged_snapshot(&meta(40)),
        Err(Error::Raft(_))
    ));
    assert!(matches!(
        wal.install_staged_snapshot(&meta(41)),
        Err(Error::Raft(_))
    ));
    assert_eq!(wal.snapshot_meta(0).unwrap().0, own());
    // The refusals changed nothing: the transfer goes on.
    for p in &ps[1..] {
        wal.stage_snapshot_piece(p).unwrap();
    }
    wal.install_staged_snapshot(&meta(40)).unwrap();
    assert_eq!(read_all(&wal).1, snap);
    // An older snapshot than the one installed: out of date.
    let old = pieces(&meta(20), &data(10, 1), 10);
    wal.stage_snapshot_piece(&old[0]).unwrap();
    assert!(matches!(
        wal.install_staged_snapshot(&meta(20)),
        Err(Error::Raft(StorageError::SnapshotOutOfDate { .. }))
    ));
}

// A crash while staging, or after any number of the install's file
// operations (each kind failed in turn, then a crash): reopening gives the
// old snapshot or the new one, whole and checked, never a mix; a staging
// file left behind is removed.
#[test]
fn a_crash_at_any_step_leaves_the_old_snapshot_or_the_new_whole() {
    let snap = data(5_000, 9);
    let old = data(500, 1);
    let mut saw_old = 0;
    let mut saw_new = 0;
    for op in [
        Op::Write,
        Op::Sync,
        Op::Create,
        Op::Rename,
        Op::Remove,
        Op::DirSync,
    ] {
        for after in 0..12u64 {
            let (dir, mut wal) = fresh(100 + after);
            dir.fail(op, after, Fault::Eio);
            let done = pieces(&meta(40), &snap, 700)
                .iter()
                .try_for_each(|p| wal.stage_snapshot_piece(p))
                .and_then(|()| wal.install_staged_snapshot(&meta(40)));
            drop(wal);
            dir.clear_faults();
            dir.crash();
            let wal = Wal::open(dir.clone(), options())
                .unwrap_or_else(|e| panic!("{op:?} after {after}: reopen: {e}"));
            let (m, bytes) = read_all(&wal);
            if m.index == 40 {
                assert_eq!(bytes, snap, "{op:?} after {after}");
                saw_new += 1;
            } else {
                assert!(
                    done.is_err(),
                    "{op:?} after {after}: an installed snapshot was lost"
                );
                assert_eq!((m, bytes), (own(), old.clone()), "{op:?} after {after}");
                saw_old += 1;
            }
            assert!(!dir.list().unwrap().contains(&STAGING_FILE.to_string()));
        }
    }
    assert!(saw_old > 0 && saw_new > 0, "old {saw_old}, new {saw_new}");
}

#[test]
fn a_damaged_data_file_is_a_typed_error_on_open() {
    let (dir, wal) = fresh(4);
    drop(wal);
    let name = data_name(3);
    let mut f = dir.open(&name).unwrap();
    f.write_at(10, b"garbage").unwrap();
    f.sync_data().unwrap();
    assert!(matches!(
        Wal::open(dir.clone(), options()),
        Err(Error::BadRecord { .. })
    ));
    let mut f = dir.open(&name).unwrap();
    f.set_len(100).unwrap();
    f.sync_data().unwrap();
    assert!(matches!(
        Wal::open(dir.clone(), options()),
        Err(Error::BadRecord { .. })
    ));
    dir.remove(&name).unwrap();
    dir.sync().unwrap();
    assert!(matches!(
        Wal::open(dir, options()),
        Err(Error::BadRecord { .. })
    ));
}

/// Reads `len` bytes of `data(len, seed)`'s pattern, then fails if `fail`.
struct Source {
    at: usize,
    len: usize,
    fail: bool,
}

impl std::io::Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.len {
            if self.fail {
                return Err(std::io::Error::other("the state machine's reader broke"));
            }
            return Ok(0);
        }
        let n = buf.len().min(self.len - self.at).min(1000);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = ((self.at + i) as u8).wrapping_mul(31).wrapping_add(5);
        }
        self.at += n;
        Ok(n)
    }
}

// A snapshot created from a stream is written as it is read; a reader that
// fails leaves the log usable and the old snapshot in place.
#[test]
fn a_snapshot_is_created_from_a_stream_and_a_failing_stream_changes_nothing() {
    let (dir, mut wal) = fresh(5);
    let broken = Source {
        at: 0,
        len: 3_000,
        fail: true,
    };
    let err = wal
        .create_snapshot_from(4, meta(4).conf_state, &mut { broken })
        .unwrap_err();
    assert!(matches!(err, Error::Raft(StorageError::Other(_))), "{err}");
    assert_eq!(wal.snapshot_meta(0).unwrap().0, own());
    let created = wal
        .create_snapshot_from(
            4,
            meta(4).conf_state,
            &mut Source {
                at: 0,
                len: 2_500_000,
                fail: false,
            },
        )
        .unwrap();
    assert_eq!(created.index, 4);
    let (m, bytes) = read_all(&wal);
    assert_eq!((m.index, bytes.len()), (4, 2_500_000));
    assert_eq!(bytes, data(2_500_000, 5));
    wal.compact(4).unwrap();
    drop(wal);
    let wal = Wal::open(dir, options()).unwrap();
    assert_eq!(read_all(&wal).1, data(2_500_000, 5));
}
