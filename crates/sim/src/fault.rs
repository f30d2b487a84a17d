//! What can go wrong in a simulated run, and how often.

use crate::error::SimError;
use crate::partition::PartitionKind;

/// Fault probabilities and schedules for a simulated run. Every probability
/// is per message or per node per tick, and must lie in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// A message is lost (message loss: the docs' "5 % loss" is
    /// `drop: 0.05`).
    #[doc(alias = "loss")]
    pub drop: f64,
    /// A message is delivered twice.
    pub duplicate: f64,
    /// A message's delay in ticks is drawn uniformly from this range, so
    /// messages on one link overtake each other (reordering).
    pub delay_ticks: (u64, u64),
    /// Each directed link gets its own latency: its delay range's maximum
    /// is raised by a per-link amount drawn once per run from
    /// `0..=link_jitter_ticks` (some links are slow, some fast).
    pub link_jitter_ticks: u64,
    /// Per tick: a new partition starts (if none is active).
    pub partition: f64,
    /// How long a partition lasts, in ticks.
    pub partition_ticks: (u64, u64),
    /// The shapes partitions take, picked at random per partition.
    pub partition_kinds: Vec<PartitionKind>,
    /// Per node per tick: the node crashes, losing everything not yet
    /// synced to its disk.
    pub crash: f64,
    /// A crash tears the last unsynced write: a random prefix of its
    /// entries reaches the disk.
    pub torn_writes: bool,
    /// How long a crashed node stays down, in ticks.
    pub down_ticks: (u64, u64),
    /// Per node per tick: the node pauses (stops ticking and stepping, like
    /// a long GC pause) without losing anything.
    pub pause: f64,
    /// How long a pause lasts, in ticks.
    pub pause_ticks: (u64, u64),
    /// Per node per tick: the node's clock skips a tick (a slow clock).
    pub skew: f64,
    /// A message is held up in the network (a retransmission, a long
    /// queue) for extra ticks drawn from `slow_ticks`: answers that arrive
    /// long after the question, even after the asker restarted.
    pub slow: f64,
    /// How long a held-up message is delayed beyond its normal delay.
    pub slow_ticks: (u64, u64),
}

impl FaultConfig {
    /// No faults: every message arrives the next tick.
    #[must_use]
    pub fn none() -> Self {
        Self {
            drop: 0.0,
            duplicate: 0.0,
            delay_ticks: (1, 1),
            link_jitter_ticks: 0,
            partition: 0.0,
            partition_ticks: (0, 0),
            partition_kinds: PartitionKind::ALL.to_vec(),
            crash: 0.0,
            torn_writes: false,
            down_ticks: (0, 0),
            pause: 0.0,
            pause_ticks: (0, 0),
            skew: 0.0,
            slow: 0.0,
            slow_ticks: (0, 0),
        }
    }

    /// The safety profile: every fault at once, often.
    #[must_use]
    pub fn safety() -> Self {
        Self {
            drop: 0.05,
            duplicate: 0.02,
            delay_ticks: (1, 4),
            link_jitter_ticks: 4,
            partition: 0.02,
            partition_ticks: (10, 60),
            partition_kinds: PartitionKind::ALL.to_vec(),
            crash: 0.002,
            torn_writes: true,
            down_ticks: (5, 40),
            pause: 0.002,
            pause_ticks: (5, 30),
            skew: 0.05,
            slow: 0.01,
            slow_ticks: (10, 80),
        }
    }

    /// The chaos profile: far more loss, partitions and crashes than the
    /// safety profile, for hunting rare interleavings (the mutation check).
    #[must_use]
    pub fn chaos() -> Self {
        Self {
            drop: 0.15,
            duplicate: 0.05,
            delay_ticks: (1, 6),
            link_jitter_ticks: 6,
            partition: 0.05,
            partition_ticks: (5, 40),
            partition_kinds: PartitionKind::ALL.to_vec(),
            crash: 0.02,
            torn_writes: true,
            down_ticks: (2, 20),
            pause: 0.005,
            pause_ticks: (5, 20),
            skew: 0.05,
            slow: 0.02,
            slow_ticks: (5, 60),
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`SimError::InvalidProbability`] or [`SimError::InvalidRange`].
    pub fn validate(&self) -> Result<(), SimError> {
        let probabilities = [
            ("drop", self.drop),
            ("duplicate", self.duplicate),
            ("partition", self.partition),
            ("crash", self.crash),
            ("pause", self.pause),
            ("skew", self.skew),
            ("slow", self.slow),
        ];
        for (field, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return Err(SimError::InvalidProbability { field, value });
            }
        }
        let ranges = [
            ("delay_ticks", self.delay_ticks),
            ("partition_ticks", self.partition_ticks),
            ("down_ticks", self.down_ticks),
            ("pause_ticks", self.pause_ticks),
            ("slow_ticks", self.slow_ticks),
        ];
        for (field, (min, max)) in ranges {
            if min > max {
                return Err(SimError::InvalidRange { field, min, max });
            }
        }
        Ok(())
    }
}
