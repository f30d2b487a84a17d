//! A durable Raft log on disk for Synod, and a raft-core
//! [`Storage`](synod_protocol::Storage) that reads from it.
//!
//! The contract: an entry (or hard state) whose [`Wal::sync`] returned
//! survives any crash; nothing is reported durable that a failed sync may
//! have lost (a failed write or sync refuses every later write until the
//! log is reopened, and is never retried); and [`Wal::open`] recovers
//! exactly the durable prefix, cutting only a torn tail and reporting any
//! other damage as a typed [`Error`] naming the file and offset.
//!
//! The key design decision: **the log writes through a file-system trait**
//! ([`fs::Dir`] and [`fs::File`]), implemented by the real file system
//! ([`fs::StdDir`]) and by a simulated one ([`fs::SimDir`]) that can crash
//! (dropping what was not synced, tearing the last write, forgetting
//! directory entries not synced) and fail any operation with EIO or
//! ENOSPC, so the crash tests run the very code production runs.
//!
//! The pieces: [`record`] framing with its torn-or-corrupt rule,
//! [`segment`] files (preallocated, group-committed), [`raft_record`]s
//! (entries, hard states, resets, anchors), [`state_file`]s replaced
//! crash-safely (the snapshot), and [`Wal`], which rolls segments, keeps a
//! 4-bytes-per-entry index and a cache of recent entries, installs and
//! creates snapshots and deletes compacted segments. The format and its
//! rules: docs/wal.md.
//!
//! ```
//! use synod_protocol::{Entry, HardState, Payload, Storage};
//! use synod_wal::fs::SimDir;
//! use synod_wal::{Options, Wal};
//!
//! let dir = SimDir::new(7); // or fs::StdDir::open(path)?
//! let mut wal = Wal::open(dir.clone(), Options::default())?;
//! wal.append(vec![Entry { term: 1, index: 1, payload: Payload::Command(b"x".to_vec().into()) }])?;
//! wal.set_hard_state(HardState { term: 1, vote: Some(1), commit: 1 })?;
//! wal.sync()?; // one fdatasync: both are durable now
//! drop(wal);
//! dir.crash();
//! let wal = Wal::open(dir, Options::default())?;
//! assert_eq!(wal.last_index()?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod error;
pub mod fs;
mod index;
mod open;
mod options;
pub mod raft_record;
mod read;
mod recent;
pub mod record;
pub mod segment;
mod snapshot_data;
mod snapshot_file;
mod snapshots;
pub mod state_file;
mod wal;

pub use error::Error;
pub use options::Options;
pub use snapshot_data::{STAGING_FILE, data_name};
pub use snapshot_file::SNAPSHOT_FILE;
pub use wal::{Recovery, Wal, free_id, free_name, segment_id, segment_name};
