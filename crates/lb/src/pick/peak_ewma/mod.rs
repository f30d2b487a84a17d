//! Peak-EWMA power of two choices (Finagle, Linkerd, tower): two random
//! candidates, the lower `latency EWMA x (in flight + 1)` wins. The EWMA
//! jumps to any sample above it (peaks count at once), decays toward
//! lower samples and, with time, toward zero, so a slow endpoint is
//! retried once its bad news is old; a failure counts as at least
//! `failure_penalty` slow.

use std::time::Duration;

use rand::Rng;

use super::{Context, Endpoint, LatencyModel, Pick};
use crate::error::Error;

#[cfg(test)]
mod tests;

/// Settings for [`PeakEwma`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakEwmaConfig {
    /// The estimate for an endpoint with no sample yet. Default 30 ms.
    pub default_rtt: Duration,
    /// The EWMA's time constant. Default 10 s (Finagle's).
    pub decay: Duration,
    /// A failed request counts as at least this slow. Default 1 s.
    pub failure_penalty: Duration,
}

impl Default for PeakEwmaConfig {
    fn default() -> Self {
        Self {
            default_rtt: Duration::from_millis(30),
            decay: Duration::from_secs(10),
            failure_penalty: Duration::from_secs(1),
        }
    }
}

/// Peak-EWMA P2C (see the module docs).
#[derive(Debug, Clone)]
pub struct PeakEwma {
    config: PeakEwmaConfig,
    default_rtt_ns: f64,
    decay_ns: f64,
}

impl Default for PeakEwma {
    fn default() -> Self {
        Self::new(PeakEwmaConfig::default()).expect("the defaults are valid")
    }
}

impl PeakEwma {
    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> &PeakEwmaConfig {
        &self.config
    }

    /// A peak-EWMA picker.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero decay or default RTT.
    pub fn new(config: PeakEwmaConfig) -> Result<Self, Error> {
        if config.decay.is_zero() {
            return Err(Error::InvalidConfig {
                field: "decay",
                reason: "must be positive",
            });
        }
        if config.default_rtt.is_zero() {
            return Err(Error::InvalidConfig {
                field: "default_rtt",
                reason: "must be positive",
            });
        }
        Ok(Self {
            config,
            default_rtt_ns: config.default_rtt.as_nanos() as f64,
            decay_ns: config.decay.as_nanos() as f64,
        })
    }

    #[inline]
    fn cost<K>(&self, e: &Endpoint<K>, now_ns: u64) -> f64 {
        let ewma = e.state.ewma_at(now_ns, self.decay_ns);
        let rtt = if ewma > 0.0 {
            ewma
        } else {
            self.default_rtt_ns
        };
        rtt * (e.in_flight() + 1) as f64
    }
}

impl<K> Pick<K> for PeakEwma {
    #[inline]
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let a = ctx.uniform_eligible(rng)?;
        let b = ctx.uniform_eligible_except(a, rng)?;
        let now = ctx.now_nanos();
        let endpoints = ctx.endpoints();
        let (ca, cb) = (self.cost(&endpoints[a], now), self.cost(&endpoints[b], now));
        Some(if cb < ca { b } else { a })
    }

    fn latency_model(&self) -> Option<LatencyModel> {
        Some(LatencyModel {
            decay: self.config.decay,
            failure_penalty: self.config.failure_penalty,
        })
    }
}
