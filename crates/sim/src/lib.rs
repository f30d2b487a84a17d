//! Deterministic simulation and checking for Synod's protocols.
//!
//! The contract: one `u64` seed reproduces a run bit for bit, and every
//! verdict can fail. [`run_with`] simulates a cluster of any protocol that
//! implements [`Replica`] ([`run`] is synod-raft-core's) under a
//! [`FaultConfig`] (loss, duplication, delays, partitions of every
//! [`PartitionKind`], crashes that lose unsynced writes, pauses, clock
//! skew) with key-value clients that time out and retry, checks election
//! safety, leader completeness and committed entries after every tick, and
//! checks the clients' [`History`] for linearizability at the end.
//! [`check_mutex`] checks lock grants and fencing tokens.
//!
//! The key design decision: **the checker is exact, partitioned and
//! budgeted.** It is the Wing & Gong search with Lowe's memoization (the
//! approach of Porcupine), run per key; operations with unknown outcomes
//! may take effect at any time after their invocation or never; and a
//! search that exceeds its step budget answers [`Verdict::Unknown`] instead
//! of hanging.
//!
//! ```
//! use synod_sim::{check, run, History, Input, Output, RunOutcome, SimConfig, Verdict};
//! let mut h = History::new();
//! let put = h.invoke(1, 7, Input::Put(1), 0);
//! let get = h.invoke(2, 7, Input::Get, 1);
//! h.complete(put, 2, Output::Ok).unwrap();
//! h.complete(get, 3, Output::Value(Some(1))).unwrap();
//! assert_eq!(check(&h, 10_000), Verdict::Linearizable);
//!
//! let report = run(&SimConfig::safety(42)).unwrap();
//! // Passed: no invariant broke and the history was checked to the end
//! // (a check out of budget is `RunOutcome::Unchecked`, not a pass).
//! assert_eq!(report.outcome(), RunOutcome::Passed, "replay: {}", report.replay_command());
//! ```
//!
//! Replay a seed with `cargo run --release --example simulate -- --start
//! SEED --seeds 1 --verbose`; see `docs/testing.md`.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod cluster;
mod config;
mod disk;
mod error;
mod fault;
mod history;
mod html;
mod import;
mod kv;
mod kv_value;
mod linearizability;
mod lock;
mod memo;
mod model;
pub mod models;
mod mutex;
mod network;
mod partition;
mod protocol_replica;
mod raft;
mod replica;
mod report;
mod search;
mod service;

pub use cluster::{run, run_service, run_with};
pub use config::SimConfig;
pub use error::SimError;
pub use fault::FaultConfig;
pub use history::{History, Input, Key, OpId, Operation, Output, Value};
pub use html::history_html;
pub use import::{
    HistoryEvent, ImportError, history_from_events, jepsen_register_history, porcupine_kv_history,
};
pub use kv::{Command, Kv};
pub use linearizability::{Report, Verdict, check};
pub use lock::{LockRunReport, LockSimConfig, LockSummary, LockViolation, run_lock, run_lock_with};
pub use model::{
    Model, ModelOp, ModelReport, ModelVerdict, Outcome, PartCheck, PartResult, check_model,
    check_model_parts,
};
pub use mutex::{LockGrant, MutexViolation, check_mutex};
pub use partition::PartitionKind;
pub use protocol_replica::ProtocolReplica;
pub use raft::{RaftOptions, RaftReplica, RaftWrite};
pub use replica::{Applied, MembershipChange, Proposed, ReadStarted, Ready, Replica};
pub use report::{RunOutcome, RunReport, Summary, Violation};
pub use service::{Service, ServiceInput, ServiceOutput, ServiceRunReport};
