//! One raft-core node fed arbitrary structurally valid messages (forged ones included), ticks, proposals, reads, compactions, transfers, membership changes and restarts: no panic, and the node's invariants hold.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/raft-core/tests, so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/raft-core/tests/fuzzing/step.rs"]
mod step;

fuzz_target!(|data: &[u8]| step::run(data));
