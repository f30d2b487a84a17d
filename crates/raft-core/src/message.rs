//! Messages between nodes.

use crate::types::{Entry, Index, NodeId, ReadId, Snapshot, Term};

/// One message from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// The sender.
    pub from: NodeId,
    /// The addressee.
    pub to: NodeId,
    /// The sender's term; for a pre-vote request, the term it would
    /// campaign in, and for a granted pre-vote, that same term.
    pub term: Term,
    /// What it says.
    pub body: MessageBody,
}

/// What a message says.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MessageBody {
    /// A candidate asks for a vote (Raft §5.2), or a would-be candidate asks
    /// whether it would get one (pre-vote).
    VoteRequest {
        /// A pre-vote: the receiver answers but changes no state.
        pre_vote: bool,
        /// The index of the candidate's last entry.
        last_index: Index,
        /// The term of the candidate's last entry.
        last_term: Term,
        /// The leader handed leadership over to this candidate: voters
        /// answer even within a leader's lease.
        transfer: bool,
    },
    /// The answer to a vote request.
    VoteResponse {
        /// Answers a pre-vote request.
        pre_vote: bool,
        /// The vote was granted.
        granted: bool,
    },
    /// The leader's entries after (`prev_index`, `prev_term`) (Raft §5.3).
    Append {
        /// The index just before `entries`.
        prev_index: Index,
        /// The term at `prev_index`.
        prev_term: Term,
        /// Entries to append; may be empty (a probe).
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: Index,
    },
    /// The follower's answer to an append.
    AppendResponse(AppendResult),
    /// The leader is alive; carries its commit index (capped at what the
    /// follower is known to hold).
    Heartbeat {
        /// The commit index the follower may use.
        commit: Index,
        /// The leader's newest read round (0 for none); echoed back, it
        /// confirms leadership for every read of that round or earlier.
        read_round: u64,
    },
    /// The follower heard the heartbeat.
    HeartbeatResponse {
        /// The heartbeat's `read_round`.
        read_round: u64,
    },
    /// A follower forwards a proposal to the leader.
    Propose {
        /// The proposal's data.
        data: Vec<u8>,
    },
    /// A follower forwards a linearizable read to the leader.
    ReadIndex {
        /// The follower's id for the read.
        id: ReadId,
    },
    /// The leader's answer to [`MessageBody::ReadIndex`].
    ReadIndexResponse {
        /// The follower's id for the read.
        id: ReadId,
        /// The read may be served once this index is applied.
        index: Index,
    },
    /// The leader hands over leadership: campaign now, without pre-vote.
    TimeoutNow,
    /// The leader's snapshot, for a follower that needs entries the leader
    /// has compacted away. Answered with an [`MessageBody::AppendResponse`].
    InstallSnapshot(Snapshot),
}

/// A follower's answer to [`MessageBody::Append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AppendResult {
    /// The follower's log matches the leader's up to `match_index`.
    Accepted {
        /// The last index the append covered.
        match_index: Index,
    },
    /// The consistency check failed at `rejected_index`; the follower's log
    /// has term `hint_term` at `hint_index` (the largest index at or below
    /// the rejected one whose term is not after the leader's), so the
    /// leader can skip a whole term of mismatches.
    Rejected {
        /// The `prev_index` of the refused append.
        rejected_index: Index,
        /// Where the leader should probe next.
        hint_index: Index,
        /// The follower's term at `hint_index`.
        hint_term: Term,
    },
}
