//! Recycled segments (`Options::recycle_segments`): a compacted segment's
//! file is renamed free and a later roll writes the next segment over it.
//! The old records stay in the file behind the new ones; none of them may
//! ever read as the new segment's, before or after a crash, and a crash
//! must still keep every acknowledged write.

use crate::support;

use synod_raft_core::{ConfState, MemStorage, Storage};
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};
use synod_wal::record::{self, End};
use synod_wal::segment::{
    FORMAT_VERSION, SEGMENT_HEADER_BYTES, SegmentWriter, decode_header, recover,
};
use synod_wal::{Options, Wal, free_name, segment_id};

use support::{assert_same, entries, small, snapshot_and_compact};

const OLD: &str = "00000000000000000001.wal";
const FREE: &str = "00000000000000000001.free";
const NEW: &str = "00000000000000000002.wal";

/// A segment `OLD` full of synced "old" records, renamed free, then
/// recycled as `NEW`: returns the writer of `NEW`.
fn recycled(dir: &SimDir) -> SegmentWriter<<SimDir as Dir>::File> {
    let mut old = SegmentWriter::create(dir, OLD, 1).unwrap();
    for k in 0..200u32 {
        old.append(7, format!("old record {k}").as_bytes()).unwrap();
        if k % 16 == 15 {
            old.sync().unwrap();
        }
    }
    old.sync().unwrap();
    drop(old);
    dir.rename(OLD, FREE).unwrap();
    dir.sync().unwrap();
    let w = SegmentWriter::recycle(dir, FREE, NEW, 2, 0).unwrap();
    assert!(w.recycled());
    w
}

fn payloads(records: &[(u64, u8, Vec<u8>)]) -> Vec<Vec<u8>> {
    records.iter().map(|r| r.2.clone()).collect()
}

fn is_old(payload: &[u8]) -> bool {
    payload.starts_with(b"old record")
}

#[test]
fn a_recycled_segment_never_reads_the_records_it_held_before() {
    let dir = SimDir::new(1);
    let (size, end) = {
        let mut w = recycled(&dir);
        w.append(7, b"new 0").unwrap();
        w.append(7, b"new 1").unwrap();
        w.sync().unwrap();
        (w.file().size_bytes().unwrap(), w.synced() as usize)
    };
    let names = dir.list().unwrap();
    assert_eq!(names, vec![NEW.to_string()], "renamed, not copied");
    let header = decode_header(&dir.read_all(NEW).unwrap(), NEW).unwrap();
    assert!(header.recycled && header.id == 2 && header.version == FORMAT_VERSION);
    let r = recover(&dir, NEW).unwrap();
    assert_eq!(
        payloads(&r.records),
        vec![b"new 0".to_vec(), b"new 1".to_vec()]
    );
    assert_eq!(r.truncated_bytes, 0, "a clean stop leaves the end mark");
    // The old records are still there (their blocks are the point).
    let bytes = dir.read_all(NEW).unwrap();
    assert_eq!(bytes.len() as u64, size);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("old record 199"),
        "the stale records were kept"
    );
    // Under the old segment's seed they are valid records; under the new
    // one, none is.
    let data = &bytes[SEGMENT_HEADER_BYTES as usize..];
    let old_seed = synod_wal::segment::SegmentHeader::new(1, false).seed();
    assert_ne!(old_seed, header.seed());
    assert_eq!(
        record::live_reach(data, end, header.seed()),
        end,
        "no header past the new records passes the new seed"
    );
    assert!(record::live_reach(data, end, old_seed) > end + 1000);
}

#[test]
fn crashes_in_a_recycled_segment_keep_what_was_synced_and_never_the_old_records() {
    for seed in 0..256 {
        let dir = SimDir::new(seed);
        let mut w = recycled(&dir);
        let mut synced = Vec::new();
        for k in 0..(seed % 5) {
            let p = format!("synced {k}").into_bytes();
            w.append(7, &p).unwrap();
            synced.push(p);
        }
        w.sync().unwrap();
        let mut unsynced = Vec::new();
        for k in 0..(seed % 7) {
            let p = vec![k as u8; (seed as usize * 37 + k as usize * 101) % 300];
            w.append(8, &p).unwrap();
            unsynced.push(p);
        }
        // Written, then the sync fails: a crash keeps any prefix of the
        // write, the last piece torn.
        dir.fail(Op::Sync, 0, Fault::Eio);
        assert!(w.sync().is_err() || unsynced.is_empty());
        dir.clear_faults();
        drop(w);
        dir.crash();
        let r = recover(&dir, NEW).unwrap();
        let got = payloads(&r.records);
        assert!(
            got.iter().all(|p| !is_old(p)),
            "seed {seed}: an old record came back: {got:?}"
        );
        assert_eq!(
            got[..synced.len()],
            synced[..],
            "seed {seed}: lost a synced record"
        );
        assert_eq!(
            got[synced.len()..],
            unsynced[..got.len() - synced.len()],
            "seed {seed}: recovered something no prefix of the writes holds"
        );
        // What recovery left reads the same again, cleanly.
        let mut w = r.writer;
        w.append(9, b"after").unwrap();
        w.sync().unwrap();
        drop(w);
        dir.crash();
        let again = payloads(&recover(&dir, NEW).unwrap().records);
        assert_eq!(again[..got.len()], got[..], "seed {seed}");
        assert_eq!(again[got.len()..], [b"after".to_vec()], "seed {seed}");
    }
}

