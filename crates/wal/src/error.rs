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
    /// A bad record in a segment that is not the last one. Each segment
    /// is synced whole before the next is created, so this is damage, not
    /// a torn write.
    #[error("{file}: damaged record at byte {offset} of a sealed segment")]
    SealedDamaged {
        /// The file.
        file: String,
        /// Where the damaged record starts, in the file.
        offset: u64,
    },
    /// A record's payload does not decode as what its kind says.
    #[error("{file}: bad record at byte {offset}: {why}")]
    BadRecord {
        /// The file.
        file: String,
        /// Where the record starts, in the file.
        offset: u64,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The segment files' ids are not consecutive: one is missing.
    #[error("segment {missing} is missing (found {before} and {after})")]
    MissingSegment {
        /// The id that should be there.
        missing: u64,
        /// The file before the gap.
        before: String,
        /// The file after the gap.
        after: String,
    },
    /// The log skips indexes the snapshot does not cover: entries are
    /// missing.
    #[error("{file}: entry {index} follows entry {last_index}; the entries between are missing")]
    IndexGap {
        /// The file holding the entry after the gap.
        file: String,
        /// That entry's index.
        index: u64,
        /// The last index before the gap.
        last_index: u64,
    },
    /// The directory holds a file the log did not write.
    #[error("{file} is not a synod-wal file; refusing to open a directory that is not a log")]
    ForeignFile {
        /// The file.
        file: String,
    },
    /// A Raft-level refusal (entries that do not continue the log, an
    /// out-of-date snapshot, compaction past the snapshot, an index out of
    /// range).
    #[error(transparent)]
    Raft(#[from] synod_protocol::StorageError),
    /// An option is out of range.
    #[error("invalid options: {field} {reason}")]
    InvalidOptions {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}
