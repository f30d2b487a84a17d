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

/// The committed corpus of a fuzz target (fuzz/corpus/<target>), sorted by
/// file name: inputs the fuzzer kept because they reached new code.
fn corpus(target: &str) -> Vec<Vec<u8>> {
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

fn random_inputs(seed: u64, count: usize, max_len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(move |_| {
        let len = (rng.next_u64() as usize) % max_len;
        (0..len).map(|_| rng.next_u64() as u8).collect()
    })
}

#[test]
fn decode_inputs() {
    for data in random_inputs(1, 20_000, 96).chain(corpus("raft_decode")) {
        fuzzing::decode::run(&data);
    }
}

#[test]
fn step_inputs() {
    for data in random_inputs(2, 2_000, 2_048).chain(corpus("raft_step")) {
        fuzzing::step::run(&data);
    }
}

#[test]
fn cluster_inputs() {
    let (mut leaders, mut commits, mut reads, mut crashes) = (0, 0, 0, 0);
    let inputs = corpus("raft_cluster");
    assert!(inputs.len() > 100, "the committed corpus is missing");
    for data in random_inputs(3, 1_000, 4_096).chain(inputs) {
        let stats = fuzzing::cluster::run_with_stats(&data);
        leaders += stats.leaders;
        commits += u64::from(stats.max_commit > 1);
        reads += stats.reads;
        crashes += stats.crashes;
    }
    // The inputs must drive the cluster deep enough to check something.
    eprintln!("leaders {leaders}, runs committing {commits}, reads {reads}, crashes {crashes}");
    assert!(leaders > 1_000, "{leaders} terms with a leader");
    assert!(
        commits > 300,
        "{commits} runs committed past the bootstrap entry"
    );
    assert!(reads > 1_000, "{reads} reads answered");
    assert!(crashes > 100, "{crashes} crashes");
}
