//! Every integration test of `synod-tcp` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-tcp --test suite <file>::`.

#[path = "frames.rs"]
mod frames;
#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "handshake.rs"]
mod handshake;
#[path = "large_snapshot.rs"]
mod large_snapshot;
#[cfg(feature = "turmoil")]
#[path = "turmoil_kv.rs"]
mod turmoil_kv;
