//! Uniform random choice.

use rand::Rng;

use super::{Context, Pick};

#[cfg(test)]
mod tests;

/// A uniformly random eligible endpoint, ignoring weights.
#[derive(Debug, Default, Clone, Copy)]
pub struct Random;

impl<K> Pick<K> for Random {
    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        ctx.uniform_eligible(rng)
    }
}
