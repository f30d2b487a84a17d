//! The `tcp_frames` fuzz interpreter on seeded random inputs, on built
//! frames cut at every byte, and on every committed corpus file
//! (fuzz/corpus/tcp_frames), so the normal test run replays what the
//! fuzzer found.

#[path = "fuzzing/frames.rs"]
mod frames;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use synod_raft_core::{Message, MessageBody};
use synod_tcp::frame::{self, Hello, MAGIC, WIRE_VERSION};

fn valid_stream() -> Vec<u8> {
    let mut out = vec![200u8];
    let hello = Hello {
        magic: MAGIC,
        version: WIRE_VERSION,
        cluster: "c".into(),
        from: 1,
        to: 2,
    };
    frame::encode(&hello, &mut out).expect("encodes");
    let m = Message {
        from: 1,
        to: 2,
        term: 3,
        body: MessageBody::TimeoutNow,
    };
    frame::encode(&m, &mut out).expect("encodes");
    out
}

#[test]
fn seeded_inputs() {
    let mut rng = StdRng::seed_from_u64(12);
    for _ in 0..5000 {
        let len = rng.random_range(0..200);
        let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        frames::run(&data);
    }
}

#[test]
fn a_valid_stream_cut_and_flipped_anywhere() {
    let stream = valid_stream();
    frames::run(&stream);
    for cut in 0..stream.len() {
        frames::run(&stream[..cut]);
        let mut flipped = stream.clone();
        flipped[cut] ^= 0xff;
        frames::run(&flipped);
    }
}

#[test]
fn the_committed_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/tcp_frames");
    // A missing corpus must fail, not pass with nothing run.
    let files = std::fs::read_dir(dir).expect("the committed corpus");
    let mut ran = 0;
    for file in files {
        let path = file.expect("an entry").path();
        frames::run(&std::fs::read(&path).expect("readable"));
        ran += 1;
    }
    assert!(ran >= 2, "only {ran} corpus inputs");
}
