//! The crate's one error type.

use std::io;

/// A mapper from an `io::Error` to [`Error::Io`] for `op` on `file`.
pub(crate) fn io(op: &'static str, file: &str) -> impl FnOnce(io::Error) -> Error {
    let file = file.to_string();
    move |source| Error::Io { op, file, source }
}

/// What can go wrong with the log.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file system failed; `op` says what the log was doing.
    #[error("{op} {file}: {source}")]
    Io {
        /// What the log was doing.
        op: &'static str,
        /// The file (or directory) involved.
        file: String,
        /// The file system's error.
        #[source]
        source: io::Error,
    },
    /// An earlier write or sync failed, so what was written since the last
    /// successful sync may be lost whatever later syncs return: the log
    /// refuses to go on until it is reopened and recovered.
    #[error("an earlier write or sync failed; reopen the log to recover")]
    Poisoned,
    /// The file does not start with a log header.
    #[error("{file} is not a synod-wal segment: {why}")]
    NotALog {
        /// The file.
        file: String,
        /// What is wrong with its header.
        why: &'static str,
    },
    /// The file was written by a newer format version.
    #[error("{file} has format version {version}; this build reads up to {supported}")]
    NewerFormat {
        /// The file.
        file: String,
        /// Its version.
        version: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A record that a sync had made durable is damaged (docs/wal.md,
    /// "Torn tail or corruption"). Nothing after it is trusted.
    #[error(
        "{file}: corrupt record at byte {offset} ({why}), attested durable by the marker at byte {marker}"
    )]
    Corrupt {
        /// The file.
        file: String,
        /// Where the damaged record starts, in the file.
        offset: u64,
        /// Where the synced marker that attests it starts, in the file.
        marker: u64,
        /// What is wrong with the record.
        why: &'static str,
    },
    /// A payload of 4 GiB or more: a record cannot hold it.
    #[error("a payload of {bytes} bytes is over the 4 GiB record limit")]
    TooLarge {
        /// The payload's size.
        bytes: usize,
    },
}
