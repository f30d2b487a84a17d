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

/// Asserts that each planted bug in `bugs` makes `run(input, bug)` panic
/// on some input: the interpreter's checks have teeth. Prints the first
/// input that catches each; the panics themselves are silenced.
pub(crate) fn assert_caught<M: Copy + std::fmt::Debug>(
    inputs: &[Vec<u8>],
    bugs: &[M],
    run: impl Fn(&[u8], M),
) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let results: Vec<(M, Option<usize>)> = bugs
        .iter()
        .map(|&m| {
            let at = inputs.iter().position(|data| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(data, m))).is_err()
            });
            (m, at)
        })
        .collect();
    std::panic::set_hook(hook);
    for (m, at) in &results {
        eprintln!("{m:?}: caught by input {at:?}");
    }
    let missed: Vec<_> = results.iter().filter(|(_, at)| at.is_none()).collect();
    assert!(missed.is_empty(), "not caught: {missed:?}");
}
