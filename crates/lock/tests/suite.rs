//! Every integration test of `synod-lock` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-lock --test suite <file>::`.

#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "properties.rs"]
mod properties;
#[path = "rules.rs"]
mod rules;
#[path = "service.rs"]
mod service;
