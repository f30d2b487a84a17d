//! The driver's limits and timings, as named configuration.

use crate::error::Error;

/// The driver's options (the protocol has its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeOptions {
    /// Inputs (messages, client calls) taken before the replica's work is
    /// handed out: a bound on the batch one write covers.
    pub max_batch_inputs: usize,
    /// Client calls queued and not yet taken by the node; past it a call
    /// fails at once with `Error::Refused(Refusal::Busy)` (back-pressure
    /// on clients, who retry later).
    pub client_queue: usize,
    /// Messages from peers queued before more are dropped (the protocol
    /// recovers from loss).
    pub inbox_capacity: usize,
    /// Ticks a linearizable read may wait for its confirmation before it
    /// fails with [`Error::Timeout`](crate::Error::Timeout).
    pub read_timeout_ticks: u64,
    /// Applied entries between two snapshots of the state machine (the
    /// log is compacted up to each, less the tail below); 0 never
    /// snapshots.
    pub snapshot_every_entries: u64,
    /// Entries kept in the log below each snapshot's index when it is
    /// compacted, so a follower only slightly behind is sent entries
    /// rather than the whole snapshot (etcd keeps 5,000 for the same
    /// reason). Compaction never waits for other nodes: one far behind is
    /// sent the snapshot.
    pub compaction_tail_entries: u64,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            max_batch_inputs: 1024,
            client_queue: 4096,
            inbox_capacity: 4096,
            read_timeout_ticks: 50,
            snapshot_every_entries: 10_000,
            compaction_tail_entries: 5_000,
        }
    }
}

impl NodeOptions {
    /// Checks the limits.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] for a zero batch, queue or timeout.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_batch_inputs == 0 {
            return Err(Error::InvalidOptions("max_batch_inputs must be at least 1"));
        }
        if self.client_queue == 0 {
            return Err(Error::InvalidOptions("client_queue must be at least 1"));
        }
        if self.inbox_capacity == 0 {
            return Err(Error::InvalidOptions("inbox_capacity must be at least 1"));
        }
        if self.read_timeout_ticks == 0 {
            return Err(Error::InvalidOptions(
                "read_timeout_ticks must be at least 1",
            ));
        }
        Ok(())
    }
}
