//! A configuration serialized by an earlier version (before
//! `snapshot_chunk_bytes` existed) still reads, with that field's default.
#![cfg(feature = "serde")]

use synod_paxos_core::Config;

#[test]
fn a_configuration_written_before_snapshot_chunks_reads_with_the_default() {
    let now = Config::new(3);
    let mut json = serde_json::to_value(&now).unwrap();
    json.as_object_mut().unwrap().remove("snapshot_chunk_bytes");
    let read: Config = serde_json::from_value(json).unwrap();
    assert_eq!(read.snapshot_chunk_bytes, 1 << 20);
    assert_eq!(read, now);
    // And it round-trips whole.
    let chunked = Config {
        snapshot_chunk_bytes: 4096,
        ..Config::new(3)
    };
    let again: Config = serde_json::from_str(&serde_json::to_string(&chunked).unwrap()).unwrap();
    assert_eq!(again, chunked);
}
