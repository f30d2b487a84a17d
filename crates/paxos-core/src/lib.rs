//! # synod-paxos-core
//!
//! Multi-Paxos as a pure state machine, behind the same
//! [`synod_protocol::Protocol`] interface as synod-raft-core: no threads,
//! clocks, sockets or runtime; time enters as `tick()`, messages as
//! `step()`, and what the node wants done (send, persist, apply) comes out
//! of `ready()` as data, with persist-before-send in the types.
//!
//! The protocol (see `docs/paxos.md`):
//! - **Ballots** `(round, node)` packed in a `u64`, totally ordered, never
//!   reused: a node persists its promise of a ballot before it sends a
//!   prepare in it, and each campaign takes a round above all it has seen.
//! - **Quorum-connected leader election**: every node beats to every peer;
//!   only a node that hears a quorum may campaign, and connected nodes
//!   follow the highest leader ballot connected nodes report.
//! - **Phase 1 once per leadership** for every later slot: the leader
//!   adopts the most advanced accepted log among a quorum of promises (by
//!   the term of its last entry, then its length), opens its ballot with
//!   an entry of its own, and syncs each acceptor's log to its own.
//! - **Phase 2 pipelined and batched** with a per-acceptor window; an entry
//!   is decided once a majority holds it durably and it (or a later entry
//!   of this ballot) is of the leader's ballot; the decided index rides on
//!   every accept.
//! - **Catch-up**: a lagging or restarted acceptor asks to be prepared
//!   again and receives the log after its decided index, or the leader's
//!   snapshot when that was compacted.
//! - **Linearizable reads** by quorum read rounds, or from a leader lease
//!   (`Config::lease_reads`, with its clock assumption stated there).
//! - **Leader priority, backoff and transfer**: a higher-priority node
//!   is preferred as leader (a working leader hands over to a caught-up
//!   one); failed campaigns widen the next wait; `transfer_leadership`.
//! - Storage errors are returned, never a panic; malformed or forged
//!   messages are refused before any handler runs.
//!
//! - **Flexible quorums**: phase-1 and phase-2 quorum sizes configurable
//!   and checked to intersect.
//!
//! - **Reconfiguration** in the same log, in force from the moment a node
//!   holds the change, as in Raft: one voter directly (every majority of
//!   the old voters meets every majority of the new), several at once
//!   through a joint configuration in which both majorities must agree,
//!   left by the leader once decided ([`PaxosNode::voters_outgoing`]);
//!   new nodes join as learners and become voters once caught up (see
//!   `docs/paxos.md`).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod acceptor;
mod ballot;
mod catch_up;
mod config;
mod election;
mod error;
mod leader;
mod lease;
mod log;
mod message;
#[cfg(feature = "mutations")]
pub mod mutation;
mod node;
mod pacing;
mod protocol;
mod read;
mod reconfig;
mod snapshot;
mod validate;

pub use ballot::{Ballot, MAX_NODE_ID, MAX_ROUND};
pub use config::Config;
pub use error::Error;
pub use leader::ProposeError;
pub use message::{Body, Message, Suffix};
pub use node::{PaxosNode, Receipt, Role};
/// The `rand` (0.10) whose generators this crate's API takes: name
/// `synod_paxos_core::rand::rngs::StdRng` to be sure the versions match.
pub use rand;
pub use synod_protocol::{
    AfterWrite, ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index,
    MemStorage, NodeId, Payload, ReadId, ReadState, Ready, Snapshot, SnapshotMeta, StopSign,
    Storage, StorageError, Term, Write, Written,
};
