//! Every integration test of `synod-examples` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-examples --test suite <file>::`.

#[path = "bank.rs"]
mod bank;
#[path = "http_api.rs"]
mod http_api;
#[path = "load.rs"]
mod load;
#[path = "lock_service.rs"]
mod lock_service;
#[path = "ports.rs"]
mod ports;
