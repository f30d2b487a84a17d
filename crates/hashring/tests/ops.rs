//! Arbitrary operation sequences (the fuzz target's programs) never panic
//! and always agree with a plain model; see `common/ops.rs`.

#[path = "common/ops.rs"]
mod interpreter;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_programs_hold_their_invariants(data in prop::collection::vec(any::<u8>(), 0..600)) {
        interpreter::run(&data);
    }
}

/// Programs that once mattered, kept as regressions.
#[test]
fn pinned_programs() {
    interpreter::run(&[]);
    interpreter::run(&[160, 4, 21, 80]);
    // Insert node 7 twice, with a NaN weight, then remove and locate.
    interpreter::run(&[
        10, 5, 21, 80, 0, 7, 0, 0, 7, 5, 1, 7, 2, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
}
