//! The resource side of fencing: a lock guards a resource only if the
//! resource refuses every token below the highest it has accepted (a
//! holder paused past its session's expiry comes back holding a token
//! someone newer has already used).

use std::collections::BTreeMap;

/// A write carried a token older than one the resource already accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stale fencing token {token}: {highest} was already used")]
pub struct StaleToken {
    /// The token refused.
    pub token: u64,
    /// The highest accepted.
    pub highest: u64,
}

/// The highest token accepted per resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fence {
    highest: BTreeMap<String, u64>,
}

impl Fence {
    /// No token seen yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` for `resource` if it is at least the highest seen
    /// (the same holder may write many times), and remembers it.
    ///
    /// # Errors
    /// [`StaleToken`] when a higher token was accepted before.
    pub fn check(&mut self, resource: &str, token: u64) -> Result<(), StaleToken> {
        match self.highest.get_mut(resource) {
            Some(h) if token < *h => Err(StaleToken { token, highest: *h }),
            Some(h) => {
                *h = token;
                Ok(())
            }
            None => {
                self.highest.insert(resource.to_string(), token);
                Ok(())
            }
        }
    }

    /// The highest token accepted for `resource`.
    #[must_use]
    pub fn highest(&self, resource: &str) -> Option<u64> {
        self.highest.get(resource).copied()
    }
}
