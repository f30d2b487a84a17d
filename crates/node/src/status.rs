//! What a running node reports about itself.

use synod_protocol::Status;

use crate::latency::LatencyHistogram;

/// The replica's state and the driver's counters, as a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeStatus {
    /// Who leads, the epoch, the commit, applied and last indexes.
    pub protocol: Status,
    /// Proposals appended here and waiting to be applied.
    pub proposals_in_flight: usize,
    /// Linearizable reads waiting for confirmation or for their index.
    pub reads_in_flight: usize,
    /// Ticks since the node started.
    pub ticks: u64,
    /// Times the known leader changed (to another node or to none).
    pub leader_changes: u64,
    /// Writes handed to the log.
    pub writes: u64,
    /// Syncs of the log.
    pub syncs: u64,
    /// How long each log write that synced took (write and sync, on the
    /// blocking executor, measured with the wall clock).
    pub sync_latency: LatencyHistogram,
    /// Snapshots of the state machine taken (each compacts the log).
    pub snapshots_taken: u64,
    /// Snapshots received from a leader and restored.
    pub snapshots_restored: u64,
    /// Messages from peers the protocol refused (stale, misaddressed,
    /// malformed).
    pub messages_refused: u64,
    /// Messages from peers dropped because the inbox was full.
    pub messages_dropped: u64,
}
