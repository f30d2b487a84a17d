//! The fuzz interpreter (`tests/fuzzing/`) on the committed corpus and on
//! seeded random bytes, so every CI run exercises it and a crash the
//! fuzzer finds becomes a pinned input here.

mod fuzzing {
    pub mod ops;
}

#[path = "../../raft-core/tests/fuzzing/replay.rs"]
mod replay;

use replay::{corpus, random_inputs};

#[test]
fn lock_ops_inputs() {
    for data in random_inputs(7, 2_000, 4_096).chain(corpus("lock_ops")) {
        fuzzing::ops::run(&data);
    }
}
