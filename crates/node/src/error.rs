//! The driver's one error enum.

use synod_protocol::{NodeId, Refusal};

/// What a client call returns instead of an answer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// This replica does not lead; send it to `leader` (if known).
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader this replica knows of.
        leader: Option<NodeId>,
    },
    /// The protocol refused it (too large, busy, a change in progress).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The command was appended, but another entry was committed at its
    /// index (a leader change): it did not and will not take effect. Safe
    /// to retry.
    #[error("the proposal was lost to a leader change; retry")]
    Lost,
    /// Whether the command took effect cannot be known here (it was
    /// forwarded, a snapshot replaced the log around it, or the node
    /// stopped while it waited). Retry only if the command is idempotent.
    #[error("the outcome of the proposal is unknown")]
    Unknown,
    /// A linearizable read was not confirmed within the read timeout (no
    /// quorum reachable).
    #[error("the read was not confirmed in time")]
    Timeout,
    /// The node is shutting down or has stopped, and did not take the
    /// call: a proposal that gets it did not take effect.
    #[error("the node has stopped")]
    Stopped,
    /// The log failed (I/O, corruption); the node stopped.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The state machine refused a snapshot; the node stopped.
    #[error("state machine failure: {0}")]
    StateMachine(String),
    /// The node's options are invalid.
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotLeader { leader } => Error::NotLeader { leader },
            other => Error::Refused(other),
        }
    }
}
