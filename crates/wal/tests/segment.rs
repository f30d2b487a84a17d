//! One segment: group commit, recovery after crashes and cuts at every
//! byte, corruption as an error, and a failed write or sync poisoning the
//! writer. Every test runs the production code over the simulated file
//! system.

use std::io::ErrorKind;

use proptest::prelude::*;
use synod_wal::Error;
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};
use synod_wal::segment::{
    FORMAT_VERSION, SEGMENT_HEADER_BYTES, SegmentWriter, encode_header, recover,
};

const NAME: &str = "00000000000000000001.log";

fn payload(k: u32) -> Vec<u8> {
    let len = (k as usize * 7) % 40;
    (0..len).map(|i| (i as u32 ^ k) as u8).collect()
}

fn kinds_and_payloads(records: &[(u64, u8, Vec<u8>)]) -> Vec<(u8, Vec<u8>)> {
    records.iter().map(|(_, k, p)| (*k, p.clone())).collect()
}

#[test]
fn records_round_trip_and_the_writer_resumes_after_them() {
    let dir = SimDir::new(1);
    let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
    for k in 1..=5 {
        w.append(7, &payload(k)).unwrap();
    }
    w.sync().unwrap();
    w.append(7, &payload(6)).unwrap();
    w.sync().unwrap();
    let r = recover(&dir, NAME).unwrap();
    let want: Vec<_> = (1..=6).map(|k| (7, payload(k))).collect();
    assert_eq!(kinds_and_payloads(&r.records), want);
    assert_eq!(r.truncated_bytes, 0);
    let mut w = r.writer;
    w.append(7, &payload(7)).unwrap();
    w.sync().unwrap();
    let r = recover(&dir, NAME).unwrap();
    assert_eq!(r.records.len(), 7);
}

#[derive(Debug, Clone)]
enum Step {
    Append(u32),
    Sync,
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => any::<u32>().prop_map(Step::Append),
        3 => Just(Step::Sync),
        1 => Just(Step::Crash),
    ]
}

proptest! {
    /// Whatever the history of appends, syncs and crashes, recovery after a
    /// crash returns a prefix of what was appended that holds every record
    /// whose sync returned, never reports corruption, and the writer goes on
    /// from there.
    #[test]
    fn a_crash_keeps_every_synced_record_and_a_prefix_of_the_rest(
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let dir = SimDir::new(seed);
        // Zeroing ahead on: syncs of up to 102 bytes zero the next KiB.
        let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap().with_zero_ahead(1024, 4096);
        // What the log holds, and how much of it a sync acknowledged.
        let mut appended: Vec<Vec<u8>> = Vec::new();
        let mut acked = 0;
        for s in steps.iter().chain([&Step::Crash]) {
            match s {
                Step::Append(k) => {
                    let p = payload(*k);
                    w.append(3, &p).unwrap();
                    appended.push(p);
                }
                Step::Sync => {
                    w.sync().unwrap();
                    acked = appended.len();
                }
                Step::Crash => {
                    dir.crash();
                    let r = recover(&dir, NAME).unwrap();
                    let got: Vec<Vec<u8>> = r.records.iter().map(|(_, _, p)| p.clone()).collect();
                    prop_assert!(got.len() >= acked, "lost acknowledged records: {} < {acked}", got.len());
                    prop_assert_eq!(&got[..], &appended[..got.len()]);
                    appended.truncate(got.len());
                    acked = got.len();
                    w = r.writer.with_zero_ahead(1024, 4096);
                }
            }
        }
    }
}

