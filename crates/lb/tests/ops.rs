//! Arbitrary programs of updates, picks, completions, clock jumps and
//! maintenance over every picker never panic and agree with a plain model
//! (the interpreter is shared with the `lb_ops` fuzz target).

use crate::common;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn programs_agree_with_the_model(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        common::ops::run(&data);
    }
}

/// Programs worth keeping, written out op by op (see common/ops.rs for
/// the encoding: an op byte, then its arguments).
#[test]
fn pinned_programs() {
    const PICK_ZERO_HASH: [u8; 9] = [3, 0, 0, 0, 0, 0, 0, 0, 0];
    const FAIL_FIRST_HELD: [u8; 3] = [5, 0, 1];
    // Round robin, strict health (2 failures eject, cap 100 %): two
    // endpoints failed until both are out, then picks in panic mode.
    let mut panic_mode = vec![1, 0, 0, 0, 0, 1, 0];
    for _ in 0..5 {
        panic_mode.extend(PICK_ZERO_HASH);
        panic_mode.extend(FAIL_FIRST_HELD);
    }
    panic_mode.extend(PICK_ZERO_HASH);
    // Round robin, default health: insert, pick, remove the endpoint,
    // complete its guard, insert the key again, pick.
    let mut after_removal = vec![0, 0, 0, 0];
    after_removal.extend(PICK_ZERO_HASH);
    after_removal.extend([1, 0, 5, 0, 0, 0, 0, 0]);
    after_removal.extend(PICK_ZERO_HASH);
    for p in [panic_mode, after_removal] {
        common::ops::run(&p);
    }
}
