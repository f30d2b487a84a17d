//! # synod-protocol
//!
//! The one interface between Synod's consensus protocols and everything
//! that drives them. A protocol crate (synod-raft-core, later
//! synod-paxos-core) implements [`Protocol`] in its own code; the
//! simulator, the async driver (synod-node), the lock service and the
//! benches are written against the trait, so switching protocol is
//! changing one type.
//!
//! The key design decision: a protocol is a *pure state machine* that
//! reads its log through one [`Storage`] contract and never writes it.
//! Everything it wants done (send, persist, apply) comes out of
//! [`Protocol::ready`] as data, with the messages that must wait for a
//! durable write held until [`AfterWrite::written`]. So one log
//! implementation (synod-wal, [`MemStorage`], yours) serves every
//! protocol, and no driver can send a vote before it is on disk.
//!
//! This crate holds only that contract: the trait, the hand-off types,
//! the log's data types ([`Entry`], [`HardState`], [`Snapshot`], ...),
//! the [`Storage`] trait with its error, and [`MemStorage`].

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod error;
mod handoff;
mod protocol;
mod spare;
mod storage;
mod transfer;
mod types;

pub use bytes::Bytes;
pub use error::StorageError;
pub use handoff::{AfterWrite, Ready, Write, Written};
pub use protocol::{Proposed, Protocol, Refusal, Role, Status};
pub use spare::Spare;
pub use storage::{MemStorage, Storage, check_continues, limit_size, slice_piece};
pub use transfer::{RESEND_AFTER_ROUNDS, resend_after_rounds};
#[cfg(feature = "arbitrary")]
#[doc(hidden)]
pub use types::arbitrary_bytes;
pub use types::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NO_NODE, NodeId, Payload, ReadId, ReadState, Snapshot, SnapshotMeta, SnapshotPiece, StopSign,
    Term,
};
