//! The fuzz interpreter (`tests/fuzzing/`) on the committed corpus and on
//! seeded random bytes, so every CI run exercises it and a crash the
//! fuzzer finds becomes a pinned input here.
#![cfg(all(feature = "arbitrary", feature = "serde"))]

mod fuzzing {
    pub mod step;
}

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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

#[test]
fn step_inputs() {
    let mut rng = StdRng::seed_from_u64(3);
    let random = (0..2_000).map(|_| {
        let len = (rng.next_u64() as usize) % 2_048;
        (0..len).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>()
    });
    for data in random
        .collect::<Vec<_>>()
        .into_iter()
        .chain(corpus("paxos_step"))
    {
        fuzzing::step::run(&data);
    }
}
