//! Arbitrary programs of updates (valid, invalid and extreme weights),
//! picks with hashes and exclusions, completions, clock jumps and
//! maintenance over every synod-lb picker, checked against a plain model.
//! The interpreter is shared with the `ops` proptest in crates/lb/tests,
//! so a crash found here replays there as a pinned program.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/lb/tests/common/ops.rs"]
mod ops;

fuzz_target!(|data: &[u8]| ops::run(data));
