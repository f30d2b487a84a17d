//! Weighted random choice by the alias method: O(1) per pick.

use rand::Rng;

use super::alias::AliasTable;
use super::{Context, Endpoint, Pick};
use crate::error::Error;

#[cfg(test)]
mod tests;

/// An eligible endpoint drawn with probability proportional to its weight
/// (among the eligible ones: ineligible draws are redrawn).
#[derive(Debug, Default, Clone)]
pub struct WeightedRandom {
    table: AliasTable,
}

impl WeightedRandom {
    /// A weighted random picker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K> Pick<K> for WeightedRandom {
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        _rng: &mut R,
    ) -> Result<(), Error> {
        self.table = AliasTable::for_endpoints(endpoints);
        Ok(())
    }

    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        self.table.sample_eligible(ctx, rng)
    }
}
