//! The simulated file system keeps the durability rules of `fs` (module
//! docs): what a sync returned for survives, what it did not may be lost
//! or torn, directory changes need a directory sync, and a failed sync
//! loses its writes for good.

use std::io::ErrorKind;

use proptest::prelude::*;
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};

fn read(dir: &SimDir, name: &str) -> Vec<u8> {
    dir.read_all(name).unwrap()
}

#[test]
fn synced_bytes_survive_a_crash_and_unsynced_ones_may_not() {
    let (mut kept, mut lost) = (0, 0);
    for seed in 0..64 {
        let dir = SimDir::new(seed);
        let mut f = dir.create("log").unwrap();
        dir.sync().unwrap();
        f.write_at(0, b"durable").unwrap();
        f.sync_data().unwrap();
        f.write_at(7, b"-maybe").unwrap();
        dir.crash();
        let bytes = read(&dir, "log");
        assert!(bytes.starts_with(b"durable"), "seed {seed}: {bytes:?}");
        assert!(
            b"durable-maybe".starts_with(&bytes),
            "seed {seed}: {bytes:?}"
        );
        if bytes.len() == 13 {
            kept += 1;
        } else if bytes.len() == 7 {
            lost += 1;
        }
    }
    assert!(
        kept > 0 && lost > 0,
        "both outcomes occur: kept {kept}, lost {lost}"
    );
}

#[test]
fn a_directory_change_needs_a_directory_sync() {
    let dir = SimDir::new(1);
    dir.create("a").unwrap().sync_data().unwrap();
    dir.create("b").unwrap().sync_data().unwrap();
    dir.sync().unwrap();
    dir.create("new").unwrap().sync_data().unwrap();
    dir.rename("a", "renamed").unwrap();
    dir.remove("b").unwrap();
    dir.crash();
    assert_eq!(
        dir.list().unwrap(),
        ["a", "b"],
        "as of the last directory sync"
    );

    dir.create("new").unwrap();
    dir.rename("a", "renamed").unwrap();
    dir.remove("b").unwrap();
    dir.sync().unwrap();
    dir.crash();
    assert_eq!(dir.list().unwrap(), ["new", "renamed"]);
}

// PostgreSQL's "fsyncgate": after a failed fsync the kernel may have
// dropped the dirty pages; a later fsync succeeds without writing them.
#[test]
fn a_failed_sync_loses_its_writes_even_after_a_later_sync() {
    let dir = SimDir::new(2);
    let mut f = dir.create("log").unwrap();
    dir.sync().unwrap();
    dir.fail(Op::Sync, 0, Fault::Eio);
    f.write_at(0, b"first").unwrap();
    let err = f.sync_data().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(read(&dir, "log"), b"first", "reads still see it");
    f.write_at(5, b"second").unwrap();
    f.sync_data().unwrap();
    dir.crash();
    assert_eq!(
        read(&dir, "log"),
        b"\0\0\0\0\0second",
        "the first write is gone"
    );
}

#[test]
fn faults_fire_once_after_the_given_count() {
    let dir = SimDir::new(3);
    let mut f = dir.create("log").unwrap();
    dir.fail(Op::Write, 2, Fault::Enospc);
    f.write_at(0, b"a").unwrap();
    f.write_at(1, b"b").unwrap();
    let err = f.write_at(2, b"cdef").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    // A failed write may have written a prefix of its bytes.
    assert!(b"abcdef".starts_with(&read(&dir, "log")));
    f.write_at(2, b"cdef").unwrap();
    assert_eq!(read(&dir, "log"), b"abcdef");
    dir.fail(Op::DirSync, 0, Fault::Eio);
    assert!(dir.sync().is_err());
    dir.sync().unwrap();
}

