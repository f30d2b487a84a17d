//! The plain data a replicated log stores: entries, the durable vote,
//! membership, snapshots. Terms are whatever totally ordered leadership
//! epoch the protocol has (a Raft term, a Paxos ballot).

use bytes::Bytes;

/// A node's identity. `0` is reserved to mean "no node".
pub type NodeId = u64;
/// A leadership epoch: a Raft term (Raft §5.1), a Paxos ballot.
pub type Term = u64;
/// A log index; the first entry of a log is at index 1.
pub type Index = u64;

/// The reserved "no node" id.
pub const NO_NODE: NodeId = 0;

/// What an entry carries.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Payload {
    /// The empty entry a new leader appends to commit entries of earlier
    /// terms (Raft §5.4.2, §8).
    Noop,
    /// An application command, applied to the state machine when committed.
    /// A shared buffer: the log, every follower's append, storage and the
    /// apply hand-off hold the same bytes, never a copy.
    Command(#[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_bytes))] Bytes),
    /// A membership change, applied by the node itself when committed.
    ConfChange(ConfChange),
    /// The end of one configuration: the entries after it belong to the
    /// next one, which it names whole (a Multi-Paxos stop-sign; Raft
    /// refuses to propose it). Boxed: it is rare, and every entry is as
    /// large as the largest payload (inline, its two lists and its
    /// metadata made every entry larger, and Multi-Paxos 16-byte
    /// proposals cost 5 % more instructions).
    StopSign(Box<StopSign>),
}

impl Payload {
    /// Bytes this payload counts for size limits.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        match self {
            Self::Noop => 0,
            Self::Command(data) => data.len() as u64,
            Self::ConfChange(cc) => 9 * cc.changes.len() as u64,
            Self::StopSign(ss) => ss.size_bytes(),
        }
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Entry {
    /// The term of the leader that created it.
    pub term: Term,
    /// Its position in the log.
    pub index: Index,
    /// What it carries.
    pub payload: Payload,
}

impl Entry {
    /// Bytes this entry counts for size limits: its payload plus a fixed
    /// 16 for term and index, so empty entries are not free.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        16 + self.payload.size_bytes()
    }
}

/// The state a node must persist before it answers any message that
/// depends on it (Raft Figure 2, "persistent state on all servers").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HardState {
    /// The latest term the node has seen.
    pub term: Term,
    /// The candidate it voted for in `term`, if any.
    pub vote: Option<NodeId>,
    /// The highest index it knows to be committed. Persisting it is an
    /// optimisation (a restarted node applies without waiting for a leader),
    /// not a safety requirement.
    pub commit: Index,
}

/// The voters and learners of a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConfState {
    /// Nodes that vote and count toward quorums. Sorted, no duplicates.
    pub voters: Vec<NodeId>,
    /// In a joint configuration (Raft §6), the old voters, which must also
    /// agree; empty otherwise. Sorted, no duplicates.
    pub voters_outgoing: Vec<NodeId>,
    /// Nodes that receive the log but do not vote. Sorted, no duplicates,
    /// disjoint from `voters`.
    pub learners: Vec<NodeId>,
}

impl ConfState {
    /// Every node the configuration counts (voters, outgoing voters,
    /// learners), sorted, no duplicates.
    ///
    /// ```
    /// use synod_protocol::ConfState;
    /// let joint = ConfState {
    ///     voters: vec![2, 3, 4],
    ///     voters_outgoing: vec![1, 2, 3],
    ///     learners: vec![5],
    /// };
    /// assert_eq!(joint.members(), vec![1, 2, 3, 4, 5]);
    /// ```
    #[must_use]
    pub fn members(&self) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = (self.voters.iter())
            .chain(&self.voters_outgoing)
            .chain(&self.learners)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// One step of a membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ConfChangeKind {
    /// Make the node a voter (adding it, or promoting a learner).
    AddVoter,
    /// Make the node a learner (adding it; demoting a voter is refused).
    AddLearner,
    /// Remove the node.
    Remove,
}

/// A change to one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConfChangeSingle {
    /// What happens to it.
    pub kind: ConfChangeKind,
    /// The node.
    pub node: NodeId,
}

