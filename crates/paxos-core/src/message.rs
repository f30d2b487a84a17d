//! Messages between Multi-Paxos nodes.

use bytes::Bytes;
use synod_protocol::{Entry, Index, NodeId, Snapshot, SnapshotMeta, Term};

use crate::ballot::Ballot;

/// One message from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Message {
    /// The sender.
    pub from: NodeId,
    /// The addressee.
    pub to: NodeId,
    /// The ballot it is sent in: the sender's promise (for a leader, its
    /// own ballot).
    pub ballot: Ballot,
    /// What it says.
    pub body: Body,
}

/// A run of the sender's log: the entries after `after`, preceded by the
/// sender's snapshot when the entries just after `after` were compacted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Suffix {
    /// The index the entries follow (the snapshot's index with a snapshot).
    pub after: Index,
    /// The snapshot the entries follow, when the log was compacted past
    /// the index the receiver asked from.
    pub snapshot: Option<Box<Snapshot>>,
    /// Entries `after + 1 ..`, consecutive.
    pub entries: Vec<Entry>,
}

/// What a message says.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Body {
    /// Connectivity: sent to every peer every `heartbeat_ticks`. Names the
    /// leader ballot the sender follows and whether it hears a quorum.
    Beat {
        /// The ballot of the leader the sender follows (its own when it
        /// campaigns or leads).
        leader: Ballot,
        /// The sender heard from a quorum within an election timeout.
        connected: bool,
        /// The sender itself heard that leader lead (connected) within an
        /// election timeout: a peer that cannot hear the leader directly
        /// learns through this that it is alive, so a chain of links does
        /// not make it campaign against a working leader.
        leader_alive: bool,
        /// The sender's `Config::priority`.
        priority: u32,
    },
    /// Phase 1a, for every slot after `decided`: promise the message's
    /// ballot and report what you accepted.
    Prepare {
        /// The leader's decided index: send what you hold after it.
        decided: Index,
        /// The term of the leader's last entry.
        last_term: Term,
        /// The leader's last index.
        last_index: Index,
    },
    /// Phase 1b: the promise, with the acceptor's log position and, when
    /// its log is ahead of the leader's, its entries after the leader's
    /// decided index.
    Promise {
        /// The acceptor's decided index.
        decided: Index,
        /// The term of its last entry (the ballot it last accepted in).
        last_term: Term,
        /// Its last index.
        last_index: Index,
        /// Its log after the leader's decided index, when ahead: at most
        /// `max_size_per_msg_bytes` of entries (the candidate asks for the
        /// rest with another prepare before it leads).
        suffix: Suffix,
        /// Set, with an empty suffix, when the candidate is behind this
        /// acceptor's compacted log and the snapshot is larger than
        /// `snapshot_chunk_bytes`: the candidate fetches it in pieces
        /// (`FetchPiece`) before it leads, instead of receiving it whole.
        pieces: Option<Box<SnapshotMeta>>,
    },
    /// Phase 2a after a promise: replace your log after `suffix.after`
    /// with the leader's.
    AcceptSync {
        /// The leader's log after the acceptor's decided index.
        suffix: Suffix,
        /// The leader's decided index.
        decided: Index,
    },
    /// Phase 2a, pipelined: the leader's entries after `prev_index`; also
    /// carries the decided index (empty, it is the leader's heartbeat).
    Accept {
        /// The index the entries follow.
        prev_index: Index,
        /// The entries.
        entries: Vec<Entry>,
        /// The leader's decided index.
        decided: Index,
    },
    /// Phase 2b: the acceptor holds the leader's log through `last_index`,
    /// durably.
    Accepted {
        /// The last index it holds of the leader's log.
        last_index: Index,
    },
    /// The acceptor lacks the leader's log (it never promised this ballot,
    /// or an accept was lost): prepare me again.
    Resync,
    /// The message's ballot is older than this acceptor's promise, which is
    /// this message's ballot.
    Nack,
    /// A read round: confirm you still hold the leader's ballot.
    Read {
        /// The round.
        seq: u64,
    },
    /// The answer to a read round.
    ReadAck {
        /// The round.
        seq: u64,
    },
    /// Leadership transfer: the leader asks the addressee to campaign now
    /// (it stopped taking proposals for an election timeout).
    TakeOver,
    /// Phase 2a for an acceptor behind the leader's compacted log, when the
    /// snapshot is larger than `Config::snapshot_chunk_bytes`: a piece of
    /// the leader's snapshot. Once every piece is in, the acceptor installs
    /// it and the leader syncs the entries after it.
    SnapshotPiece {
        /// The snapshot it belongs to (boxed: it holds the membership, and
        /// every message is as large as the largest kind).
        meta: Box<SnapshotMeta>,
        /// The snapshot's size in bytes.
        total: u64,
        /// Where `data` starts in the snapshot.
        offset: u64,
        /// The bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = synod_protocol::arbitrary_bytes))]
        data: Bytes,
    },
    /// The answer to snapshot pieces: the acceptor holds the first
    /// `received` bytes of the snapshot at `index` (all of them: installed,
    /// durably); fewer than the leader sent means a piece was lost.
    SnapshotAck {
        /// The snapshot's index.
        index: Index,
        /// Bytes held from its start.
        received: u64,
    },
    /// Phase 1, catching up: a candidate asks an acceptor that promised
    /// it for the piece at `offset` of its snapshot at `index` (the one
    /// its promise named in `pieces`).
    FetchPiece {
        /// The snapshot's index.
        index: Index,
        /// Where the piece starts.
        offset: u64,
    },
    /// The answer to `FetchPiece`: a piece of the acceptor's snapshot (of
    /// its current one from the start, if it has compacted since).
    PromisePiece {
        /// The snapshot it belongs to (boxed: it holds the membership, and
        /// every message is as large as the largest kind).
        meta: Box<SnapshotMeta>,
        /// The snapshot's size in bytes.
        total: u64,
        /// Where `data` starts in the snapshot.
        offset: u64,
        /// The bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = synod_protocol::arbitrary_bytes))]
        data: Bytes,
    },
}
