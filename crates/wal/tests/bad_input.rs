//! Directories and files the log did not write, or that were damaged
//! after it wrote them: a typed error naming what is wrong, never a panic
//! and never a silently shortened log.

use crate::support;

use synod_raft_core::Storage;
use synod_wal::fs::{Dir, File, SimDir};
use synod_wal::segment::SEGMENT_HEADER_BYTES;
use synod_wal::{Error, Options, SNAPSHOT_FILE, Wal, segment_name};

use support::{entries, small};

/// A log of 200 entries over several segments, synced.
fn written() -> SimDir {
    let dir = SimDir::new(1);
    let mut wal = Wal::open(dir.clone(), small()).unwrap();
    wal.append(entries(1, 200, 1)).unwrap();
    wal.sync().unwrap();
    assert!(wal.segment_count() >= 4);
    dir
}

fn poke(dir: &SimDir, name: &str, offset: u64, bytes: &[u8]) {
    let mut f = dir.open(name).unwrap();
    f.write_at(offset, bytes).unwrap();
    f.sync_data().unwrap();
}

#[test]
fn a_directory_holding_other_files_is_not_a_log() {
    let dir = SimDir::new(2);
    dir.create("notes.txt").unwrap();
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::ForeignFile { file }) if file == "notes.txt"
    ));
}

#[test]
fn a_segment_missing_from_the_middle_is_an_error() {
    let dir = written();
    dir.remove(&segment_name(2)).unwrap();
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::MissingSegment { missing: 2, .. })
    ));
}

#[test]
fn an_index_gap_between_segments_is_an_error() {
    let dir = written();
    // Rewrite segment 3 as one whose entries skip ahead: what a lost
    // segment with renumbered successors would look like.
    let mut w = synod_wal::segment::SegmentWriter::create(&SimDir::new(0), "x", 3).unwrap();
    let e = entries(500, 500, 1);
    w.append_with(synod_wal::raft_record::KIND_ENTRIES, |out| {
        synod_wal::raft_record::encode_entries(&e, out)
    })
    .unwrap();
    w.sync().unwrap();
    let forged = w.file();
    let mut bytes = vec![0u8; forged.size_bytes().unwrap() as usize];
    forged.read_at(0, &mut bytes).unwrap();
    let name = segment_name(3);
    let mut f = dir.open(&name).unwrap();
    f.set_len(0).unwrap();
    f.write_at(0, &bytes).unwrap();
    f.sync_data().unwrap();
    match Wal::open(dir, small()) {
        Err(Error::IndexGap {
            file, index: 500, ..
        }) => assert_eq!(file, name),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_damaged_sealed_segment_is_an_error_naming_file_and_offset() {
    let dir = written();
    let name = segment_name(2);
    // The first record's payload checksum no longer matches.
    poke(&dir, &name, SEGMENT_HEADER_BYTES + 30, &[0xFF]);
    // A synced marker attests the record (Corrupt); either way the error
    // names the file and the record's offset.
    match Wal::open(dir, small()) {
        Err(Error::SealedDamaged { file, offset } | Error::Corrupt { file, offset, .. }) => {
            assert_eq!(file, name);
            assert_eq!(offset, SEGMENT_HEADER_BYTES);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_record_length_beyond_the_file_in_a_sealed_segment_is_an_error() {
    let dir = written();
    let name = segment_name(1);
    // The first record's length field (header bytes 8..12), and its header
    // checksum recomputed, as a forger would.
    let mut header = [0u8; 24];
    dir.open(&name)
        .unwrap()
        .read_at(SEGMENT_HEADER_BYTES, &mut header)
        .unwrap();
    header[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let crc = crc32c::crc32c(&header[..20]);
    header[20..24].copy_from_slice(&crc.to_le_bytes());
    poke(&dir, &name, SEGMENT_HEADER_BYTES, &header);
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::SealedDamaged { .. } | Error::Corrupt { .. })
    ));
}

#[test]
fn a_newer_format_or_a_foreign_header_is_refused() {
    let dir = written();
    let name = segment_name(1);
    let mut header = synod_wal::segment::encode_header(1);
    header[8..12].copy_from_slice(&9u32.to_le_bytes());
    let crc = crc32c::crc32c(&header[..28]);
    header[28..].copy_from_slice(&crc.to_le_bytes());
    poke(&dir, &name, 0, &header);
    assert!(matches!(
        Wal::open(dir.clone(), small()),
        Err(Error::NewerFormat { version: 9, .. })
    ));
    poke(&dir, &name, 0, b"PK\x03\x04 a zip file, not a log...");
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::NotALog { .. })
    ));
}

