//! The fuzz interpreters (`tests/fuzzing/`) on pinned inputs and on seeded
//! random bytes, so every CI run exercises them and a crash the fuzzer
//! finds becomes a pinned input here.
#![cfg(all(feature = "arbitrary", feature = "serde"))]

mod fuzzing {
    pub mod cluster;
    pub mod decode;
    pub mod step;
}

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn random_inputs(seed: u64, count: usize, max_len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(move |_| {
        let len = (rng.next_u64() as usize) % max_len;
        (0..len).map(|_| rng.next_u64() as u8).collect()
    })
}

#[test]
fn decode_inputs() {
    for data in random_inputs(1, 20_000, 96) {
        fuzzing::decode::run(&data);
    }
}

#[test]
fn step_inputs() {
    for data in random_inputs(2, 2_000, 2_048) {
        fuzzing::step::run(&data);
    }
}

#[test]
fn cluster_inputs() {
    for data in random_inputs(3, 1_000, 4_096) {
        fuzzing::cluster::run(&data);
    }
}
