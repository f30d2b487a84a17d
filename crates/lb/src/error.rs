//! The crate's one error type.

/// Everything that can go wrong, as a value.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The endpoint set is empty: there is nothing to pick.
    #[error("no endpoints to pick from")]
    NoEndpoints,
    /// A weight that is zero, negative, NaN or infinite.
    #[error("invalid weight {weight}: weights must be finite and positive")]
    InvalidWeight {
        /// The weight given.
        weight: f64,
    },
    /// A P2C choice count outside 2..=10.
    #[error("invalid choice count {count}: must be within 2..=10")]
    InvalidChoiceCount {
        /// The count given.
        count: usize,
    },
    /// A percentage outside 0..=100 (or NaN).
    #[error("invalid {field}: {value} is not a percentage within 0..=100")]
    InvalidPercentage {
        /// Which setting.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// Any other configuration value out of its range.
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// Which setting.
        field: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The key names no endpoint in the set.
    #[error("no endpoint with this key")]
    UnknownEndpoint,
    /// A hash-based picker could not build its table.
    #[error("hash table: {0}")]
    Hash(#[from] synod_hashring::Error),
}

/// Validates a weight: finite and positive.
pub(crate) fn check_weight(weight: f64) -> Result<f64, Error> {
    if weight.is_finite() && weight > 0.0 {
        Ok(weight)
    } else {
        Err(Error::InvalidWeight { weight })
    }
}

/// Validates a percentage: within 0..=100.
pub(crate) fn check_percent(field: &'static str, value: f64) -> Result<(), Error> {
    if (0.0..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidPercentage { field, value })
    }
}
