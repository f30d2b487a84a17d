//! # synod-node
//!
//! Runs a Synod consensus protocol as a replicated service. You supply a
//! [`StateMachine`] (your service), a [`Transport`] (your RPC, or ours),
//! a [`LogStorage`] (synod-wal, [`MemStorage`](synod_protocol::MemStorage)
//! or yours) and a stream of ticks; [`Driver::new`] gives back a
//! [`Client`] for your callers, an [`Inbox`] for your transport, and the
//! [`Driver`] whose [`Driver::run`] future is the node.
//!
//! The key design decision: **the driver does not own a runtime**. It is
//! one future built from `futures` channels and combinators; time comes
//! from the caller's tick stream; blocking disk work goes to a
//! caller-chosen [`Blocking`] executor ([`DiskThread`] for a real disk,
//! [`Inline`] for memory and simulation). So it runs on tokio, on the
//! `futures` executor, on smol, or inside a simulator, unchanged.
//!
//! What the driver guarantees:
//! - **Persist before send**: messages that vouch for state (votes,
//!   acknowledgements) leave only after the log write they depend on has
//!   synced; the protocol's types make any other order impossible.
//! - **Acknowledged means applied**: [`Client::propose`] answers only
//!   once the command's entry is committed and applied here, with the
//!   state machine's response; an entry lost to a leader change answers
//!   [`Error::Lost`], never a false success.
//! - **Group commit**: inputs arriving while a write is in flight join the
//!   next one; a leader's appends go out in parallel with its own write.
//! - **Linearizable reads** through the protocol (Raft's ReadIndex or a
//!   lease), stale reads on request.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod blocking;
mod client;
mod driver;
mod error;
mod inbox;
mod inputs;
mod latency;
mod log_storage;
pub mod memory;
mod observe;
mod options;
mod pending;
mod reply;
mod snapshot_reader;
mod state_machine;
mod status;
mod transport;

pub use blocking::{Blocking, DiskThread, Inline, Job};
pub use client::{Client, Consistency, Shutdown};
pub use driver::Driver;
pub use error::Error;
pub use inbox::{Inbox, InboxReceiver};
pub use latency::{LATENCY_BUCKETS, LatencyHistogram};
pub use log_storage::LogStorage;
pub use options::NodeOptions;
pub use snapshot_reader::SnapshotReader;
pub use state_machine::StateMachine;
pub use status::NodeStatus;
pub use transport::Transport;
