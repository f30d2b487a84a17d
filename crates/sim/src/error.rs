//! The one error type of this crate.

/// What a caller can get wrong when configuring a simulation or recording a
/// history.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A probability outside `[0, 1]` (or NaN).
    #[error("{field} = {value} is not a probability in [0, 1]")]
    InvalidProbability {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A range whose minimum is above its maximum.
    #[error("{field}: minimum {min} is above maximum {max}")]
    InvalidRange {
        /// The field.
        field: &'static str,
        /// The minimum given.
        min: u64,
        /// The maximum given.
        max: u64,
    },
    /// A liveness run (`heal_ticks > 0`) whose clients may not each invoke
    /// an operation after healing.
    #[error(
        "heal_ops = {heal_ops} is below clients = {clients}: not every client could make progress after healing"
    )]
    TooFewHealOps {
        /// The operations allowed after healing, in all.
        heal_ops: u64,
        /// The clients, each of which must complete one.
        clients: u64,
    },
    /// A cluster of zero nodes.
    #[error("a cluster needs at least one node")]
    NoNodes,
    /// An operation completed before it was invoked.
    #[error("operation {op} completed at {completed} before its invocation at {invoked}")]
    CompletionBeforeInvocation {
        /// The operation.
        op: usize,
        /// Its invocation time.
        invoked: u64,
        /// The completion time given.
        completed: u64,
    },
    /// An operation completed twice, or an unknown operation id.
    #[error("operation {op} is unknown or already completed")]
    BadCompletion {
        /// The operation id given.
        op: usize,
    },
}
