//! Round robin: each endpoint in turn, from a random start so that many
//! clients built at once do not move in lockstep.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use rand::Rng;

use super::{Context, Endpoint, MAX_DRAWS, Pick};
use crate::error::Error;
use crate::rng::below;

#[cfg(test)]
mod tests;

/// Round robin over the eligible endpoints, ignoring weights.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round robin picker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K> Pick<K> for RoundRobin {
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        rng: &mut R,
    ) -> Result<(), Error> {
        *self.next.get_mut() = below(rng, endpoints.len().max(1));
        Ok(())
    }

    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let n = ctx.len();
        if n == 0 {
            return None;
        }
        for _ in 0..MAX_DRAWS.min(n) {
            let i = self.next.fetch_add(1, Relaxed) % n;
            if ctx.eligible(i, rng) {
                return Some(i);
            }
        }
        ctx.scan_from(self.next.load(Relaxed) % n, rng)
    }
}
