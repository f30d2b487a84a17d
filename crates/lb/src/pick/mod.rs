//! The [`Pick`] trait every picker implements, and the [`Context`] a pick
//! sees: the endpoints, the request's hash and exclusions, and which
//! endpoints health admits.
//!
//! Each picker lives in its own module with the same parts: the picker
//! and its configuration (`mod.rs`) and its unit tests (`tests.rs`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rand::Rng;

use crate::endpoint::{EndpointId, EndpointState};
use crate::error::Error;
use crate::rng::below;

mod alias;
pub mod edf;
pub mod hash;
pub mod least_request;
pub mod peak_ewma;
pub mod random;
pub mod round_robin;
pub mod smooth_wrr;
pub mod weighted_p2c;
pub mod weighted_random;

/// Random draws a picker makes before it falls back to scanning for an
/// eligible endpoint. Health keeps at most half the endpoints out (beyond
/// that the balancer panics and admits all), so 16 draws all failing has
/// probability at most 2^-16 and the scan is rare.
pub const MAX_DRAWS: usize = 16;

/// A load-balancing policy: given the endpoints, choose one.
///
/// `rebuild` runs (with `&mut self`) whenever the endpoint set or a weight
/// changes; `pick` runs (with `&self`) on any number of threads at once.
/// A picker that cannot find an eligible endpoint returns `None`; the
/// balancer then asks again with health and exclusions relaxed.
pub trait Pick<K>: Send + Sync + fmt::Debug {
    /// Prepares for a new endpoint list (sorted by key). On error the
    /// picker must be left as it was. Pickers that keep no structure of
    /// their own need nothing here.
    ///
    /// # Errors
    /// When the picker cannot serve this set (see each picker).
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        rng: &mut R,
    ) -> Result<(), Error> {
        let _ = (endpoints, rng);
        Ok(())
    }

    /// Chooses an eligible endpoint's index in `ctx`.
    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize>;

    /// The latency model, for pickers that use measured latency; the
    /// balancer then reads the clock at every pick and completion.
    fn latency_model(&self) -> Option<LatencyModel> {
        None
    }

    /// Whether the picker reads [`Context::total_in_flight`] (a shared
    /// counter every pick and completion then updates).
    fn tracks_total_load(&self) -> bool {
        false
    }
}

/// How measured latencies are kept, for latency-aware pickers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    /// The EWMA's time constant: a sample's weight halves in about 0.7x
    /// this.
    pub decay: Duration,
    /// A failed request counts as at least this slow.
    pub failure_penalty: Duration,
}

/// One endpoint as pickers and users see it: key, weight and live
/// counters.
pub struct Endpoint<K> {
    pub(crate) weight: f64,
    pub(crate) state: Arc<EndpointState<K>>,
}

impl<K: fmt::Debug> fmt::Debug for Endpoint<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("key", &self.state.key)
            .field("weight", &self.weight)
            .field("in_flight", &self.in_flight())
            .field("ejected", &self.is_ejected())
            .finish()
    }
}

impl<K> Endpoint<K> {
    /// Its key.
    pub fn key(&self) -> &K {
        &self.state.key
    }

    /// Its identity, stable for the balancer's life.
    pub fn id(&self) -> EndpointId {
        self.state.id
    }

    /// Its configured weight.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// Requests picked and not yet completed.
    #[inline]
    pub fn in_flight(&self) -> u64 {
        self.state.in_flight.load(Relaxed)
    }

    /// Requests completed successfully, ever.
    pub fn successes(&self) -> u64 {
        self.state.successes.load(Relaxed)
    }

    /// Requests failed, ever.
    pub fn failures(&self) -> u64 {
        self.state.failures.load(Relaxed)
    }

    /// Whether outlier detection holds it out of rotation.
    pub fn is_ejected(&self) -> bool {
        self.state.is_ejected()
    }

    /// Times ejected, less one per healthy interval since.
    pub fn ejections(&self) -> u32 {
        self.state.ejections.load(Relaxed)
    }

    /// The peak-EWMA latency estimate at `now_ns` (decayed since the last
    /// sample), in nanoseconds; `None` before any sample.
    pub fn latency_estimate_ns(&self, now_ns: u64, decay: Duration) -> Option<f64> {
        let decay_ns = decay.as_nanos() as f64;
        let v = self.state.ewma_at(now_ns, decay_ns.max(1.0));
        (v > 0.0).then_some(v)
    }
}

/// The total a context without a balancer reads.
static NO_TOTAL: AtomicU64 = AtomicU64::new(0);

/// What one pick sees.
#[derive(Debug)]
pub struct Context<'a, K> {
    pub(crate) endpoints: &'a [Endpoint<K>],
    pub(crate) exclude: &'a [EndpointId],
    pub(crate) hash: Option<u64>,
    pub(crate) panic: bool,
    /// Last resort: ignore health and exclusions.
    pub(crate) relaxed: bool,
    pub(crate) now_ns: u64,
    pub(crate) total_in_flight: &'a AtomicU64,
}

impl<'a, K> Context<'a, K> {
    /// A context over `endpoints` with nothing excluded and everything
    /// healthy, for tests of a picker alone.
    pub fn new(endpoints: &'a [Endpoint<K>]) -> Self {
        Self {
            endpoints,
            exclude: &[],
            hash: None,
            panic: false,
            relaxed: false,
            now_ns: 0,
            total_in_flight: &NO_TOTAL,
        }
    }

