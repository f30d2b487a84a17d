//! Errors: one enum for storage, one for the node.

use crate::types::{Index, NodeId};

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

/// What a Raft node returns instead of doing what was asked.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Storage answered with an error.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A configuration field is invalid.
    #[error("invalid configuration: {field} {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The node's configuration at start is unusable (no voters, or this
    /// node both voter and learner).
    #[error("invalid membership: {0}")]
    InvalidMembership(&'static str),
    /// A membership change that is invalid in the current configuration.
    #[error("invalid configuration change: {0}")]
    InvalidConfChange(&'static str),
    /// A message came from a node that is not in the configuration; it was
    /// ignored.
    #[error("message from unknown node {0}")]
    UnknownPeer(NodeId),
    /// A message addressed to another node; it was ignored.
    #[error("message for node {to} delivered to node {me}")]
    WrongRecipient {
        /// The addressee.
        to: NodeId,
        /// This node.
        me: NodeId,
    },
    /// A message that no correct peer sends (entries not numbered in
    /// order, a second leader in one term, an append that would overwrite
    /// committed entries); it was ignored.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// A joining node was offered a log that does not begin with the
    /// cluster's configuration, and has no snapshot to learn it from: it
    /// refuses rather than guess who votes.
    #[error("configuration unknown: {0}")]
    ConfigurationUnknown(&'static str),
    /// A proposal was not appended.
    #[error("proposal dropped: {0}")]
    ProposalDropped(DropReason),
}

/// Why a proposal was dropped.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    /// This node is not the leader; propose to the leader (if known).
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader this node knows of.
        leader: Option<NodeId>,
    },
    /// Leadership is being handed to another node.
    #[error("leadership is being transferred to {to}")]
    Transferring {
        /// The node taking over.
        to: NodeId,
    },
    /// A proposal with no bytes.
    #[error("empty proposal")]
    Empty,
    /// `max_uncommitted_bytes` are already outstanding: retry once some
    /// commit.
    #[error("{uncommitted} bytes uncommitted, at the limit of {limit}")]
    UncommittedLimit {
        /// Bytes outstanding.
        uncommitted: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The log reached the highest usable index (`u64::MAX - 1`).
    #[error("the log index space is exhausted")]
    LogFull,
    /// `max_pending_reads` reads already wait for confirmation.
    #[error("{limit} reads are already pending")]
    TooManyReads {
        /// The configured limit.
        limit: usize,
    },
    /// A proposal above `max_proposal_bytes`.
    #[error("proposal of {bytes} bytes is above the limit of {limit}")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The configured limit.
        limit: u64,
    },
}
