//! Record framing: round trips, the frozen byte layout, and the rule that
//! tells a torn tail (truncate) from corruption (an error).

use proptest::prelude::*;
use synod_wal::record::{
    ALIGN, End, HEADER_BYTES, KIND_SYNCED, encode, encode_synced, record_bytes, scan, synced_offset,
};

/// A few records of awkward sizes, and where each starts.
fn sample() -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut starts = Vec::new();
    for (k, len) in [0usize, 1, 7, 8, 9, 100].into_iter().enumerate() {
        starts.push(bytes.len());
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 + k) as u8).collect();
        encode(k as u8 + 1, &payload, 0, &mut bytes).unwrap();
    }
    (bytes, starts)
}

#[test]
fn records_round_trip() {
    let (bytes, starts) = sample();
    let s = scan(&bytes, 0);
    assert_eq!(
        s.end,
        End::Clean {
            offset: bytes.len()
        }
    );
    assert_eq!(s.records.len(), 6);
    for (k, (found, len)) in s.records.iter().zip([0usize, 1, 7, 8, 9, 100]).enumerate() {
        assert_eq!(found.offset, starts[k]);
        assert_eq!(found.kind, k as u8 + 1);
        let want: Vec<u8> = (0..len).map(|i| (i * 31 + k) as u8).collect();
        assert_eq!(&bytes[found.payload.clone()], &want[..]);
        assert_eq!(found.offset % ALIGN, 0);
    }
    assert_eq!(record_bytes(9), HEADER_BYTES + 16);
}

// The byte layout is a public contract (docs/wal.md): a change to it must
// change the format version and this file.
#[test]
fn the_layout_matches_the_golden_file() {
    let (mut bytes, _) = sample();
    encode_synced(48, 0, &mut bytes);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/records-v1.bin");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &bytes).unwrap();
    }
    let golden = std::fs::read(path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(bytes, golden, "the record layout changed");
    // The first header, byte by byte.
    assert_eq!(&golden[..4], b"SWRC");
    assert_eq!(golden[4], 1, "kind");
    assert_eq!(&golden[8..12], &0u32.to_le_bytes(), "length");
    assert_eq!(
        &golden[12..16],
        &crc32c::crc32c(b"").to_le_bytes(),
        "payload crc"
    );
    assert_eq!(
        &golden[20..24],
        &crc32c::crc32c(&golden[..20]).to_le_bytes(),
        "header crc"
    );
}

#[test]
fn a_cut_anywhere_is_a_torn_tail_never_corruption() {
    let (mut bytes, _) = sample();
    encode_synced(0, 0, &mut bytes);
    let whole = scan(&bytes, 0).records;
    for cut in 0..=bytes.len() {
        let s = scan(&bytes[..cut], 0);
        let expect: Vec<_> = whole
            .iter()
            .filter(|f| f.offset + record_bytes(f.payload.len()) <= cut)
            .cloned()
            .collect();
        assert_eq!(s.records, expect, "cut at {cut}");
        let data_end = expect
            .last()
            .map_or(0, |f| f.offset + record_bytes(f.payload.len()));
        match s.end {
            End::Clean { offset } => assert_eq!((offset, cut), (data_end, data_end)),
            End::Torn { offset } => assert_eq!(offset, data_end, "cut at {cut}"),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn a_zeroed_preallocated_tail_ends_the_data_cleanly() {
    let (mut bytes, _) = sample();
    let end = bytes.len();
    bytes.resize(end + 4096, 0);
    assert_eq!(scan(&bytes, 0).end, End::Clean { offset: end });
}

#[test]
fn damage_a_later_marker_attests_is_corruption() {
    let (mut bytes, starts) = sample();
    let synced = bytes.len() as u64;
    let marker_at = bytes.len();
    encode_synced(synced, 0, &mut bytes);
    bytes[starts[3] + HEADER_BYTES + 2] ^= 0x40; // a payload byte of record 4
    let s = scan(&bytes, 0);
    assert_eq!(s.records.len(), 3);
    assert_eq!(
        s.end,
        End::Corrupt {
            offset: starts[3],
            marker: marker_at,
            why: "payload checksum mismatch"
        }
    );
}

#[test]
fn damage_no_marker_attests_is_a_torn_tail_even_with_valid_records_after() {
    // Disks reorder unsynced writes: record 4 lost, 5 and 6 intact.
    let (mut bytes, starts) = sample();
    encode_synced(starts[3] as u64, 0, &mut bytes); // attests only records 1-3
    bytes[starts[3]] ^= 0xFF;
    let s = scan(&bytes, 0);
    assert_eq!(s.records.len(), 3);
    assert_eq!(s.end, End::Torn { offset: starts[3] });
}

#[test]
fn zeros_over_attested_records_are_corruption() {
    let (mut bytes, starts) = sample();
    let synced = bytes.len() as u64;
    encode_synced(synced, 0, &mut bytes);
    let zeroed = starts[2]..starts[3];
    bytes[zeroed].fill(0);
    assert!(matches!(
        scan(&bytes, 0).end,
        End::Corrupt { offset, why: "zeroed record", .. } if offset == starts[2]
    ));
}

#[test]
fn markers_carry_their_offset() {
    let mut bytes = Vec::new();
    encode_synced(u64::MAX - 1, 0, &mut bytes);
    let s = scan(&bytes, 0);
    assert_eq!(s.records[0].kind, KIND_SYNCED);
    assert_eq!(
        synced_offset(&bytes[s.records[0].payload.clone()]),
        Some(u64::MAX - 1)
    );
    assert_eq!(synced_offset(b"short"), None);
}

proptest! {
    /// Arbitrary bytes never panic a scan, and every record it reports is
    /// whole and inside the bytes.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let s = scan(&bytes, 0);
        for f in &s.records {
            prop_assert!(f.payload.end <= bytes.len());
        }
    }

    /// A header with a valid checksum but a length past the bytes is a
    /// torn record, not a panic or an allocation of that size.
    #[test]
    fn lengths_past_the_end_are_torn(length in any::<u32>()) {
        let mut bytes = Vec::new();
        encode(3, b"x", 0, &mut bytes).unwrap();
        bytes[8..12].copy_from_slice(&length.to_le_bytes());
        let crc = crc32c::crc32c(&bytes[..20]);
        bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        let s = scan(&bytes, 0);
        if length != 1 {
            prop_assert_eq!(s.end, End::Torn { offset: 0 });
        }
    }
}

#[test]
fn encoding_after_unaligned_bytes_pads_first() {
    let mut bytes = vec![0xAA; 3];
    let start = encode(2, b"abc", 0, &mut bytes).unwrap();
    assert_eq!(start, 8);
    assert_eq!(&bytes[3..8], &[0; 5]);
    let s = scan(&bytes[8..], 0);
    assert_eq!(&bytes[8..][s.records[0].payload.clone()], b"abc");
}
