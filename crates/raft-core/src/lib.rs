//! A pure Raft state machine for Synod.
//!
//! The contract: a Raft node is a deterministic state machine. Ticks and
//! messages go in; what the node wants done (messages to send, entries and
//! state to persist, entries to apply) comes out as data. This crate has no
//! threads, no clocks, no sockets and no runtime, and draws randomness only
//! from an RNG its caller passes in, so a seeded run replays bit for bit and
//! every rule can be tested without a network.
//!
//! The key design decision: **the node only reads storage; the application
//! writes it.** [`Storage`] is a read interface; entries, hard state and
//! snapshots to write are handed to the application, which persists them
//! (batching and fsyncing as it likes) and reports back. That is what lets a
//! leader write to its disk in parallel with sending to followers.
//!
//! # State of this crate
//!
//! This release holds the foundation the protocol is built on: the data
//! types ([`Entry`], [`HardState`], [`ConfState`], [`Snapshot`]), the
//! [`Storage`] trait with [`MemStorage`], and [`RaftLog`], the log with its
//! consistency check (Raft §5.3), up-to-date comparison (§5.4.1), the
//! commit rule for the current term (§5.4.2) and the conflict hint for fast
//! backtracking. Elections, replication, the `Ready` loop, snapshots,
//! membership changes and reads land next; see the crate's issue.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod error;
mod log;
mod storage;
mod types;
mod unstable;

pub use error::StorageError;
pub use log::{AppendOutcome, RaftLog};
pub use storage::{MemStorage, Storage};
pub use types::{
    ConfState, Entry, HardState, Index, InitialState, NO_NODE, NodeId, Payload, Snapshot,
    SnapshotMeta, Term,
};
