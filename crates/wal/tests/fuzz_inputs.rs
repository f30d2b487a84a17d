//! The `wal_open` fuzz interpreter on seeded random inputs and on every
//! committed corpus file (fuzz/corpus/wal_open), so the normal test run
//! replays what the fuzzer found.

#[path = "fuzzing/open.rs"]
mod open;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[test]
fn seeded_inputs() {
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..2000 {
        let len = rng.random_range(0..200);
        let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        open::run(&data);
    }
}

#[test]
fn the_committed_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/wal_open");
    // A missing corpus must fail, not pass with nothing run.
    let files = std::fs::read_dir(dir).expect("the committed corpus");
    let mut ran = 0;
    for file in files {
        let path = file.unwrap().path();
        open::run(&std::fs::read(&path).unwrap());
        ran += 1;
    }
    assert!(ran > 100, "only {ran} corpus inputs");
}