#[test]
fn handles_go_stale_at_a_crash() {
    let dir = SimDir::new(4);
    let mut f = dir.create("log").unwrap();
    dir.sync().unwrap();
    dir.crash();
    let err = f.write_at(0, b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StaleNetworkFileHandle);
    let mut again = dir.open("log").unwrap();
    again.write_at(0, b"x").unwrap();
}

#[test]
fn names_and_lengths_follow_posix() {
    let dir = SimDir::new(5);
    let mut f = dir.create("log").unwrap();
    assert_eq!(
        dir.create("log").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(dir.open("none").unwrap_err().kind(), ErrorKind::NotFound);
    f.write_at(4, b"xy").unwrap();
    assert_eq!(f.size_bytes().unwrap(), 6);
    let mut buf = [9u8; 8];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"\0\0\0\0xy");
    assert_eq!(f.read_at(6, &mut buf).unwrap(), 0);
    f.set_len(5).unwrap();
    assert_eq!(read(&dir, "log"), b"\0\0\0\0x");
}

#[test]
fn a_seed_replays_bit_for_bit() {
    let run = |seed| {
        let dir = SimDir::new(seed);
        let mut f = dir.create("log").unwrap();
        dir.sync().unwrap();
        for k in 0..20u8 {
            f.write_at(u64::from(k) * 3, &[k; 5]).unwrap();
            if k % 7 == 0 {
                f.sync_data().unwrap();
            }
        }
        dir.crash();
        read(&dir, "log")
    };
    for seed in 0..16 {
        assert_eq!(run(seed), run(seed), "seed {seed}");
    }
}

#[derive(Debug, Clone)]
enum Step {
    Write { offset: u8, len: u8, byte: u8 },
    Sync,
    FailedSync,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..24, 1u8..8, any::<u8>()).prop_map(|(offset, len, byte)| Step::Write { offset, len, byte }),
        2 => Just(Step::Sync),
        1 => Just(Step::FailedSync),
    ]
}

fn apply(bytes: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if bytes.len() < offset + data.len() {
        bytes.resize(offset + data.len(), 0);
    }
    bytes[offset..offset + data.len()].copy_from_slice(data);
}

proptest! {
    /// After any history of writes, syncs and failed syncs, a crash leaves
    /// the image of the last successful sync (without what failed syncs
    /// lost) plus a prefix of the later writes, the last possibly torn:
    /// checked against every outcome the rules allow.
    #[test]
    fn a_crash_keeps_the_synced_image_and_a_prefix_of_later_writes(
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..24),
    ) {
        let dir = SimDir::new(seed);
        let mut f = dir.create("log").unwrap();
        dir.sync().unwrap();
        let mut durable: Vec<u8> = Vec::new();
        let mut pending: Vec<(usize, Vec<u8>)> = Vec::new();
        for s in &steps {
            match *s {
                Step::Write { offset, len, byte } => {
                    let data = vec![byte; usize::from(len)];
                    f.write_at(u64::from(offset), &data).unwrap();
                    pending.push((usize::from(offset), data));
                }
                Step::Sync => {
                    f.sync_data().unwrap();
                    for (offset, data) in pending.drain(..) {
                        apply(&mut durable, offset, &data);
                    }
                }
                Step::FailedSync => {
                    dir.fail(Op::Sync, 0, Fault::Eio);
                    prop_assert!(f.sync_data().is_err());
                    pending.clear();
                }
            }
        }
        dir.crash();
        let got = read(&dir, "log");
        let mut allowed = false;
        for kept in 0..=pending.len() {
            let mut image = durable.clone();
            for (offset, data) in &pending[..kept] {
                apply(&mut image, *offset, data);
            }
            if image == got {
                allowed = true;
            }
            if let Some((offset, data)) = pending.get(kept) {
                for torn in 0..=data.len() {
                    let mut t = image.clone();
                    apply(&mut t, *offset, &data[..torn]);
                    allowed |= t == got;
                }
            }
        }
        prop_assert!(allowed, "{got:?} is no allowed outcome of {steps:?}");
    }
}
