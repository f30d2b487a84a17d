//! Arbitrary programs of updates, picks, completions, clock jumps and
//! maintenance over every picker never panic and agree with a plain model
//! (the interpreter is shared with the `lb_ops` fuzz target).

mod common;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn programs_agree_with_the_model(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        common::ops::run(&data);
    }
}

/// Programs worth keeping: each once failed or covers a corner.
#[test]
fn pinned_programs() {
    let programs: &[&[u8]] = &[
        // Every endpoint ejected under a 100 % cap: panic mode.
        &[1, 0, 1, 0, 0, 2, 0, 3, 0, 0, 5, 0, 1, 3, 0, 0, 5, 0, 1, 7],
        // Insert, pick, remove, complete after removal.
        &[0, 0, 4, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 5, 0, 0],
    ];
    for p in programs {
        common::ops::run(p);
    }
}
