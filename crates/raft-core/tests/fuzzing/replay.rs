//! Inputs for replaying a fuzz interpreter in a normal test run: the
//! committed corpus of a target and seeded random bytes. Shared by path
//! with paxos-core's and synod-lock's `fuzz_inputs` tests.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The committed corpus of a fuzz target (fuzz/corpus/<target>), sorted by
/// file name: inputs the fuzzer kept because they reached new code.
pub(crate) fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// `count` inputs of fewer than `max_len` random bytes, from `seed`.
pub(crate) fn random_inputs(
    seed: u64,
    count: usize,
    max_len: usize,
) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(move |_| {
        let len = (rng.next_u64() as usize) % max_len;
        (0..len).map(|_| rng.next_u64() as u8).collect()
    })
}
