//! Weighted power of two choices in O(1): two candidates drawn by weight
//! (alias method), the one with fewer requests in flight per unit of
//! weight wins. tower's balancer has no weighted P2C (tower issue #696).

use rand::Rng;

use super::alias::AliasTable;
use super::{Context, Endpoint, Pick};
use crate::error::Error;

#[cfg(test)]
mod tests;

/// Weighted P2C: draws two eligible endpoints with probability
/// proportional to weight and takes the one with the lower
/// `(in_flight + 1) / weight`.
#[derive(Debug, Default, Clone)]
pub struct WeightedP2c {
    table: AliasTable,
}

impl WeightedP2c {
    /// A weighted P2C picker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K> Pick<K> for WeightedP2c {
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
        let a = self.table.sample_eligible(ctx, rng)?;
        let b = self.table.sample_eligible(ctx, rng)?;
        let load = |i: usize| {
            let e = &ctx.endpoints()[i];
            (e.in_flight() + 1) as f64 / e.weight()
        };
        Some(if load(b) < load(a) { b } else { a })
    }
}
