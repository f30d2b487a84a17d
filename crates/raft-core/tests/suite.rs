//! Every integration test of `synod-raft-core` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-raft-core --test suite <file>::`.

mod common;

#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "handoff.rs"]
mod handoff;
#[path = "log.rs"]
mod log;
#[path = "mem_cluster.rs"]
mod mem_cluster;
#[path = "membership.rs"]
mod membership;
#[path = "node.rs"]
mod node;
#[path = "paper.rs"]
mod paper;
#[path = "protocol.rs"]
mod protocol;
#[path = "read.rs"]
mod read;
#[path = "regressions.rs"]
mod regressions;
#[path = "script.rs"]
mod script;
#[path = "snapshot_transfer.rs"]
mod snapshot_transfer;
#[path = "storage.rs"]
mod storage;
#[path = "transfer.rs"]
mod transfer;
