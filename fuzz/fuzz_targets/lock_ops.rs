//! The synod-lock state machine fed every kind of command from a few clients (clock stamps and term changes included), retries, raw bytes as requests and snapshots, and snapshot round trips: no panic, invariants hold, tokens never go back, retries change nothing.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/lock/tests, so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/lock/tests/fuzzing/ops.rs"]
mod ops;

fuzz_target!(|data: &[u8]| ops::run(data));
