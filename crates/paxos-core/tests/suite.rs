//! Every integration test of `synod-paxos-core` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-paxos-core --test suite <file>::`.

mod support;

#[path = "config_serde.rs"]
mod config_serde;
#[path = "election.rs"]
mod election;
#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "leases.rs"]
mod leases;
#[path = "lock_simulation.rs"]
mod lock_simulation;
#[path = "mutations.rs"]
mod mutations;
#[path = "partial_connectivity.rs"]
mod partial_connectivity;
#[path = "priority.rs"]
mod priority;
#[path = "promise_catch_up.rs"]
mod promise_catch_up;
#[path = "reconfig.rs"]
mod reconfig;
#[path = "rules.rs"]
mod rules;
#[path = "script.rs"]
mod script;
#[path = "simulation.rs"]
mod simulation;
#[path = "snapshot_pieces.rs"]
mod snapshot_pieces;
#[path = "stop_sign.rs"]
mod stop_sign;
