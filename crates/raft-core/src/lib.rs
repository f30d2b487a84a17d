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
//! use synod_raft_core::{Config, MemStorage, Payload, Persist, RaftNode, Role};
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
//!         // 2. Persist, synced if `must_sync`, in this order: a leader's
//!         //    snapshot (load it into the state machine too), the entries,
//!         //    then the hard state, so a crash between two writes never
//!         //    leaves a commit index past the log.
//!         //    The parts move into storage: nothing is copied.
//!         let Persist { hard_state, snapshot, entries, after, .. } = ready.persist;
//!         if let Some(snapshot) = snapshot {
//!             node.storage_mut().apply_snapshot(snapshot).unwrap();
//!         }
//!         node.storage_mut().append(entries).unwrap();
//!         if let Some(hs) = hard_state {
//!             node.storage_mut().set_hard_state(hs);
//!         }
//!         // 3. Only now the messages that vouch for what was written.
//!         let done = after.persisted();
//!         for msg in done.messages { /* transport.send(msg) */ let _ = msg; }
//!         node.on_persisted(done.receipt);
//!         // 4. Apply committed entries, then report how far.
//!         let mut committed = ready.committed_entries;
//!         for entry in committed.drain(..) {
//!             if let Payload::Command(cmd) = entry.payload {
//!                 applied.push(cmd); // a `Bytes`: shared, not copied
//!             }
//!             node.on_applied(entry.index);
//!         }
//!         // 5. Optional: hand the emptied buffers back, and the next
//!         //    `ready` fills them instead of allocating (also
//!         //    `reuse_messages` for the message buffers once sent).
//!         node.reuse_entries(committed);
//!     }
//! }
//! assert_eq!(node.role(), Role::Leader);
//! assert_eq!(applied, [&b"set x = 1"[..]]);
//! ```
//!
//! The generator is rand 0.10's (re-exported as `synod_raft_core::rand`);
//! [`RaftNode::with_seed`] takes a plain `u64` instead. A whole cluster in
//! one process, ready made, is `mem_cluster::MemCluster` (feature
//! `mem-cluster`): this loop per node, an in-memory network, cut links,
//! crashes and restarts. The same loop written out, with a small
//! key-value state machine, is
//! `examples/raft_three_nodes.rs` in the repository
//! (`cargo run --example raft_three_nodes`); for tests under message
//! loss, reordering and torn writes, `synod-sim` drives raft-core with a
//! simulated network and disks.
//!
//! **How long is a tick?** Whatever the application's timer says: the
//! node counts ticks, never time. Elections take `election_timeout_ticks`
//! (10 by default) to `2 * election_timeout_ticks` ticks and heartbeats go
//! every `heartbeat_ticks`, so pick a tick a little above the
//! network's round trip and the disk's sync: 10 ms on one machine or a
//! LAN (elections after 100-200 ms, as etcd's defaults), 50-100 ms across
//! regions. With lease reads, ticks must run at the same rate on every
//! node within [`Config::lease_drift_margin_ticks`].
//!
//! # What the node does
//!
//! - Elections with randomized timeouts (Raft §5.2), pre-vote and
//!   check-quorum with leader stickiness (thesis §9.6, §6.2).
//! - Replication with the consistency check and fast conflict hints
//!   (§5.3), commitment only by counting entries of the current term
//!   (§5.4.2), probe / replicate / snapshot flow control with an in-flight
//!   window by messages and bytes, `max_size_per_msg_bytes`, commit carried
//!   on heartbeats, and `max_uncommitted_bytes` back-pressure.
//! - Snapshots to followers that need compacted entries (§7), with a log
//!   tail kept so nearly caught-up followers need none, and recovery from a
//!   lost snapshot.
//! - Membership changes ([`RaftNode::propose_conf_change`]): learners,
//!   single-server changes, joint consensus left automatically (§6), a
//!   removed leader handing over to the most caught-up voter; a node
//!   started with an empty configuration and [`Config::joining`] joins
//!   when added.
//! - Leadership transfer ([`RaftNode::transfer_leader`], cancelled by
//!   [`RaftNode::cancel_transfer_leader`]), linearizable reads
//!   ([`RaftNode::read_index`]: ReadIndex, or [`ReadMode::Lease`] dated from
//!   the send time of the heartbeat a quorum acknowledged, with
//!   [`Config::lease_drift_margin_ticks`] given up for clock drift), on the
//!   leader or through a follower, and optional proposal forwarding.
//! - [`RaftNode::status`], [`RaftNode::report_unreachable`],
//!   [`RaftNode::report_snapshot`].
//!
//! The data path copies no payload: commands and snapshots are shared
//! [`Bytes`] buffers, persist batches move into storage
//! ([`Persist::after`] releases the waiting messages), and committed
//! entries still in memory move out to apply. Appends are batched: every
//! proposal and acknowledgement between two [`RaftNode::ready`] calls
//! shares one append per follower, which also carries the commit index
//! (`docs/raft.md`, "Buffers" and "Batching").
//!
//! Bad input never panics: a message that no correct peer sends (a term or
//! index that cannot be followed by another, entries newer than their
//! message, a refusal hinting past what it refused, node 0 as a sender) is
//! refused with [`Error::Malformed`] or [`Error::UnknownPeer`] and changes
//! nothing.
//!
//! Committed entries are handed out only once they are persisted locally,
//! and membership changes take effect when they are handed out as
//! committed. Scenario scripts live in `tests/testdata/*.txt`; the design
//! notes are in `docs/raft.md` (including the exact lease rule and its
//! clock assumptions).
//!
//! # Features
//!
//! - `serde`: `Serialize` / `Deserialize` for entries, messages and states.
//!   A real transport needs it to put messages on the wire (synod-tcp
//!   turns it on; enable it when you write your own).
//! - `arbitrary`: `arbitrary::Arbitrary` for messages and entries, for
//!   fuzzing the handlers (the `fuzz/` workspace uses it).
//! - `mem-cluster`: `mem_cluster::MemCluster`, a whole cluster in one
//!   process (FIFO network, cut links, crashes and restarts, election and
//!   state-machine safety watched) for tests and prototypes: the
//!   in-memory delivery loop every user would otherwise write.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

