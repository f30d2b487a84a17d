//! Every integration test of `synod-node` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-node --test suite <file>::`.

#[macro_use]
mod support;

#[path = "cluster.rs"]
mod cluster;
#[path = "durable.rs"]
mod durable;
#[path = "group_commit.rs"]
mod group_commit;
#[path = "membership.rs"]
mod membership;
#[path = "paxos.rs"]
mod paxos;
#[path = "persist_before_send.rs"]
mod persist_before_send;
#[path = "runtimes.rs"]
mod runtimes;
#[path = "storage_failure.rs"]
mod storage_failure;
#[path = "write_path.rs"]
mod write_path;
