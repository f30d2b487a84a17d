//! Messages between nodes.

use bytes::Bytes;

use crate::types::{Entry, Index, NodeId, ReadId, Snapshot, SnapshotMeta, Term};

impl Message {
    /// Why no correct peer could have sent this message, if so. Checked
    /// before any handler runs, so handlers may add one to any term or
    /// index a message carries: every term and index must leave room for
    /// one more, and no entry or snapshot may be newer than the term of
    /// the message that carries it.
    pub(crate) fn malformation(&self) -> Option<&'static str> {
        const TOP: u64 = u64::MAX;
        if self.term == TOP {
            return Some("term u64::MAX leaves no later term");
        }
        match &self.body {
            MessageBody::VoteRequest {
                last_index,
                last_term,
                ..
            } if *last_index == TOP || *last_term > self.term => {
                Some("vote request for a log past the candidate's term or the index range")
            }
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                ..
            } => append_malformation(self.term, *prev_index, *prev_term, entries),
            MessageBody::InstallSnapshot(chunk)
                if chunk.meta.index == TOP || chunk.meta.term > self.term =>
            {
                Some("snapshot past the sender's term or the index range")
            }
            MessageBody::InstallSnapshot(chunk)
                if chunk
                    .offset
                    .checked_add(chunk.data.len() as u64)
                    .is_none_or(|end| end > chunk.total_bytes) =>
            {
                Some("snapshot chunk past the snapshot's end")
            }
            // The follower hints at or below the index it refused.
            MessageBody::AppendResponse(AppendResult::Rejected {
                rejected_index,
                hint_index,
                ..
            }) if hint_index > rejected_index => {
                Some("append refusal hinting past the refused index")
            }
            MessageBody::AppendResponse(AppendResult::Accepted { match_index })
                if *match_index == TOP =>
            {
                Some("match index u64::MAX")
            }
            _ => None,
        }
    }
}

/// An append's entries follow `prev_index` without reaching u64::MAX, and
/// their terms never decrease nor pass the leader's.
fn append_malformation(
    term: Term,
    prev_index: Index,
    prev_term: Term,
    entries: &[Entry],
) -> Option<&'static str> {
    let last = prev_index.checked_add(entries.len() as Index);
    if last.is_none_or(|last| last == u64::MAX) {
        return Some("append reaching past the index range");
    }
    if prev_term > term {
        return Some("append whose previous term is past the leader's");
    }
    let mut floor = prev_term;
    for e in entries {
        if e.term < floor || e.term > term {
            return Some("append with terms out of order or past the leader's");
        }
        floor = e.term;
    }
    None
}

/// One message from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
        /// The leader's tick count when it sent this heartbeat; echoed
        /// back, it dates the acknowledgement for the leader's lease.
        sent_at_tick: u64,
    },
    /// The follower heard the heartbeat.
    HeartbeatResponse {
        /// The heartbeat's `read_round`.
        read_round: u64,
        /// The heartbeat's `sent_at_tick`.
        sent_at_tick: u64,
    },
    /// A follower forwards a proposal to the leader.
    Propose {
        /// The proposal's data.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::types::arbitrary_bytes))]
        data: Bytes,
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
    /// A piece of the leader's snapshot, for a follower that needs entries
    /// the leader has compacted away (Raft §7, Figure 13: offset, data,
    /// done). Pieces are at most `Config::snapshot_chunk_bytes` and at most
    /// `Config::snapshot_chunks_in_flight` are unacknowledged, so a large
    /// snapshot never holds up heartbeats or fills a connection. Each piece
    /// is answered with [`MessageBody::SnapshotAck`]; the last one, once
    /// installed, with an [`MessageBody::AppendResponse`]. Boxed: rare, and
    /// inline it would make every message as big as one.
    InstallSnapshot(Box<SnapshotChunk>),
    /// The follower's answer to a piece of a snapshot: it holds the first
    /// `received` bytes of the snapshot at `index`.
    SnapshotAck {
        /// The index of the snapshot being received.
        index: Index,
        /// The bytes it holds from the start, contiguous.
        received: u64,
        /// The piece did not continue what it holds (lost, reordered, or
        /// the transfer restarted): send again from `received`.
        gap: bool,
    },
}

/// One piece of a snapshot on its way to a follower.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SnapshotChunk {
    /// The whole snapshot's position and configuration (in every piece,
    /// so any piece names the transfer it belongs to).
    pub meta: SnapshotMeta,
    /// The size of the whole snapshot's data.
    pub total_bytes: u64,
    /// Where `data` begins in the snapshot's data.
    pub offset: u64,
    /// The bytes from `offset` on.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::types::arbitrary_bytes))]
    pub data: Bytes,
}

impl SnapshotChunk {
    /// Whether this piece ends the snapshot (Figure 13's `done`).
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.offset.saturating_add(self.data.len() as u64) >= self.total_bytes
    }
}

impl From<Snapshot> for SnapshotChunk {
    /// A whole snapshot as one piece.
    fn from(snapshot: Snapshot) -> Self {
        Self {
            meta: snapshot.meta,
            total_bytes: snapshot.data.len() as u64,
            offset: 0,
            data: snapshot.data,
        }
    }
}

/// A follower's answer to [`MessageBody::Append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
