//! Arbitrary bytes as what a stranger sends a synod-tcp listener: a
//! handshake frame, then message frames. The interpreter is shared with the
//! `fuzz_inputs` test in crates/tcp/tests, so a crash found here becomes a
//! pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/tcp/tests/fuzzing/frames.rs"]
mod frames;

fuzz_target!(|data: &[u8]| frames::run(data));
