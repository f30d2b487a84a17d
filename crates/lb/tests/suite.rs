//! Every integration test of `synod-lb` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-lb --test suite <file>::`.

mod common;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "balancer.rs"]
mod balancer;
#[path = "health.rs"]
mod health;
#[path = "ops.rs"]
mod ops;
#[path = "tower.rs"]
mod tower;