#[test]
fn a_cut_at_every_byte_recovers_the_whole_records_before_it() {
    let dir = SimDir::new(2);
    let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
    for k in 1..=4 {
        w.append(5, &payload(k)).unwrap();
        w.sync().unwrap();
    }
    let full = dir.read_all(NAME).unwrap();
    let whole = recover(&dir, NAME).unwrap().records;
    for cut in 0..=full.len() {
        let cut_dir = SimDir::new(3);
        let mut f = cut_dir.create(NAME).unwrap();
        f.write_at(0, &full[..cut]).unwrap();
        match recover(&cut_dir, NAME) {
            Ok(r) => {
                let kept = whole
                    .iter()
                    .filter(|(offset, _, p)| {
                        SEGMENT_HEADER_BYTES + offset + 24 + p.len().next_multiple_of(8) as u64
                            <= cut as u64
                    })
                    .count();
                assert_eq!(r.records.len(), kept, "cut at {cut}");
                assert_eq!(&r.records[..], &whole[..kept], "cut at {cut}");
            }
            Err(Error::NotALog { .. }) => assert!(cut < 32, "cut at {cut}"),
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn damage_to_synced_records_is_an_error_naming_file_and_offset() {
    let dir = SimDir::new(4);
    let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
    w.append(5, b"first").unwrap();
    w.sync().unwrap();
    w.append(5, b"second").unwrap(); // rides with the marker for "first"
    w.sync().unwrap();
    let mut f = dir.open(NAME).unwrap();
    let at = SEGMENT_HEADER_BYTES + 24; // the first record's payload
    f.write_at(at, b"F").unwrap();
    match recover(&dir, NAME) {
        Err(Error::Corrupt { file, offset, .. }) => {
            assert_eq!(file, NAME);
            assert_eq!(offset, SEGMENT_HEADER_BYTES);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_write_or_sync_poisons_the_writer() {
    for op in [Op::Write, Op::Sync] {
        let dir = SimDir::new(5);
        let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
        w.append(5, b"acked").unwrap();
        w.sync().unwrap();
        dir.fail(op, 0, Fault::Eio);
        w.append(5, b"lost").unwrap();
        assert!(matches!(w.sync(), Err(Error::Io { .. })), "{op:?}");
        assert!(matches!(w.append(5, b"x"), Err(Error::Poisoned)));
        assert!(matches!(w.sync(), Err(Error::Poisoned)));
        dir.crash();
        let r = recover(&dir, NAME).unwrap();
        let got = kinds_and_payloads(&r.records);
        assert_eq!(got[0], (5, b"acked".to_vec()), "{op:?}");
        assert!(got.len() <= 2, "{op:?}: {got:?}");
    }
}

#[test]
fn write_behind_writes_early_but_only_a_sync_makes_durable() {
    let dir = SimDir::new(11);
    let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
    w.append(5, b"acked").unwrap();
    w.sync().unwrap();
    let synced = w.synced();
    w.append(5, &[1u8; 100]).unwrap();
    // Below the size: nothing written.
    assert!(!w.write_behind(1000).unwrap());
    assert!(!w.write_behind(0).unwrap(), "0 is off");
    assert_eq!(w.written(), synced);
    w.append(5, &[2u8; 1000]).unwrap();
    assert!(w.write_behind(1000).unwrap());
    assert_eq!(w.written(), w.appended(), "all of it written");
    assert_eq!(w.synced(), synced, "and none of it synced");
    // Written, so on the file already; a crash may still drop it.
    let on_file = dir.read_all(NAME).unwrap().len() as u64;
    assert!(on_file >= SEGMENT_HEADER_BYTES + w.written());
    w.append(5, b"after").unwrap();
    dir.crash();
    let r = recover(&dir, NAME).unwrap();
    let got = kinds_and_payloads(&r.records);
    assert_eq!(got[0], (5, b"acked".to_vec()));
    // A prefix of the unsynced records, never "after" (not written).
    let unsynced = [vec![1u8; 100], vec![2u8; 1000]];
    assert!(got.len() <= 3, "{got:?}");
    for (k, (_, p)) in got.iter().enumerate().skip(1) {
        assert_eq!(p, &unsynced[k - 1]);
    }
}

#[test]
fn a_failed_early_write_poisons_the_writer_and_keeps_the_acked_records() {
    let dir = SimDir::new(12);
    let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
    w.append(5, b"acked").unwrap();
    w.sync().unwrap();
    dir.fail(Op::Write, 0, Fault::Enospc);
    w.append(5, &[3u8; 2000]).unwrap();
    assert!(matches!(w.write_behind(1000), Err(Error::Io { .. })));
    assert!(matches!(w.write_behind(1000), Err(Error::Poisoned)));
    assert!(matches!(w.append(5, b"x"), Err(Error::Poisoned)));
    assert!(matches!(w.sync(), Err(Error::Poisoned)));
    dir.crash();
    let r = recover(&dir, NAME).unwrap();
    assert_eq!(kinds_and_payloads(&r.records)[0], (5, b"acked".to_vec()));
}

/// The file's size and whether every byte after record-data offset `end`
/// is zero.
fn size_and_zeros_after(dir: &SimDir, end: u64) -> (u64, bool) {
    let bytes = dir.read_all(NAME).unwrap();
    let from = (SEGMENT_HEADER_BYTES + end) as usize;
    (bytes.len() as u64, bytes[from..].iter().all(|&b| b == 0))
}

/// A new segment of 4 KiB, not preallocated (its size shows what was
/// written), whose small syncs zero the next KiB.
fn zeroing_writer(dir: &SimDir) -> SegmentWriter<<SimDir as Dir>::File> {
    SegmentWriter::create(dir, NAME, 1)
        .unwrap()
        .with_zero_ahead(1024, 4096)
}

#[test]
fn small_syncs_zero_ahead_big_ones_do_not_and_never_past_the_segment() {
    let dir = SimDir::new(7);
    let mut w = zeroing_writer(&dir);
    // A small sync zeros the next KiB past its records.
    w.append(5, b"small").unwrap();
    w.sync().unwrap();
    let end = w.synced();
    assert_eq!(
        size_and_zeros_after(&dir, end),
        (SEGMENT_HEADER_BYTES + end + 1024, true)
    );
    // Syncs inside the zeroed stretch write their records only.
    for _ in 0..5 {
        w.append(5, b"inside").unwrap();
        w.sync().unwrap();
    }
    assert_eq!(
        size_and_zeros_after(&dir, w.synced()).0,
        SEGMENT_HEADER_BYTES + end + 1024
    );
    // A sync of more than a tenth of the stretch writes no zeros, even
    // past the stretch.
    w.append(5, &[9; 1200]).unwrap();
    w.sync().unwrap();
    let big_end = w.synced();
    assert_eq!(
        size_and_zeros_after(&dir, big_end),
        (SEGMENT_HEADER_BYTES + big_end, true)
    );
    // The next small one past it zeros again, up to the segment's size.
    w.append(5, &[7; 40]).unwrap();
    w.sync().unwrap();
    let (size, zeros) = size_and_zeros_after(&dir, w.synced());
    assert!(zeros);
    assert_eq!(size, (SEGMENT_HEADER_BYTES + w.synced() + 1024).min(4096));
    w.append(5, &[7; 40]).unwrap();
    while w.appended() + SEGMENT_HEADER_BYTES < 4096 {
        w.append(5, &[7; 40]).unwrap();
        w.sync().unwrap();
    }
    let size = dir.read_all(NAME).unwrap().len() as u64;
    assert_eq!(
        size,
        (SEGMENT_HEADER_BYTES + w.synced()).max(4096),
        "zeros stop at the segment's size"
    );
    let r = recover(&dir, NAME).unwrap();
    assert_eq!(r.truncated_bytes, 0, "zeros ahead are a clean end");
    assert_eq!(r.writer.synced(), w.synced());
}

#[test]
fn a_failed_zero_write_poisons_the_writer_and_keeps_the_acked_records() {
    let dir = SimDir::new(8);
    let mut w = zeroing_writer(&dir);
    w.append(5, b"acked").unwrap();
    w.sync().unwrap();
    // Past the zeroed stretch: the records' write succeeds, the zeros'
    // write after it fails.
    w.append(5, &[1; 1100]).unwrap();
    w.sync().unwrap();
    w.append(5, b"lost").unwrap();
    dir.fail(Op::Write, 1, Fault::Eio);
    assert!(matches!(w.sync(), Err(Error::Io { .. })));
    assert!(matches!(w.append(5, b"x"), Err(Error::Poisoned)));
    dir.crash();
    let r = recover(&dir, NAME).unwrap();
    let got = kinds_and_payloads(&r.records);
    assert_eq!(got[..2], [(5, b"acked".to_vec()), (5, vec![1; 1100])]);
    assert!(got.len() <= 3, "{got:?}");
}

#[test]
fn enospc_at_creation_is_an_io_error() {
    let dir = SimDir::new(6);
    dir.fail(Op::Write, 0, Fault::Enospc);
    match SegmentWriter::create(&dir, NAME, 1) {
        Err(Error::Io { source, .. }) => assert_eq!(source.kind(), ErrorKind::StorageFull),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_headers_are_typed_errors() {
    let dir = SimDir::new(7);
    let mut f = dir.create("junk").unwrap();
    f.write_at(0, &[0xAB; 64]).unwrap();
    assert!(matches!(recover(&dir, "junk"), Err(Error::NotALog { .. })));

    let mut header = encode_header(9);
    header[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let crc = crc32c::crc32c(&header[..28]);
    header[28..].copy_from_slice(&crc.to_le_bytes());
    let mut f = dir.create("newer").unwrap();
    f.write_at(0, &header).unwrap();
    assert!(matches!(
        recover(&dir, "newer"),
        Err(Error::NewerFormat {
            version,
            supported: FORMAT_VERSION,
            ..
        }) if version == FORMAT_VERSION + 1
    ));
    assert!(matches!(recover(&dir, "missing"), Err(Error::Io { .. })));
    // Flags: only "recycled" is known, and only from version 3 on.
    for (version, flags) in [(3u32, 2u32), (3, 0x8000_0000), (2, 1)] {
        let mut header = encode_header(9);
        header[8..12].copy_from_slice(&version.to_le_bytes());
        header[12..16].copy_from_slice(&flags.to_le_bytes());
        let crc = crc32c::crc32c(&header[..28]);
        header[28..].copy_from_slice(&crc.to_le_bytes());
        let name = format!("flags-{version}-{flags}");
        let mut f = dir.create(&name).unwrap();
        f.write_at(0, &header).unwrap();
        assert!(
            matches!(recover(&dir, &name), Err(Error::NotALog { .. })),
            "version {version}, flags {flags:#x}"
        );
    }
}

#[test]
fn an_empty_segment_survives_a_crash_once_created() {
    let dir = SimDir::new(8);
    let w = SegmentWriter::create(&dir, NAME, 42).unwrap();
    assert_eq!(w.id(), 42);
    dir.crash();
    let r = recover(&dir, NAME).unwrap();
    assert!(r.records.is_empty());
    assert_eq!(r.writer.id(), 42);
}

// A process restart without a machine crash reads what may still be only
// in the page cache: recovery must make it durable before reporting it.
#[test]
fn a_restart_without_a_crash_makes_what_it_read_durable() {
    for seed in 0..32 {
        let dir = SimDir::new(seed);
        let mut w = SegmentWriter::create(&dir, NAME, 1).unwrap();
        w.append(5, b"synced").unwrap();
        w.sync().unwrap();
        let w_seed = w.seed();
        drop(w);
        // The previous process wrote one more record and died before its
        // sync; the machine did not crash.
        let mut f = dir.open(NAME).unwrap();
        let mut tail = Vec::new();
        synod_wal::record::encode(5, b"written, not synced", w_seed, &mut tail).unwrap();
        let end = f.size_bytes().unwrap();
        f.write_at(end, &tail).unwrap();
        let before = kinds_and_payloads(&recover(&dir, NAME).unwrap().records);
        assert_eq!(before.len(), 2, "seed {seed}: a restart reads both");
        dir.crash();
        let after = kinds_and_payloads(&recover(&dir, NAME).unwrap().records);
        assert_eq!(after, before, "seed {seed}: reported, then lost to a crash");
    }
}

/// A segment writer over the simulated file system.
type SimWriter = SegmentWriter<<SimDir as Dir>::File>;

/// A new segment whose syncs of `pad_from` bytes and more are padded to a
/// page, within `segment_bytes`.
fn padding_writer(seed: u64, pad_from: u64, segment_bytes: u64) -> (SimDir, SimWriter) {
    let dir = SimDir::new(seed);
    let w = SegmentWriter::create(&dir, NAME, 1)
        .unwrap()
        .with_padding(pad_from, segment_bytes);
    (dir, w)
}

/// A sync of at least the padding threshold ends on a page boundary,
/// whatever the batch's length (also when less than a record header is
/// left before the page ends: the padding then runs to the next page); a
/// smaller sync is not padded; replay never hands the padding out.
#[test]
fn a_large_sync_ends_on_a_page_boundary_and_replay_skips_the_padding() {
    let page = synod_wal::segment::PAGE_BYTES;
    for extra in (0..200).step_by(8) {
        let (dir, mut w) = padding_writer(20, 1024, 1 << 20);
        let big = vec![0x5A; 1500 + extra];
        w.append(7, &big).unwrap();
        w.append(7, &big).unwrap();
        w.sync().unwrap();
        let end = SEGMENT_HEADER_BYTES + w.synced();
        assert_eq!(end % page, 0, "extra {extra}: a padded sync ends at {end}");
        // The padding fills the rest of the page and never a page more
        // than it must.
        let unpadded = SEGMENT_HEADER_BYTES + 2 * (24 + (1500 + extra as u64).next_multiple_of(8));
        assert!(
            end - unpadded < page + 24,
            "extra {extra}: {unpadded} -> {end}"
        );
        w.append(7, b"small").unwrap();
        w.sync().unwrap();
        let small_end = SEGMENT_HEADER_BYTES + w.synced();
        assert_ne!(small_end % page, 0, "a small sync is not padded");
        let r = recover(&dir, NAME).unwrap();
        assert_eq!(
            kinds_and_payloads(&r.records),
            vec![(7, big.clone()), (7, big.clone()), (7, b"small".to_vec())],
            "extra {extra}"
        );
        assert_eq!(r.writer.synced(), w.synced());
    }
    // One record ending 40, 16 or 8 bytes before a page, or on it: the
    // shorter gaps cannot hold a record header, so the padding runs to the
    // next page but one; on the page, nothing is added.
    for len in 4000..=4040 {
        let (dir, mut w) = padding_writer(24, 1024, 1 << 20);
        w.append(7, &vec![0x3C; len]).unwrap();
        let unpadded = SEGMENT_HEADER_BYTES + w.appended();
        w.sync().unwrap();
        let end = SEGMENT_HEADER_BYTES + w.synced();
        let want = match page - unpadded % page {
            gap if gap == page => unpadded,
            gap if gap < 24 => unpadded + gap + page,
            gap => unpadded + gap,
        };
        assert_eq!(end, want, "a record of {len} bytes ends at {unpadded}");
        let r = recover(&dir, NAME).unwrap();
        assert_eq!(kinds_and_payloads(&r.records), vec![(7, vec![0x3C; len])]);
    }
}

/// Padding never takes a segment past its size: when the page boundary
/// lies beyond it, the sync is left unpadded.
#[test]
fn padding_never_passes_the_segment_size() {
    let (dir, mut w) = padding_writer(21, 1, 4096);
    // Ends 8 bytes before the segment's last page boundary: the padding
    // would need a page more, past the segment.
    let fill = 4096 - SEGMENT_HEADER_BYTES as usize - 24 - 8;
    w.append(7, &vec![1; fill]).unwrap();
    w.sync().unwrap();
    assert_eq!(SEGMENT_HEADER_BYTES + w.synced(), 4096 - 8);
    assert_eq!(w.file().size_bytes().unwrap(), 4096 - 8);
    let r = recover(&dir, NAME).unwrap();
    assert_eq!(kinds_and_payloads(&r.records), vec![(7, vec![1; fill])]);
}

/// A writer that pads syncs of `pad_from` bytes and more, after 2,000
/// bytes appended and written ahead of their sync; where that early write
/// ends (a file offset).
fn written_ahead(seed: u64, pad_from: u64) -> (SimDir, SimWriter, u64) {
    let (dir, mut w) = padding_writer(seed, pad_from, 1 << 20);
    w.append(7, &[3; 2000]).unwrap();
    assert!(w.write_behind(1).unwrap(), "written ahead");
    let early = SEGMENT_HEADER_BYTES + w.written();
    (dir, w, early)
}

/// Appends a record of `bytes` bytes of `fill`, syncs, and returns where
/// the synced data ends (a file offset).
fn append_and_sync(w: &mut SimWriter, fill: u8, bytes: usize) -> u64 {
    w.append(7, &vec![fill; bytes]).unwrap();
    w.sync().unwrap();
    SEGMENT_HEADER_BYTES + w.synced()
}

/// A batch written in part ahead of its sync (write-behind): an early
/// write at or over the threshold ends on a page boundary too, so the
/// next write never starts in a page under writeback, and the sync after
/// it is padded as usual; an early write below the threshold ends inside
/// a page, and the sync after it is left unpadded (that page may be under
/// writeback, and the padding's write into it would wait). Either way the
/// next batch, all in the buffer at its sync, is padded.
#[test]
fn padding_around_early_writes() {
    let page = synod_wal::segment::PAGE_BYTES;
    // (threshold, bytes appended after the early write, padded)
    for (pad_from, rest, padded) in [(1024, 100, true), (4096, 3000, false)] {
        let (dir, mut w, early) = written_ahead(22, pad_from);
        assert_eq!(
            early.is_multiple_of(page),
            padded,
            "the early write ends at {early}"
        );
        let end = append_and_sync(&mut w, 4, rest);
        assert_eq!(end.is_multiple_of(page), padded, "the sync ends at {end}");
        let end = append_and_sync(&mut w, 5, 5000);
        assert_eq!(end % page, 0, "the next batch ends at {end}");
        let r = recover(&dir, NAME).unwrap();
        assert_eq!(
            kinds_and_payloads(&r.records),
            vec![(7, vec![3; 2000]), (7, vec![4; rest]), (7, vec![5; 5000])],
            "threshold {pad_from}"
        );
    }
}
