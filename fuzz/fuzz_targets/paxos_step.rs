//! One synod-paxos-core node fed arbitrary structurally valid messages (forged ones included), ticks, proposals, reads, campaigns, restarts and undecodable bytes: no panic, and the node's invariants hold.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/paxos-core/tests, so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/paxos-core/tests/fuzzing/step.rs"]
mod step;

fuzz_target!(|data: &[u8]| step::run(data));
