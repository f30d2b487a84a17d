//! Errors: one enum for storage, one for the node.

pub use synod_protocol::StorageError;

use crate::types::NodeId;

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
