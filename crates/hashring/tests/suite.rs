//! Every integration test of `synod-hashring` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-hashring --test suite <file>::`.

mod common;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "balance.rs"]
mod balance;
#[path = "consistency.rs"]
mod consistency;
#[path = "golden.rs"]
mod golden;
#[path = "ops.rs"]
mod ops;
#[path = "reference.rs"]
mod reference;
#[path = "serde.rs"]
mod serde;
