//! A synod-wal log built, damaged (bytes flipped, files cut, stray files)
//! and reopened from arbitrary input: no panic, and an open that succeeds
//! yields a usable log. The interpreter is shared with the `fuzz_inputs`
//! test in crates/wal/tests, so a crash found here becomes a pinned input
//! there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/wal/tests/fuzzing/open.rs"]
mod open;

fuzz_target!(|data: &[u8]| open::run(data));
