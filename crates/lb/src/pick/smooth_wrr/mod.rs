//! Smooth weighted round robin (nginx): over each period of `W` picks
//! (the sum of the integer weights) every endpoint gets exactly its
//! weight's picks, spread out: weights {5, 1, 1} give `a a b a c a a`.
//!
//! The period is computed once per update with nginx's algorithm, so a
//! pick is one atomic increment and a table read. A weight change keeps
//! the position within the period (as a fraction), so no endpoint gets a
//! burst or a drought across the change.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use rand::Rng;

use super::{Context, Endpoint, MAX_DRAWS, Pick};
use crate::error::Error;
use crate::rng::below;

#[cfg(test)]
mod tests;

/// The longest period: weights whose integer sum would exceed it are
/// scaled down (keeping every endpoint at least 1).
pub const MAX_PERIOD: usize = 1 << 16;

/// Smooth weighted round robin (see the module docs). Rebuilding costs
/// O(period x endpoints); picking O(1).
#[derive(Debug, Default)]
pub struct SmoothWrr {
    /// One period of endpoint indexes.
    schedule: Vec<u32>,
    next: AtomicUsize,
}

impl SmoothWrr {
    /// A smooth WRR picker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The current period, as endpoint indexes.
    pub fn period(&self) -> &[u32] {
        &self.schedule
    }
}

/// Integer weights with the same ratios (as near as the period allows),
/// divided by their greatest common divisor.
pub(crate) fn integer_weights(weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    let integral = weights.iter().all(|w| w.fract() == 0.0);
    let scale = if integral && total <= MAX_PERIOD as f64 {
        1.0
    } else {
        MAX_PERIOD as f64 / total
    };
    let q: Vec<u64> = weights
        .iter()
        .map(|w| ((w * scale).round() as u64).max(1))
        .collect();
    let g = q.iter().copied().fold(0, gcd);
    q.iter().map(|x| x / g.max(1)).collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// One period of nginx's smooth WRR from the zero state: each step adds
/// every weight to its current value, picks the largest (the first on
/// ties) and takes the total off it.
pub(crate) fn nginx_period(weights: &[u64]) -> Vec<u32> {
    let total: i64 = weights.iter().map(|&w| w as i64).sum();
    let mut current = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, c) in current.iter_mut().enumerate() {
            *c += weights[i] as i64;
        }
        for (i, &c) in current.iter().enumerate() {
            if c > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        out.push(best as u32);
    }
    out
}

impl<K> Pick<K> for SmoothWrr {
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        rng: &mut R,
    ) -> Result<(), Error> {
        let weights: Vec<f64> = endpoints.iter().map(Endpoint::weight).collect();
        let schedule = nginx_period(&integer_weights(&weights));
        let old_len = self.schedule.len();
        let next = if old_len == 0 {
            below(rng, schedule.len().max(1))
        } else {
            // The same fraction of the way through the period.
            let at = *self.next.get_mut() % old_len;
            (at as u128 * schedule.len() as u128 / old_len as u128) as usize
        };
        self.schedule = schedule;
        *self.next.get_mut() = next;
        Ok(())
    }

    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let len = self.schedule.len();
        if len == 0 {
            return ctx.uniform_eligible(rng);
        }
        for _ in 0..MAX_DRAWS {
            let i = self.schedule[self.next.fetch_add(1, Relaxed) % len] as usize;
            if ctx.eligible(i, rng) {
                return Some(i);
            }
        }
        ctx.uniform_eligible(rng)
    }
}