    /// The endpoints, sorted by key.
    #[inline]
    pub fn endpoints(&self) -> &'a [Endpoint<K>] {
        self.endpoints
    }

    /// Number of endpoints.
    #[inline]
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The request's hash, for hash-based pickers.
    pub fn hash(&self) -> Option<u64> {
        self.hash
    }

    /// Requests in flight over all endpoints (0 unless the picker
    /// [tracks it](Pick::tracks_total_load)).
    pub fn total_in_flight(&self) -> u64 {
        self.total_in_flight.load(Relaxed)
    }

    /// The clock at the pick (0 unless the picker has a latency model).
    pub fn now_nanos(&self) -> u64 {
        self.now_ns
    }

    /// Whether endpoint `i` may be picked: not excluded by the request,
    /// and admitted by health (not ejected, unless in panic; a slow-start
    /// endpoint with the probability of its ramp). Out-of-range indexes
    /// are not eligible.
    #[inline]
    pub fn eligible<R: Rng + ?Sized>(&self, i: usize, rng: &mut R) -> bool {
        let Some(e) = self.endpoints.get(i) else {
            return false;
        };
        if self.relaxed {
            return true;
        }
        if !self.exclude.is_empty() && self.exclude.contains(&e.state.id) {
            return false;
        }
        e.state.admits(self.panic, rng)
    }

    /// An eligible endpoint drawn by `draw` (up to [`MAX_DRAWS`] times),
    /// else the first eligible one after a random start.
    #[inline]
    pub fn draw_eligible<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        mut draw: impl FnMut(&mut R) -> usize,
    ) -> Option<usize> {
        for _ in 0..MAX_DRAWS {
            let i = draw(rng);
            if self.eligible(i, rng) {
                return Some(i);
            }
        }
        let start = below(rng, self.len().max(1));
        self.scan_from(start, rng)
    }

    /// A uniformly random eligible endpoint.
    #[inline]
    pub fn uniform_eligible<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<usize> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.draw_eligible(rng, |rng| below(rng, n))
    }

    /// A uniformly random eligible endpoint other than `other`, or `other`
    /// itself when it is the only eligible one (or out of range): the
    /// second draw of a power-of-two-choices picker, which must not
    /// compare an endpoint with itself (with two endpoints, drawing with
    /// replacement would send a quarter of the picks to the worse one
    /// whatever its cost).
    #[inline]
    pub fn uniform_eligible_except<R: Rng + ?Sized>(
        &self,
        other: usize,
        rng: &mut R,
    ) -> Option<usize> {
        let n = self.len();
        if n < 2 || other >= n {
            return self.uniform_eligible(rng);
        }
        // Uniform over the n - 1 others: an offset of 1..n from `other`.
        let found = self.draw_eligible(rng, |rng| (other + 1 + below(rng, n - 1)) % n);
        match found {
            Some(i) if i != other => Some(i),
            // The fallback scan may land on `other`; look past it.
            _ => self
                .scan_from((other + 1) % n, rng)
                .filter(|&i| i != other)
                .or(Some(other)),
        }
    }

    /// The first eligible endpoint at or after `start`, wrapping around.
    pub fn scan_from<R: Rng + ?Sized>(&self, start: usize, rng: &mut R) -> Option<usize> {
        let n = self.len();
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.eligible(i, rng))
    }
}

/// Helpers for the pickers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};

    use super::{Context, Endpoint, Pick};
    use crate::clock::ManualClock;
    use crate::endpoint::{EndpointId, EndpointState, Shared};
    use crate::health::HealthConfig;
    use crate::rng::SplitMix;

    /// What `n` test endpoints share: default health, a manual clock.
    pub(crate) fn shared(n: usize, track_total: bool) -> Arc<Shared> {
        Arc::new(Shared {
            clock: Arc::new(ManualClock::new()),
            config: HealthConfig::default(),
            latency: None,
            endpoints: AtomicUsize::new(n),
            ejected: AtomicUsize::new(0),
            panic: AtomicBool::new(false),
            track_total,
            total_in_flight: AtomicU64::new(0),
        })
    }

    /// Endpoints with these keys (sorted) and weights, healthy, nothing in
    /// flight.
    pub(crate) fn keyed<K>(keys_weights: Vec<(K, f64)>, shared: &Arc<Shared>) -> Vec<Endpoint<K>> {
        keys_weights
            .into_iter()
            .enumerate()
            .map(|(i, (key, weight))| Endpoint {
                weight,
                state: Arc::new(EndpointState::new(
                    key,
                    EndpointId(i as u64),
                    Arc::clone(shared),
                )),
            })
            .collect()
    }

    /// Endpoints keyed 0.. with these weights.
    pub(crate) fn endpoints(weights: &[f64]) -> Vec<Endpoint<u32>> {
        let shared = shared(weights.len(), false);
        let keyed_weights = (0..).zip(weights.iter().copied()).collect();
        keyed(keyed_weights, &shared)
    }

    /// Builds `picker` over `endpoints` and counts its picks.
    pub(crate) fn counts<P: Pick<u32>>(
        picker: &mut P,
        endpoints: &[Endpoint<u32>],
        picks: usize,
        seed: u64,
    ) -> Vec<u64> {
        let mut rng = SplitMix(seed);
        picker.rebuild(endpoints, &mut rng).unwrap();
        let ctx = Context::new(endpoints);
        let mut hits = vec![0; endpoints.len()];
        for _ in 0..picks {
            hits[picker.pick(&ctx, &mut rng).unwrap()] += 1;
        }
        hits
    }

    /// Sets an endpoint's in-flight count.
    pub(crate) fn set_in_flight(e: &Endpoint<u32>, n: u64) {
        e.state
            .in_flight
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }
}
