//! Arbitrary bytes decoded (postcard) as every raft-core wire and disk type; what decodes round-trips.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/raft-core/tests, so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/raft-core/tests/fuzzing/decode.rs"]
mod decode;

fuzz_target!(|data: &[u8]| decode::run(data));
