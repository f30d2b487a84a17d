//! The storage contract's one error enum.

use crate::types::Index;

/// What a [`crate::Storage`] implementation can answer instead of data.
///
/// `Compacted` and `Unavailable` describe the request; the
/// `*TemporarilyUnavailable` variants are legal answers of storage that
/// fetches asynchronously: the node retries later, it never treats them as
/// fatal.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The requested index is at or below the first index (compacted away).
    #[error("index {index} has been compacted (first index is {first_index})")]
    Compacted {
        /// The index asked for.
        index: Index,
        /// The first index still in the log.
        first_index: Index,
    },
    /// The requested index is past the last index.
    #[error("index {index} is past the last index {last_index}")]
    Unavailable {
        /// The index asked for.
        index: Index,
        /// The last index in the log.
        last_index: Index,
    },
    /// Log entries are being fetched; ask again later.
    #[error("log entries are temporarily unavailable")]
    LogTemporarilyUnavailable,
    /// A snapshot is being prepared; ask again later.
    #[error("the snapshot is temporarily unavailable")]
    SnapshotTemporarilyUnavailable,
    /// A snapshot older than the one already applied was offered.
    #[error("snapshot at index {index} is older than the current one at {current}")]
    SnapshotOutOfDate {
        /// The offered snapshot's index.
        index: Index,
        /// The current snapshot's index.
        current: Index,
    },
    /// Entries handed to storage do not continue its log.
    #[error("entries starting at {first} leave a gap after the last index {last_index}")]
    Gap {
        /// The first index offered.
        first: Index,
        /// The last index stored.
        last_index: Index,
    },
    /// Compaction past what a snapshot covers was asked for.
    #[error("cannot compact to {index}: the latest snapshot covers only up to {snapshot_index}")]
    NotSnapshotted {
        /// The index asked for.
        index: Index,
        /// The latest snapshot's index.
        snapshot_index: Index,
    },
    /// Any other failure of the storage backend (I/O, corruption).
    #[error("storage failure: {0}")]
    Other(String),
}
