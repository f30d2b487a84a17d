//! The fuzz interpreter (`tests/fuzzing/`) on the committed corpus and on
//! seeded random bytes, so every CI run exercises it and a crash the
//! fuzzer finds becomes a pinned input here.

mod fuzzing {
    pub mod ops;
}

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
fn lock_ops_inputs() {
    // A fixed generator (splitmix64) for the random inputs: no dependency,
    // the same bytes on every run.
    let mut state = 7u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let random: Vec<Vec<u8>> = (0..2_000)
        .map(|_| {
            let len = (next() as usize) % 4_096;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect();
    for data in random.into_iter().chain(corpus("lock_ops")) {
        fuzzing::ops::run(&data);
    }
}
