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
//! # The call loop
//!
//! ```
//! use rand::SeedableRng;
//! use synod_raft_core::{Config, MemStorage, Payload, RaftNode, Role};
//!
//! // One voter, so it can elect itself; real clusters list every voter.
//! let storage = MemStorage::with_voters(&[1]);
//! let rng = rand::rngs::StdRng::seed_from_u64(7);
//! let mut node = RaftNode::new(Config::new(1), storage, rng).unwrap();
//! let mut applied = Vec::new();
//!
//! for tick in 0..30 {
//!     node.tick(); // on a timer; node.step(msg) for every message received
//!     if tick == 25 {
//!         node.propose(b"set x = 1".to_vec()).unwrap();
//!     }
//!     while node.has_ready() {
//!         let ready = node.ready().unwrap();
//!         // 1. Messages that may go now (the leader's appends), in parallel
//!         //    with the disk write.
//!         for msg in ready.messages { /* transport.send(msg) */ let _ = msg; }
//!         // 2. Persist: a leader's snapshot (load it into the state machine
//!         //    too), then entries and hard state, synced if `must_sync`.
//!         let persist = ready.persist;
//!         if let Some(snapshot) = &persist.snapshot {
//!             node.storage_mut().apply_snapshot(snapshot.clone()).unwrap();
//!         }
//!         if let Some(hs) = persist.hard_state {
//!             node.storage_mut().set_hard_state(hs);
//!         }
//!         node.storage_mut().append(&persist.entries).unwrap();
//!         // 3. Only now the messages that vouch for what was written.
//!         let done = persist.persisted();
//!         for msg in done.messages { /* transport.send(msg) */ let _ = msg; }
//!         node.on_persisted(done.receipt);
//!         // 4. Apply committed entries, then report how far.
//!         for entry in ready.committed_entries {
//!             if let Payload::Command(cmd) = &entry.payload {
//!                 applied.push(cmd.clone());
//!             }
//!             node.on_applied(entry.index);
//!         }
//!     }
//! }
//! assert_eq!(node.role(), Role::Leader);
//! assert_eq!(applied, vec![b"set x = 1".to_vec()]);
//! ```
//!
//! # State of this crate
//!
//! In place: the data types, [`Storage`] with [`MemStorage`], [`RaftLog`]
//! (the §5.3 consistency check, §5.4.1 up-to-date rule, §5.4.2 commit rule,
//! conflict hints), elections with randomized timeouts, pre-vote and
//! check-quorum (with leader stickiness), replication with probe /
//! replicate flow control, an in-flight window by messages and bytes,
//! `max_uncommitted_bytes` back-pressure and fast backtracking, and
//! snapshots to followers that need compacted entries (with a tail kept so
//! nearly-caught-up followers need none, and recovery from a lost
//! snapshot), the [`Ready`] hand-off, [`RaftNode::status`],
//! [`RaftNode::report_unreachable`] and [`RaftNode::report_snapshot`].
//! Leadership transfer ([`RaftNode::transfer_leader`]), linearizable reads
//! ([`RaftNode::read_index`]: ReadIndex confirmed by a heartbeat round, or
//! lease reads with [`ReadMode::Lease`]), on the leader or through a
//! follower, and membership changes ([`RaftNode::propose_conf_change`]:
//! learners, single-server changes, joint consensus left automatically,
//! step-down of a removed leader; a node starting with an empty
//! configuration joins when added), and optional proposal forwarding. Still to come (see the crate's issue):
//! the script-test driver.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod conf_change;
mod config;
mod election;
mod error;
mod log;
mod membership;
mod message;
mod node;
mod progress;
mod quorum;
mod read;
mod ready;
mod replication;
mod storage;
mod types;
mod unstable;

pub use config::{Config, ReadMode};
pub use error::{DropReason, Error, StorageError};
pub use log::{AppendOutcome, RaftLog};
pub use message::{AppendResult, Message, MessageBody};
pub use node::{Proposal, RaftNode, Role, SoftState, Status};
pub use progress::{Progress, ProgressState};
pub use ready::{Persist, PersistReceipt, Persisted, Ready};
pub use storage::{MemStorage, Storage};
pub use types::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NO_NODE, NodeId, Payload, ReadId, ReadState, Snapshot, SnapshotMeta, Term,
};
