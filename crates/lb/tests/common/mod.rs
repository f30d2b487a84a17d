//! Helpers shared by the integration tests and the fuzz target.
pub(crate) mod ops;
