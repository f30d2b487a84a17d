//! The node's configuration, validated once.

use crate::error::Error;
use crate::types::{Index, NO_NODE, NodeId};

/// How a node behaves. Every limit is named here and checked by
/// [`Config::validate`] before the node starts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// This node's id; never [`NO_NODE`].
    pub id: NodeId,
    /// Ticks without hearing from a leader before a follower campaigns.
    /// Each election picks a random timeout in
    /// `[election_timeout_ticks, 2 * election_timeout_ticks)` (Raft §5.2).
    pub election_timeout_ticks: u32,
    /// Ticks between a leader's heartbeats; below the election timeout.
    pub heartbeat_ticks: u32,
    /// Run a pre-vote round before campaigning (Raft thesis §9.6), so a
    /// partitioned node rejoining does not disrupt a working leader.
    pub pre_vote: bool,
    /// A leader steps down after an election timeout without hearing from a
    /// quorum, and followers that hear from a leader ignore votes for a
    /// while (leader stickiness).
    pub check_quorum: bool,
    /// The most entry bytes in one append message (at least one entry is
    /// always sent).
    pub max_size_per_msg_bytes: u64,
    /// The most append messages in flight to one follower.
    pub max_inflight_msgs: usize,
    /// The most entry bytes in flight to one follower (at least one message
    /// is always allowed). `u64::MAX` for no limit.
    pub max_inflight_bytes: u64,
    /// The most payload bytes a leader holds appended but not yet applied;
    /// proposals beyond it are dropped (back-pressure). A proposal is always
    /// accepted when nothing is outstanding. `u64::MAX` for no limit.
    pub max_uncommitted_bytes: u64,
    /// The largest proposal accepted, in payload bytes.
    pub max_proposal_bytes: u64,
    /// The most snapshot bytes in one [`crate::MessageBody::InstallSnapshot`]
    /// piece: a snapshot travels in pieces this size, so heartbeats and
    /// appends to other followers interleave with it.
    pub snapshot_chunk_bytes: u64,
    /// The most snapshot pieces sent to one follower and not yet
    /// acknowledged (flow control: the leader sends the next piece as each
    /// one is acknowledged).
    pub snapshot_chunks_in_flight: u32,
    /// The largest snapshot a follower accepts, in bytes; a transfer
    /// announcing more is refused. `u64::MAX` for no limit.
    pub max_snapshot_bytes: u64,
    /// How linearizable reads are confirmed.
    pub read_mode: ReadMode,
    /// The most reads waiting on one node: on a leader, reads awaiting a
    /// heartbeat round or the first commit of its term (more are refused
    /// with [`crate::DropReason::TooManyReads`], or ignored when forwarded);
    /// on a follower, forwarded reads awaiting the leader's answer (past it
    /// the oldest is forgotten and never answered).
    pub max_pending_reads: usize,
    /// With [`ReadMode::Lease`]: how many ticks the lease gives up for
    /// clock drift. A lease begins when the heartbeat a quorum acknowledged
    /// was *sent* and lasts `election_timeout_ticks -
    /// lease_drift_margin_ticks` of the leader's ticks; no other node can be
    /// elected in that time as long as no voter's ticks run faster than the
    /// leader's by more than the margin over an election timeout (see
    /// `docs/raft.md`). Must be below `election_timeout_ticks`.
    pub lease_drift_margin_ticks: u32,
    /// On restart: the index the application's state machine has already
    /// applied (for example, the index of the snapshot it restored). Entries
    /// after it are handed out again; entries up to it are not. 0 for a
    /// state machine rebuilt from scratch.
    pub applied: Index,
    /// This node starts with an empty configuration and waits for a leader
    /// to add it. Without it, an empty configuration is refused: a new
    /// cluster must name its voters.
    pub joining: bool,
    /// Test-only: a deliberately broken rule (see `Mutation`).
    #[cfg(feature = "mutations")]
    #[doc(hidden)]
    #[cfg_attr(feature = "serde", serde(skip))]
    pub mutation: Option<crate::mutation::Mutation>,
    /// A follower that knows the leader forwards proposals to it instead of
    /// refusing them. Forwarded proposals are fire-and-forget: no index is
    /// known, and one lost on the way is not reported. Off by default.
    pub forward_proposals: bool,
}

