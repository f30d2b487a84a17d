//! Recorded histories (Jepsen and Porcupine log lines through the
//! importers, and small key-value and compare-and-set histories built from
//! the bytes) checked whole and part by part: no panic, the two checks
//! agree, and small histories get the brute force's verdict. The
//! interpreter is shared with the `fuzz_inputs` test in crates/sim/tests,
//! so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/sim/tests/fuzzing/history.rs"]
mod history;

fuzz_target!(|data: &[u8]| history::run(data));
