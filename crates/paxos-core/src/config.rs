//! The node's configuration, validated once.

use synod_protocol::NodeId;

use crate::ballot::MAX_NODE_ID;
use crate::error::Error;

/// How a Multi-Paxos node behaves. Every limit is named here and checked by
/// [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// This node's id: 1 to [`MAX_NODE_ID`].
    pub id: NodeId,
    /// Ticks between the connectivity beats every node sends every peer.
    pub heartbeat_ticks: u32,
    /// Ticks without hearing the leader before a quorum-connected node
    /// campaigns; each wait is drawn from `[t, 2t)`. Also how long a peer
    /// counts as connected after it was last heard.
    pub election_timeout_ticks: u32,
    /// The most entry bytes in one accept message (at least one entry is
    /// always sent).
    pub max_size_per_msg_bytes: u64,
    /// The largest proposal accepted, in bytes.
    pub max_proposal_bytes: u64,
    /// The most entries sent to one acceptor and not yet acknowledged
    /// (flow control: more wait for acknowledgements).
    pub max_inflight_entries: u64,
    /// The most entries a leader holds proposed and not yet decided;
    /// proposals beyond it are refused as busy.
    pub max_uncommitted_entries: u64,
    /// Flexible quorums (Howard et al., 2016): the promises that complete
    /// phase 1; `None` for a majority. With `phase2_quorum`, checked at
    /// start against the voters: each at least 1 and at most the voters,
    /// and `phase1_quorum + phase2_quorum` above the voters, so every
    /// phase-1 quorum meets every phase-2 quorum. A smaller phase-2 quorum
    /// decides (and confirms reads) with fewer acceptors; elections then
    /// need more.
    pub phase1_quorum: Option<usize>,
    /// The acceptances that decide an entry and the acknowledgements that
    /// confirm a read; `None` for a majority.
    pub phase2_quorum: Option<usize>,
    /// On restart: the index the state machine has already applied.
    pub applied: synod_protocol::Index,
    /// Leader priority (OmniPaxos's idea): when the leader is lost, a
    /// connected node defers its campaign for up to one election timeout
    /// to a connected peer of higher priority that also lost the leader;
    /// and a connected, caught-up node of higher priority than a working
    /// leader takes over once it has followed that leader for an election
    /// timeout (the preferred leader). Equal priorities (the default, 0)
    /// change nothing. Only who *tries* to lead depends on it: safety is
    /// Paxos's whatever the priorities.
    pub priority: u32,
    /// Serve linearizable reads from a leader lease instead of a quorum
    /// round per read. Clock assumption: while any node counts
    /// `election_timeout_ticks` ticks, no other node counts fewer than
    /// `election_timeout_ticks - lease_drift_margin_ticks` (bounded drift,
    /// no node's clock paused or stopped while it runs). Acceptors that
    /// acknowledge the leader's lease round refuse every other ballot's
    /// prepare for an election timeout of their own ticks (also for one
    /// election timeout after they start, since they may have granted one
    /// before a restart); the leader answers reads without a round while
    /// a quorum acknowledged a round it sent less than `election_timeout -
    /// lease_drift_margin_ticks` ticks ago. Costs: a failed leader is
    /// replaced an election timeout later at most.
    pub lease_reads: bool,
    /// With `lease_reads`: ticks the leader gives up for clock drift (must
    /// be below `election_timeout_ticks`).
    pub lease_drift_margin_ticks: u32,
    /// A snapshot larger than this goes to an acceptor in pieces of this
    /// size, a few in flight at a time, each acknowledged once handed to
    /// storage (staged, for storage that stages snapshots), so it fits any
    /// transport's frame limit and a follower never holds a large one
    /// whole unless its storage asks for it whole. Smaller snapshots go in
    /// the sync message itself. (Absent from a serialized configuration
    /// written before it existed: 1 MiB.)
    #[cfg_attr(feature = "serde", serde(default = "default_snapshot_chunk_bytes"))]
    pub snapshot_chunk_bytes: u64,
    /// Test-only: a deliberately broken rule (see `Mutation`).
    #[cfg(feature = "mutations")]
    #[doc(hidden)]
    #[cfg_attr(feature = "serde", serde(skip))]
    pub mutation: Option<crate::mutation::Mutation>,
}