/// How the leader confirms it still leads before answering a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ReadMode {
    /// A round of heartbeats acknowledged by a quorum (Raft §6.4): safe
    /// whatever the clocks do. The default.
    Safe,
    /// Answer reads at once while the leader holds a lease: a quorum
    /// acknowledged a heartbeat sent less than `election_timeout_ticks -
    /// lease_drift_margin_ticks` ticks ago, so no other node can have been
    /// elected since. Without a lease (a new leader, or a quorum silent
    /// too long) a read waits for a heartbeat round as with `Safe`.
    /// Correct only while tick rates drift less than the margin allows.
    /// Requires `check_quorum`, whose leader stickiness is what stops
    /// voters from electing anyone during the lease.
    Lease,
}

impl Config {
    /// A configuration for node `id` with the defaults: election timeout 10
    /// ticks, heartbeat 1 tick, pre-vote and check-quorum on, 1 MiB per
    /// message, 256 messages in flight (no byte limit), proposals up to
    /// 1 MiB, no limit on uncommitted bytes, snapshots sent in 1 MiB pieces
    /// with 4 unacknowledged at most and no limit on their size, safe
    /// (heartbeat-confirmed) reads, up to 4096 pending reads, a lease drift
    /// margin of 1 tick (for lease reads), no proposal forwarding.
    #[must_use]
    pub fn new(id: NodeId) -> Self {
        Self {
            id,
            election_timeout_ticks: 10,
            heartbeat_ticks: 1,
            pre_vote: true,
            check_quorum: true,
            max_size_per_msg_bytes: 1 << 20,
            max_inflight_msgs: 256,
            max_inflight_bytes: u64::MAX,
            max_uncommitted_bytes: u64::MAX,
            max_proposal_bytes: 1 << 20,
            snapshot_chunk_bytes: 1 << 20,
            snapshot_chunks_in_flight: 4,
            max_snapshot_bytes: u64::MAX,
            read_mode: ReadMode::Safe,
            lease_drift_margin_ticks: 1,
            max_pending_reads: 4096,
            forward_proposals: false,
            applied: 0,
            joining: false,
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
        if self.id == NO_NODE {
            return fail("id", "0 is reserved for \"no node\"");
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
        if self.max_inflight_msgs == 0 {
            return fail("max_inflight_msgs", "must be at least 1");
        }
        if self.max_inflight_bytes == 0 {
            return fail("max_inflight_bytes", "must be at least 1");
        }
        if self.max_uncommitted_bytes == 0 {
            return fail("max_uncommitted_bytes", "must be at least 1");
        }
        if self.max_size_per_msg_bytes == 0 {
            return fail("max_size_per_msg_bytes", "must be at least 1");
        }
        if self.read_mode == ReadMode::Lease && !self.check_quorum {
            return fail("read_mode", "Lease requires check_quorum");
        }
        if self.lease_drift_margin_ticks >= self.election_timeout_ticks {
            return fail(
                "lease_drift_margin_ticks",
                "must be below election_timeout_ticks (the lease would be empty)",
            );
        }
        if self.max_pending_reads == 0 {
            return fail("max_pending_reads", "must be at least 1");
        }
        if self.snapshot_chunk_bytes == 0 {
            return fail("snapshot_chunk_bytes", "must be at least 1");
        }
        if self.snapshot_chunks_in_flight == 0 {
            return fail("snapshot_chunks_in_flight", "must be at least 1");
        }
        if self.max_proposal_bytes == 0 {
            return fail("max_proposal_bytes", "must be at least 1");
        }
        Ok(())
    }
}