// First: rustdoc lists a type's impl blocks in module order, and the
// `RaftNode` page should open with its constructors, not with the
// membership methods of `conf_change.rs`.
mod node;

mod conf_change;
mod config;
mod election;
mod error;
mod log;
mod log_configs;
#[cfg(feature = "mem-cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "mem-cluster")))]
pub mod mem_cluster;
mod membership;
mod message;
#[cfg(feature = "mutations")]
#[doc(hidden)]
pub mod mutation;
mod progress;
mod protocol;
mod quorum;
mod read;
mod ready;
mod recent;
mod replication;
mod snapshot_transfer;
mod storage;
mod types;
mod unstable;

pub use bytes::Bytes;
pub use config::{Config, ReadMode};
pub use error::{DropReason, Error, StorageError};
pub use log::{AppendOutcome, RaftLog};
pub use message::{AppendResult, Message, MessageBody, SnapshotChunk};
pub use node::{Proposal, RaftNode, Role, SoftState, Status};
pub use progress::{Progress, ProgressState};
/// The shared buffer type of payloads and snapshots, re-exported so
/// applications need not depend on `bytes` themselves.
/// The `rand` (0.10) whose generators this crate's API takes: name
/// `synod_raft_core::rand::rngs::StdRng` to be sure the versions match.
pub use rand;
pub use ready::{AfterPersist, Persist, PersistReceipt, Persisted, Ready};
pub use storage::{MemStorage, Storage, check_continues};
pub use types::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NO_NODE, NodeId, Payload, ReadId, ReadState, Snapshot, SnapshotMeta, SnapshotPiece, Term,
};