/// Pieces of a batch a crash lost, under this segment's own seed, past the
/// end of its data (a disk may write a later page and lose an earlier
/// one): recovery zeroes them, so no later write that happens to end where
/// one starts brings it back.
#[test]
fn recovery_zeroes_lost_pieces_under_the_segments_own_seed() {
    let dir = SimDir::new(3);
    let mut w = recycled(&dir);
    w.append(7, b"kept").unwrap();
    w.sync().unwrap();
    let seed = w.seed();
    let end = w.synced();
    drop(w);
    // A lost batch's record, 64 bytes past the end, with garbage between.
    let mut piece = Vec::new();
    record::encode(8, b"never acknowledged", seed, &mut piece).unwrap();
    let mut f = dir.open(NEW).unwrap();
    let at = SEGMENT_HEADER_BYTES + end + 64;
    f.write_at(at, &piece).unwrap();
    f.write_at(SEGMENT_HEADER_BYTES + end, &[0xEE; 40]).unwrap();
    f.sync_data().unwrap();
    drop(f);
    let r = recover(&dir, NEW).unwrap();
    assert_eq!(payloads(&r.records), vec![b"kept".to_vec()]);
    assert!(r.truncated_bytes >= 64 + piece.len() as u64);
    let bytes = dir.read_all(NEW).unwrap();
    let data = &bytes[SEGMENT_HEADER_BYTES as usize..];
    let end = end as usize;
    assert_eq!(
        record::live_reach(data, end, seed),
        end,
        "the piece is gone"
    );
    assert!(data[end..end + 64 + piece.len()].iter().all(|&b| b == 0));
    assert_eq!(
        record::scan(data, seed).end,
        End::Clean { offset: end },
        "the data ends cleanly where it did"
    );
}

/// The options of the log tests, with room for `keep` free segments.
fn options(keep: usize) -> Options {
    Options {
        recycle_segments: keep,
        ..small()
    }
}

/// Appends entries `lo..=hi` of term 1 to both and syncs.
fn append(wal: &mut Wal<SimDir>, model: &mut MemStorage, lo: u64, hi: u64) {
    wal.append(entries(lo, hi, 1)).unwrap();
    model.append(entries(lo, hi, 1)).unwrap();
    wal.sync().unwrap();
}

/// Snapshots both at `index` and compacts them there.
fn compact(wal: &mut Wal<SimDir>, model: &mut MemStorage, index: u64) {
    let conf = ConfState {
        voters: vec![1],
        ..ConfState::default()
    };
    snapshot_and_compact(wal, model, index, conf);
}

/// A log (and its model) of entries `1..=last` compacted at `last - 2`,
/// with room for `keep` free segments.
fn compacted_log(seed: u64, keep: usize, last: u64) -> (SimDir, Wal<SimDir>, MemStorage) {
    let dir = SimDir::new(seed);
    let mut wal = Wal::open(dir.clone(), options(keep)).unwrap();
    let mut model = MemStorage::new();
    append(&mut wal, &mut model, 1, last);
    compact(&mut wal, &mut model, last - 2);
    (dir, wal, model)
}

fn free_files(dir: &SimDir) -> Vec<String> {
    let mut names: Vec<String> = dir
        .list()
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(".free"))
        .collect();
    names.sort();
    names
}

#[test]
fn compaction_keeps_segments_free_and_rolls_write_over_them() {
    let (dir, mut wal, mut model) = compacted_log(4, 2, 200);
    // Two of the six or more segments kept free (the pool's size), the
    // rest deleted.
    let oldest = (dir.list().unwrap().iter())
        .filter_map(|n| segment_id(n))
        .min()
        .unwrap();
    assert!(oldest >= 6, "only {} segments compacted away", oldest - 1);
    assert_eq!(wal.free_segment_count(), 2);
    assert_eq!(free_files(&dir).len(), 2);
    let before: Vec<String> = dir.list().unwrap();
    // The next rolls take the free files: the directory gains no file.
    let mut last = 200;
    while wal.free_segment_count() > 0 {
        append(&mut wal, &mut model, last + 1, last + 5);
        last += 5;
    }
    assert!(free_files(&dir).is_empty());
    assert_eq!(dir.list().unwrap().len(), before.len(), "{before:?}");
    let mut recycled = 0;
    for name in dir.list().unwrap().iter().filter(|n| n.ends_with(".wal")) {
        let header = decode_header(&dir.read_all(name).unwrap(), name).unwrap();
        recycled += usize::from(header.recycled);
    }
    assert_eq!(recycled, 2, "both free files became segments");
    // Reads from the recycled segments (the cache is tiny), then a reopen
    // and a crash.
    assert_same(&wal, &model, "after the recycling rolls");
    drop(wal);
    let wal = Wal::open(dir.clone(), options(2)).unwrap();
    assert_eq!(wal.recovery().torn_bytes, 0);
    assert_same(&wal, &model, "reopened");
    drop(wal);
    dir.crash();
    let wal = Wal::open(dir, options(2)).unwrap();
    assert_same(&wal, &model, "after a crash");
}

