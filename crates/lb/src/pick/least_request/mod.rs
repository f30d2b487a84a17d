//! Least request: the endpoint with the fewest requests in flight. Exact
//! (a full scan) for small sets; the best of `choice_count` random
//! candidates for large ones; with unequal weights, Envoy's score
//! `weight / (active + 1)^bias`.

use rand::Rng;

use super::{Context, Endpoint, Pick};
use crate::error::Error;
use crate::rng::below;

#[cfg(test)]
mod tests;

/// Settings for [`LeastRequest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeastRequestConfig {
    /// Random candidates compared per pick on large sets, 2..=10 (Envoy's
    /// `choice_count`). Default 2.
    pub choice_count: usize,
    /// Sets up to this size are scanned in full. Default 8.
    pub exact_up_to: usize,
    /// With unequal weights, how strongly in-flight requests count against
    /// weight: score `weight / (active + 1)^bias` (0 ignores load). Default
    /// 1.0.
    pub active_request_bias: f64,
}

impl Default for LeastRequestConfig {
    fn default() -> Self {
        Self {
            choice_count: 2,
            exact_up_to: 8,
            active_request_bias: 1.0,
        }
    }
}

/// Least request (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct LeastRequest {
    config: LeastRequestConfig,
    weighted: bool,
}

impl LeastRequest {
    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> &LeastRequestConfig {
        &self.config
    }

    /// A least-request picker.
    ///
    /// # Errors
    /// [`Error::InvalidChoiceCount`] outside 2..=10; [`Error::InvalidConfig`]
    /// for a negative or non-finite bias.
    pub fn new(config: LeastRequestConfig) -> Result<Self, Error> {
        if !(2..=10).contains(&config.choice_count) {
            return Err(Error::InvalidChoiceCount {
                count: config.choice_count,
            });
        }
        let bias = config.active_request_bias;
        if !(bias.is_finite() && bias >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "active_request_bias",
                reason: "must be finite and not negative",
            });
        }
        Ok(Self {
            config,
            weighted: false,
        })
    }

    /// Lower is better.
    #[inline]
    fn cost<K>(&self, e: &Endpoint<K>) -> f64 {
        let active = e.in_flight() as f64;
        if !self.weighted {
            return active;
        }
        let bias = self.config.active_request_bias;
        let load = if bias == 1.0 {
            active + 1.0
        } else {
            (active + 1.0).powf(bias)
        };
        load / e.weight()
    }
}

impl<K> Pick<K> for LeastRequest {
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        _rng: &mut R,
    ) -> Result<(), Error> {
        let first = endpoints.first().map(Endpoint::weight);
        self.weighted = endpoints.iter().any(|e| Some(e.weight()) != first);
        Ok(())
    }

    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let n = ctx.len();
        let endpoints = ctx.endpoints();
        if n <= self.config.exact_up_to {
            // From a random start, so ties go to a random endpoint.
            let start = below(rng, n.max(1));
            let mut best: Option<(f64, usize)> = None;
            for k in 0..n {
                let i = (start + k) % n;
                if !ctx.eligible(i, rng) {
                    continue;
                }
                let c = self.cost(&endpoints[i]);
                if best.is_none_or(|(bc, _)| c < bc) {
                    best = Some((c, i));
                }
            }
            return best.map(|(_, i)| i);
        }
        let mut best = ctx.uniform_eligible(rng)?;
        let mut best_cost = self.cost(&endpoints[best]);
        for _ in 1..self.config.choice_count {
            let i = ctx.uniform_eligible(rng)?;
            let c = self.cost(&endpoints[i]);
            if c < best_cost {
                (best, best_cost) = (i, c);
            }
        }
        Some(best)
    }
}
