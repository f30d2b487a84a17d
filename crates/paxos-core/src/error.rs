//! What a Multi-Paxos node returns instead of doing what was asked.

use synod_protocol::{NodeId, StorageError};

/// A node's error. Storage failures are returned, never a panic.
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
    /// The stored membership is unusable (no voters, or ids out of range).
    #[error("invalid membership: {0}")]
    InvalidMembership(&'static str),
    /// A message from a node outside the membership; ignored.
    #[error("message from unknown node {0}")]
    UnknownPeer(NodeId),
    /// A message addressed to another node; ignored.
    #[error("message for node {to} delivered to node {me}")]
    WrongRecipient {
        /// The addressee.
        to: NodeId,
        /// This node.
        me: NodeId,
    },
    /// A message no correct peer sends; ignored.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// A message of an older ballot than this node's promise; ignored
    /// (the sender is told of the newer one).
    #[error("stale ballot")]
    Stale,
    /// A prepare refused because this acceptor granted another ballot a
    /// lease that has not run out (`Config::lease_reads`); the candidate
    /// retries.
    #[error("a lease granted to another ballot is in force")]
    LeaseHeld,
}