#[test]
fn a_header_id_that_disagrees_with_the_file_name_is_refused() {
    let dir = written();
    poke(
        &dir,
        &segment_name(2),
        0,
        &synod_wal::segment::encode_header(7),
    );
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::NotALog { .. })
    ));
}

#[test]
fn a_snapshot_file_without_metadata_is_an_error() {
    let dir = written();
    synod_wal::state_file::write_atomically(&dir, SNAPSHOT_FILE, b"abc").unwrap();
    assert!(matches!(
        Wal::open(dir.clone(), small()),
        Err(Error::BadRecord { file, .. }) if file == SNAPSHOT_FILE
    ));
    let mut f = dir.open(SNAPSHOT_FILE).unwrap();
    f.set_len(10).unwrap();
    f.sync_data().unwrap();
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::NotALog { .. })
    ));
}

#[test]
fn a_snapshot_without_segments_is_an_error() {
    let dir = SimDir::new(3);
    let mut wal = Wal::open(dir.clone(), small()).unwrap();
    wal.bootstrap(&[1, 2, 3]).unwrap();
    drop(wal);
    dir.remove(&segment_name(1)).unwrap();
    assert!(matches!(
        Wal::open(dir, small()),
        Err(Error::MissingSegment { .. })
    ));
}

#[test]
fn a_last_segment_whose_creation_was_cut_short_is_removed() {
    let dir = written();
    let next = dir
        .list()
        .unwrap()
        .iter()
        .filter_map(|n| synod_wal::segment_id(n))
        .max()
        .unwrap()
        + 1;
    let name = segment_name(next);
    let mut f = dir.create(&name).unwrap();
    // The header write never landed; the preallocation did.
    f.set_len(4096).unwrap();
    f.sync_data().unwrap();
    dir.sync().unwrap();
    let wal = Wal::open(dir.clone(), small()).unwrap();
    assert!(wal.recovery().removed_torn_segment);
    assert_eq!(wal.last_index().unwrap(), 200);
    assert!(!dir.list().unwrap().contains(&name));
}

#[test]
fn unknown_record_kinds_and_bad_entries_are_typed_errors() {
    let dir = SimDir::new(4);
    let options = Options {
        preallocate: false,
        ..small()
    };
    let mut w = synod_wal::segment::SegmentWriter::create(&dir, &segment_name(1), 1).unwrap();
    w.append(77, b"what is this").unwrap();
    w.sync().unwrap();
    assert!(matches!(
        Wal::open(dir, options),
        Err(Error::BadRecord {
            why: "unknown record kind",
            ..
        })
    ));
    // An entries record: first index, count, reserved; then per entry
    // term, type, reserved, body length, body.
    let batch = |first: u64, count: u32, entry: &[u8]| {
        [
            &first.to_le_bytes()[..],
            &count.to_le_bytes(),
            &[0; 4],
            entry,
        ]
        .concat()
    };
    let head = |kind: u8, len: u32| {
        [
            &1u64.to_le_bytes()[..],
            &[kind, 0, 0, 0],
            &len.to_le_bytes(),
        ]
        .concat()
    };
    for (payload, why) in [
        (vec![0u8; 10], "entries record shorter than its head"),
        (batch(1, 1, &head(9, 0)), "unknown entry payload type"),
        (batch(0, 1, &head(0, 0)), "entry at index 0"),
        (batch(1, 0, &[]), "entries record with no entry"),
        (
            batch(u64::MAX, 2, &head(0, 0)),
            "entry indexes past u64::MAX",
        ),
        (
            batch(1, 1, &[&head(1, 50)[..], &[1; 10]].concat()),
            "entry body cut short",
        ),
        (
            batch(1, 1, &[&head(0, 0)[..], &[1; 3]].concat()),
            "bytes after the last entry",
        ),
        (
            batch(1, 1, &[&head(2, 5)[..], &[7; 5]].concat()),
            "membership change body is not 9 bytes per change",
        ),
        (batch(1, 2, &head(0, 0)), "entry head cut short"),
    ] {
        let dir = SimDir::new(5);
        let mut w = synod_wal::segment::SegmentWriter::create(&dir, &segment_name(1), 1).unwrap();
        w.append(synod_wal::raft_record::KIND_ENTRIES, &payload)
            .unwrap();
        w.sync().unwrap();
        match Wal::open(dir, options) {
            Err(Error::BadRecord { why: got, .. }) => assert_eq!(got, why),
            other => panic!("{why}: {other:?}"),
        }
    }
}