/// The default `snapshot_chunk_bytes`: 1 MiB.
#[cfg(feature = "serde")]
fn default_snapshot_chunk_bytes() -> u64 {
    1 << 20
}

impl Config {
    /// Node `id` with the defaults: beats every tick, an election timeout
    /// of 10 ticks, 1 MiB per message, per proposal and per snapshot piece, 4,096 entries in
    /// flight per acceptor, 65,536 undecided entries at most, majority
    /// quorums, priority 0, quorum-round reads (lease drift margin 1 tick
    /// when leases are turned on).
    #[must_use]
    pub fn new(id: NodeId) -> Self {
        Self {
            id,
            heartbeat_ticks: 1,
            election_timeout_ticks: 10,
            max_size_per_msg_bytes: 1 << 20,
            max_proposal_bytes: 1 << 20,
            max_inflight_entries: 4096,
            max_uncommitted_entries: 1 << 16,
            phase1_quorum: None,
            phase2_quorum: None,
            applied: 0,
            priority: 0,
            lease_reads: false,
            lease_drift_margin_ticks: 1,
            snapshot_chunk_bytes: 1 << 20,
            #[cfg(feature = "mutations")]
            mutation: None,
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |field, reason| Err(Error::InvalidConfig { field, reason });
        if self.id == 0 || self.id > MAX_NODE_ID {
            return fail("id", "must be 1 to 2^24 - 1 (ids share the ballot's bits)");
        }
        if self.heartbeat_ticks == 0 {
            return fail("heartbeat_ticks", "must be at least 1");
        }
        if self.election_timeout_ticks <= self.heartbeat_ticks {
            return fail(
                "election_timeout_ticks",
                "must be greater than heartbeat_ticks",
            );
        }
        if self.election_timeout_ticks > u32::MAX / 2 {
            return fail(
                "election_timeout_ticks",
                "must be below 2^31 (it is doubled)",
            );
        }
        if self.max_size_per_msg_bytes == 0 {
            return fail("max_size_per_msg_bytes", "must be at least 1");
        }
        if self.max_proposal_bytes == 0 {
            return fail("max_proposal_bytes", "must be at least 1");
        }
        if self.snapshot_chunk_bytes == 0 {
            return fail("snapshot_chunk_bytes", "must be at least 1");
        }
        if self.max_inflight_entries == 0 {
            return fail("max_inflight_entries", "must be at least 1");
        }
        if self.max_uncommitted_entries == 0 {
            return fail("max_uncommitted_entries", "must be at least 1");
        }
        if self.lease_drift_margin_ticks >= self.election_timeout_ticks {
            return fail(
                "lease_drift_margin_ticks",
                "must be below election_timeout_ticks (the lease would be empty)",
            );
        }
        Ok(())
    }

    /// Checks the quorum sizes against `voters` voters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a quorum is empty or larger than the
    /// voters, or the two do not intersect.
    pub fn check_quorums(&self, voters: usize) -> Result<(), Error> {
        let majority = voters / 2 + 1;
        let (q1, q2) = (
            self.phase1_quorum.unwrap_or(majority),
            self.phase2_quorum.unwrap_or(majority),
        );
        for (field, q) in [("phase1_quorum", q1), ("phase2_quorum", q2)] {
            if q == 0 || q > voters {
                return Err(Error::InvalidConfig {
                    field,
                    reason: "must be between 1 and the number of voters",
                });
            }
        }
        if q1 + q2 <= voters {
            return Err(Error::InvalidConfig {
                field: "phase1_quorum",
                reason: "phase-1 and phase-2 quorums must intersect: q1 + q2 > voters",
            });
        }
        Ok(())
    }
}
