//! A 3 to 5 node raft-core cluster driven by the input (ticks, deliveries, drops, duplicates, stale or client replacements, syncs, crashes with torn writes, proposals, reads, compactions, transfers, membership changes), with Raft's safety properties checked after every step.
//! The interpreter is shared with the `fuzz_inputs` test in
//! crates/raft-core/tests, so a crash found here becomes a pinned input there.
//! Built with `--features mutations`, it plants the bug `SYNOD_MUTATION`
//! names (a `Mutation` variant) in every node.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/raft-core/tests/fuzzing/cluster.rs"]
mod cluster;

#[cfg(not(feature = "mutations"))]
fuzz_target!(|data: &[u8]| cluster::run(data));

#[cfg(feature = "mutations")]
#[path = "shared/planted.rs"]
mod planted;

#[cfg(feature = "mutations")]
fuzz_target!(|data: &[u8]| {
    let planted = planted::named(&synod_raft_core::mutation::Mutation::ALL);
    cluster::run_configured(data, &|c| c.mutation = Some(planted));
});
