//! The one error type of this crate.

/// Everything a caller can get wrong when building or querying a placement.
///
/// Each variant is a mistake in the input (never a bug in this crate), so
/// each is returned, never panicked on. The enum is `#[non_exhaustive]`:
/// match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The node is already in the set.
    #[error("the node is already in the set")]
    DuplicateNode,
    /// The node is not in the set.
    #[error("the node is not in the set")]
    UnknownNode,
    /// The operation needs at least one node and the set is empty.
    #[error("the node set is empty")]
    NoNodes,
    /// A weight is zero, negative, NaN or infinite.
    #[error("weight {weight} is not a finite number greater than zero")]
    InvalidWeight {
        /// The weight that was refused.
        weight: f64,
    },
    /// This algorithm places every node with the same weight.
    #[error("this algorithm does not support weights (got weight {weight}); use 1.0")]
    WeightsUnsupported {
        /// The weight that was refused.
        weight: f64,
    },
    /// A node's weight would give it more ring points than
    /// [`crate::ring::MAX_POINTS_PER_NODE`], or the ring would hold more than
    /// [`crate::ring::MAX_TOTAL_POINTS`].
    #[error("{points} ring points asked for, above the limit of {limit}")]
    TooManyPoints {
        /// Points asked for.
        points: f64,
        /// The limit passed.
        limit: u64,
    },
    /// More nodes than the structure can index.
    #[error("{nodes} nodes is above the limit of {limit}")]
    TooManyNodes {
        /// Nodes asked for.
        nodes: usize,
        /// The structure's limit.
        limit: usize,
    },
    /// `points_per_weight` of a ring is zero.
    #[error("points_per_weight must be at least 1")]
    ZeroPoints,
    /// The Maglev table size is not a prime number.
    #[error("Maglev table size {size} is not prime")]
    TableSizeNotPrime {
        /// The size that was refused.
        size: u32,
    },
    /// The Maglev table has fewer entries than there are nodes.
    #[error("Maglev table size {size} is smaller than the node count {nodes}")]
    TableTooSmall {
        /// The table size.
        size: u32,
        /// The node count it would have to hold.
        nodes: usize,
    },
    /// The Maglev table size is above the limit.
    #[error("Maglev table size {size} is above the limit of {limit}")]
    TableTooLarge {
        /// The size that was refused.
        size: u32,
        /// [`crate::maglev::MAX_TABLE_SIZE`].
        limit: u32,
    },
    /// The multi-probe probe count is outside its allowed range.
    #[error("probe count {probes} is outside 1..={max}")]
    InvalidProbeCount {
        /// The count that was refused.
        probes: u32,
        /// [`crate::multiprobe::MAX_PROBES`].
        max: u32,
    },
    /// The bounded-loads factor `c` is below 1, NaN or infinite.
    #[error("load factor c = {c} must be a finite number of at least 1.0")]
    InvalidLoadFactor {
        /// The factor that was refused.
        c: f64,
    },
    /// Jump hash numbers its buckets; only the last one can be removed.
    #[error("jump hash can only remove its last bucket")]
    NotLastBucket,
    /// More replicas were asked for than there are nodes.
    #[error("asked for {wanted} replicas but the set has {available} nodes")]
    NotEnoughNodes {
        /// Replicas asked for.
        wanted: usize,
        /// Nodes in the set.
        available: usize,
    },
    /// A load was released from a node that carries none.
    #[error("the node carries no load to release")]
    NoLoad,
}