#[test]
fn with_no_room_for_free_segments_compaction_deletes_them() {
    let (dir, mut wal, mut model) = compacted_log(5, 0, 120);
    assert_eq!(wal.free_segment_count(), 0);
    assert!(free_files(&dir).is_empty());
    append(&mut wal, &mut model, 121, 200);
    assert_same(&wal, &model, "without recycling");
}

#[test]
fn opening_keeps_only_as_many_free_segments_as_the_options_allow() {
    let (dir, wal, model) = compacted_log(6, 3, 200);
    drop(wal);
    assert_eq!(free_files(&dir).len(), 3);
    let wal = Wal::open(dir.clone(), options(1)).unwrap();
    assert_eq!(wal.free_segment_count(), 1);
    assert_eq!(free_files(&dir).len(), 1);
    assert_same(&wal, &model, "after pruning");
    drop(wal);
    let wal = Wal::open(dir.clone(), options(0)).unwrap();
    assert_eq!(wal.free_segment_count(), 0);
    assert!(free_files(&dir).is_empty());
}

#[test]
fn free_files_without_any_segment_are_removed() {
    let dir = SimDir::new(7);
    let mut f = dir.create(&free_name(9)).unwrap();
    f.write_at(0, b"whatever a free file held").unwrap();
    f.sync_data().unwrap();
    dir.sync().unwrap();
    let wal = Wal::open(dir.clone(), options(2)).unwrap();
    assert_eq!(wal.free_segment_count(), 0);
    assert!(free_files(&dir).is_empty());
}

/// Compaction-heavy histories with crashes: segments are freed and reused
/// again and again, and every crash keeps the acknowledged state.
#[test]
fn many_crashes_across_recycling_rolls_keep_every_synced_entry() {
    let mut reused = 0;
    for seed in 0..64u64 {
        let dir = SimDir::new(seed);
        let mut wal = Wal::open(dir.clone(), options(2)).unwrap();
        let mut model = MemStorage::new();
        let mut last = 0;
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = 5 + x % 30;
            let before = wal.free_segment_count();
            append(&mut wal, &mut model, last + 1, last + n);
            last += n;
            if wal.free_segment_count() < before {
                reused += 1;
            }
            if x % 3 == 0 {
                compact(&mut wal, &mut model, last - x % 4);
            }
            if x % 5 == 0 {
                // Unsynced appends, then a crash: they may or may not
                // survive, so the model takes whatever did, checked to be
                // a prefix of them.
                wal.append(entries(last + 1, last + 8, 1)).unwrap();
                if x % 2 == 0 {
                    // Written, then the sync fails: a crash keeps any
                    // prefix of the write, the last piece torn.
                    dir.fail(Op::Sync, 0, Fault::Eio);
                    assert!(wal.sync().is_err());
                    dir.clear_faults();
                }
                drop(wal);
                dir.crash();
                wal = Wal::open(dir.clone(), options(2)).unwrap();
                let got = wal.last_index().unwrap();
                assert!(
                    (last..=last + 8).contains(&got),
                    "seed {seed}: last index {got} after a crash past {last}"
                );
                if got > last {
                    model.append(entries(last + 1, got, 1)).unwrap();
                    last = got;
                }
                assert_same(&wal, &model, &format!("seed {seed}: after a crash"));
            }
        }
        assert_same(&wal, &model, &format!("seed {seed}"));
    }
    assert!(reused > 100, "only {reused} rolls reused a free segment");
}

/// Seeds: 0 for version 1 and 2 segments; from version 3, never 0 (the
/// stale records of a recycled version 2 file must not pass) and distinct
/// for distinct ids (checked for the first million).
#[test]
fn seeds_are_distinct_per_segment_and_never_those_of_older_versions() {
    use synod_wal::segment::SegmentHeader;
    let header = |id, version| SegmentHeader {
        id,
        version,
        recycled: false,
    };
    assert_eq!(header(7, 1).seed(), 0);
    assert_eq!(header(7, 2).seed(), 0);
    let mut seeds: Vec<u32> = (1..=1_000_000u64).map(|id| header(id, 3).seed()).collect();
    assert!(seeds.iter().all(|&s| s != 0));
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 1_000_000);
    assert_ne!(header(u64::MAX, 3).seed(), 0);
}
