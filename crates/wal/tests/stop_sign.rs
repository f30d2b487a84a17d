//! Stop-sign entries (a Multi-Paxos configuration's last entry) are stored
//! like any other payload: they round-trip through the record encoding and
//! through a reopened log, and a damaged stop-sign body is refused with a
//! reason, never a panic.

use crate::support;

use synod_protocol::{Bytes, Entry, Payload, StopSign, Storage};
use synod_wal::Wal;
use synod_wal::fs::SimDir;
use synod_wal::raft_record::{decode_entries, encode_entries, entry_bytes, for_each_entry};

use support::small;

fn stop_sign(voters: &[u64], learners: &[u64], metadata: &'static [u8]) -> Entry {
    Entry {
        term: 7,
        index: 3,
        payload: Payload::StopSign(Box::new(StopSign {
            voters: voters.to_vec(),
            learners: learners.to_vec(),
            metadata: Bytes::from_static(metadata),
        })),
    }
}

#[test]
fn a_stop_sign_round_trips_through_the_record_encoding() {
    for entry in [
        stop_sign(&[4, 5, 6], &[9], b"v2 of the state machine"),
        stop_sign(&[1], &[], b""),
        stop_sign(&[u64::MAX, 1 << 40], &[2, 3], b"\0\xff"),
    ] {
        let mut out = Vec::new();
        encode_entries(std::slice::from_ref(&entry), &mut out).unwrap();
        assert_eq!(out.len(), 16 + entry_bytes(&entry));
        let decoded = decode_entries(&Bytes::from(out)).unwrap();
        assert_eq!(decoded, vec![entry]);
    }
}

#[test]
fn a_stop_sign_body_shorter_than_its_counts_is_refused() {
    let entry = stop_sign(&[4, 5, 6], &[9], b"");
    let mut out = Vec::new();
    encode_entries(&[entry], &mut out).unwrap();
    // The voter count (the body's first u32, after the 16-byte batch head
    // and the 16-byte entry head) now claims more ids than the body holds.
    out[32..36].copy_from_slice(&5u32.to_le_bytes());
    let found = for_each_entry::<()>(&out, |_| Ok(()));
    assert_eq!(found, Err(Ok("stop-sign body shorter than its node ids")));
    assert!(decode_entries(&Bytes::from(out.clone())).is_err());
    // Counts that would overflow a usize sum are refused the same way.
    out[32..40].copy_from_slice(&[0xff; 8]);
    assert!(decode_entries(&Bytes::from(out.clone())).is_err());
    // And a body too short for its head.
    let mut short = Vec::new();
    encode_entries(&[stop_sign(&[], &[], b"")], &mut short).unwrap();
    short.truncate(short.len() - 4);
    short[28..32].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(
        for_each_entry::<()>(&short, |_| Ok(())),
        Err(Ok("stop-sign body shorter than its head"))
    );
}

#[test]
fn a_stop_sign_survives_a_reopen_between_commands() {
    let dir = SimDir::new(5);
    let mut wal = Wal::open(dir.clone(), small()).unwrap();
    let command = |index| Entry {
        term: 7,
        index,
        payload: Payload::Command(Bytes::from(vec![index as u8; 10])),
    };
    let mut ss = stop_sign(&[4, 5, 6], &[1], b"next");
    ss.index = 3;
    let written = vec![command(1), command(2), ss, command(4)];
    wal.append(written.clone()).unwrap();
    wal.sync().unwrap();
    drop(wal);
    dir.crash();
    let wal = Wal::open(dir, small()).unwrap();
    assert_eq!(wal.entries(1, 5, u64::MAX).unwrap(), written);
}
