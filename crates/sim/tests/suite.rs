//! Every integration test of `synod-sim` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-sim --test suite <file>::`.

#[path = "custom_replica.rs"]
mod custom_replica;
#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "html_browser.rs"]
mod html_browser;
#[path = "import.rs"]
mod import;
#[path = "kv_state.rs"]
mod kv_state;
#[path = "leader_completeness.rs"]
mod leader_completeness;
#[path = "linearizability.rs"]
mod linearizability;
#[path = "lock.rs"]
mod lock;
#[path = "lock_mutations.rs"]
mod lock_mutations;
#[path = "models.rs"]
mod models;
#[path = "mutations.rs"]
mod mutations;
#[path = "protocol_replica.rs"]
mod protocol_replica;
#[path = "service.rs"]
mod service;
#[path = "simulation.rs"]
mod simulation;
#[path = "turmoil_raft.rs"]
mod turmoil_raft;
