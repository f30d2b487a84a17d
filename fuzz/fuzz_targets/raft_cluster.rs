//! A 3 to 5 node raft-core cluster driven by the input (ticks, deliveries, drops, duplicates, stale or client replacements, syncs, crashes with torn writes, proposals, reads, compactions, transfers, membership changes), with Raft's safety properties checked after every step.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/raft-core/tests, so a crash found here becomes a pinned input there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/raft-core/tests/fuzzing/cluster.rs"]
mod cluster;

fuzz_target!(|data: &[u8]| cluster::run(data));
