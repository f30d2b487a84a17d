//! The fuzz interpreter (`tests/fuzzing/`) on the committed corpus and on
//! seeded random bytes, so every CI run exercises it and a crash the
//! fuzzer finds becomes a pinned input here.
#![cfg(all(feature = "arbitrary", feature = "serde"))]

mod fuzzing {
    pub mod step;
}

#[path = "../../raft-core/tests/fuzzing/replay.rs"]
mod replay;

use replay::{corpus, random_inputs};

#[test]
fn step_inputs() {
    for data in random_inputs(3, 2_000, 2_048).chain(corpus("paxos_step")) {
        fuzzing::step::run(&data);
    }
}
