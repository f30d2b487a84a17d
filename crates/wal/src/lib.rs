//! A durable Raft log on disk for Synod: **in progress**.
//!
//! The contract this crate is being built to: an entry whose `sync`
//! returned survives any crash; nothing is reported durable that a failed
//! `sync` may have lost; and recovery returns exactly the durable prefix.
//!
//! The key design decision, in place already: **the log writes through a
//! file-system trait** ([`fs::Dir`] and [`fs::File`]), implemented by the
//! real file system ([`fs::StdDir`]) and by a simulated one
//! ([`fs::SimDir`]) that can crash (dropping what was not synced, tearing
//! the last write, forgetting directory entries not synced) and fail any
//! write or sync with EIO or ENOSPC, so the crash tests run the very code
//! production runs. So far: that layer, the record framing with its
//! torn-or-corrupt rule ([`record`]), one segment file with group commit
//! and recovery ([`segment`]), and small files replaced crash-safely
//! ([`state_file`]); rolling segments, Raft's durable state and the
//! raft-core `Storage` come next (issue 11).

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
mod snapshot_file;
mod snapshots;
pub mod state_file;
mod wal;

pub use error::Error;
pub use options::Options;
pub use snapshot_file::SNAPSHOT_FILE;
pub use wal::{Recovery, Wal, segment_id, segment_name};
