//! Every integration test of `synod-wal` in one test binary: one build and
//! one link for all of them instead of one per file. Each file is a module
//! of its own, loaded by path, so it reads as it did when it was a binary;
//! run one file's tests with `cargo test -p synod-wal --test suite <file>::`.

mod support;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "buffered_hard_state.rs"]
mod buffered_hard_state;
#[path = "crash_histories.rs"]
mod crash_histories;
#[path = "cuts.rs"]
mod cuts;
#[path = "fuzz_inputs.rs"]
mod fuzz_inputs;
#[path = "golden_log.rs"]
mod golden_log;
#[path = "raft_cluster.rs"]
mod raft_cluster;
#[path = "record.rs"]
mod record;
#[path = "recycle.rs"]
mod recycle;
#[path = "segment.rs"]
mod segment;
#[path = "sim_fs.rs"]
mod sim_fs;
#[path = "snapshot_staging.rs"]
mod snapshot_staging;
#[path = "state_file.rs"]
mod state_file;
#[path = "std_dir.rs"]
mod std_dir;
#[path = "stop_sign.rs"]
mod stop_sign;
#[path = "wal.rs"]
mod wal;