/// A membership change: one or more single changes applied together.
///
/// A change that alters at most one voter is applied directly (a
/// single-server change, Raft thesis §4.1); any larger change goes through
/// a joint configuration that the leader leaves automatically once it is
/// committed (Raft §6). An empty list is the leader's own "leave joint"
/// entry and cannot be proposed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConfChange {
    /// The changes, applied in order.
    pub changes: Vec<ConfChangeSingle>,
}

impl ConfChange {
    /// A change of one node.
    #[must_use]
    pub fn single(kind: ConfChangeKind, node: NodeId) -> Self {
        Self {
            changes: vec![ConfChangeSingle { kind, node }],
        }
    }
}

/// A stop-sign: the configuration in force ends here and the one it names
/// starts, continuing the same log. It carries the next configuration
/// whole (voters and learners), and opaque `metadata` the application
/// reads when it applies the entry (what it must do at the boundary: a
/// new state machine version, where the new nodes run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct StopSign {
    /// The next configuration's voters.
    pub voters: Vec<NodeId>,
    /// The next configuration's learners (disjoint from `voters`).
    pub learners: Vec<NodeId>,
    /// For the application; the protocol only carries it.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_bytes))]
    pub metadata: Bytes,
}

impl StopSign {
    /// Bytes it counts for size limits: 8 per node, and the metadata.
    #[must_use]
    #[cold]
    #[inline(never)] // rare: kept out of every entry's size check
    pub fn size_bytes(&self) -> u64 {
        8 * (self.voters.len() + self.learners.len()) as u64 + self.metadata.len() as u64
    }
}

/// Where a snapshot sits in the log, and the configuration at that point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SnapshotMeta {
    /// The index of the last entry the snapshot includes.
    pub index: Index,
    /// The term of that entry.
    pub term: Term,
    /// The configuration as of `index`.
    pub conf_state: ConfState,
}

/// A snapshot of the application state up to `meta.index`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Snapshot {
    /// Its position and configuration.
    pub meta: SnapshotMeta,
    /// The application's state, opaque to Raft; shared, never copied by
    /// the node.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_bytes))]
    pub data: Bytes,
}

impl Snapshot {
    /// Whether this is the empty snapshot (index 0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.meta.index == 0
    }
}

/// A piece of a leader's snapshot, for a follower's storage to stage
/// (write aside) until the last piece arrives and the snapshot is
/// installed by its metadata ([`crate::Write::staged_snapshot`]). Handed
/// out only to storage that says it stages
/// ([`crate::Storage::stages_snapshots`]), in order: a piece at offset 0
/// starts a new staged snapshot, discarding any other staged bytes; every
/// other piece continues exactly where the staged bytes end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotPiece {
    /// The snapshot it belongs to.
    pub meta: SnapshotMeta,
    /// The whole snapshot's size in bytes.
    pub total_bytes: u64,
    /// Where `data` starts in the snapshot.
    pub offset: u64,
    /// The bytes, shared with the message that brought them.
    pub data: Bytes,
}

impl SnapshotPiece {
    /// Where the piece ends: `offset + data.len()` (saturating).
    #[must_use]
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.data.len() as u64)
    }
}

/// What a node reads from stable storage when it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InitialState {
    /// The persisted term, vote and commit index.
    pub hard_state: HardState,
    /// The configuration as of the latest snapshot (or the bootstrap): the
    /// node replays committed entries after its applied index on top of it.
    pub conf_state: ConfState,
}

/// Identifies a linearizable read on the node that issued it.
pub type ReadId = u64;

/// A linearizable read is ready: once the state machine has applied `index`,
/// a read of its state reflects every write committed before the read was
/// issued (Raft §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ReadState {
    /// The id the protocol's `read` returned.
    pub id: ReadId,
    /// Serve the read once this index is applied.
    pub index: Index,
}

/// `Bytes` has no `Arbitrary` impl of its own.
#[cfg(feature = "arbitrary")]
#[doc(hidden)]
pub fn arbitrary_bytes(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Bytes> {
    let v: Vec<u8> = arbitrary::Arbitrary::arbitrary(u)?;
    Ok(Bytes::from(v))
}
