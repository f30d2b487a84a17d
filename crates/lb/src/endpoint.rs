//! Per-endpoint state shared between the balancer, its pickers and the
//! guards of requests in flight: counters and health, all atomics so
//! picks and completions run on any thread without locks.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use rand::Rng;

use crate::clock::{Clock, nanos};
use crate::health::HealthConfig;
use crate::rng::unit;

/// An endpoint's identity for the life of the balancer: stable across
/// re-weighting, never reused after removal. Use it to exclude endpoints a
/// request already tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub u64);

/// A picker's [`LatencyModel`](crate::LatencyModel) in the nanoseconds the
/// guards compute with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LatencyNanos {
    /// The EWMA's time constant, in nanoseconds.
    pub(crate) decay_ns: f64,
    /// A failed request counts as at least this slow, in nanoseconds.
    pub(crate) failure_penalty_ns: f64,
}

impl LatencyNanos {
    pub(crate) fn new(model: crate::LatencyModel) -> Self {
        Self {
            decay_ns: nanos(model.decay) as f64,
            failure_penalty_ns: nanos(model.failure_penalty) as f64,
        }
    }
}

/// What every endpoint of one balancer shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: HealthConfig,
    pub(crate) latency: Option<LatencyNanos>,
    /// Endpoints in the set.
    pub(crate) endpoints: AtomicUsize,
    /// Endpoints of the set now ejected.
    pub(crate) ejected: AtomicUsize,
    /// Too few endpoints are in service: ignore health.
    pub(crate) panic: AtomicBool,
    /// Whether the picker needs `total_in_flight` (bounded loads); other
    /// pickers skip the shared counter.
    pub(crate) track_total: bool,
    /// Requests in flight over all endpoints, when tracked.
    pub(crate) total_in_flight: AtomicU64,
}

impl Shared {
    /// Recomputes the panic flag from the counts.
    pub(crate) fn update_panic(&self) {
        let n = self.endpoints.load(Relaxed);
        let ejected = self.ejected.load(Relaxed).min(n);
        let threshold = self.config.panic_threshold_percent;
        let panic = n > 0 && ((n - ejected) as f64) * 100.0 < threshold * n as f64;
        self.panic.store(panic, Relaxed);
    }

    /// Whether one more endpoint may be ejected now.
    fn may_eject(&self) -> bool {
        let max_percent = self.config.outlier.max_ejection_percent;
        let (n, ejected) = (self.endpoints.load(Relaxed), self.ejected.load(Relaxed));
        max_percent > 0.0 && (ejected == 0 || (ejected as f64) * 100.0 < max_percent * n as f64)
    }
}

const EJECTED: u32 = 1;
const RAMPING: u32 = 2;

/// One endpoint's live state. Aligned to two cache lines so that two
/// endpoints' counters never share a line (threads picking different
/// endpoints do not slow each other down).
#[repr(align(128))]
pub(crate) struct EndpointState<K> {
    pub(crate) key: K,
    pub(crate) id: EndpointId,
    pub(crate) shared: Arc<Shared>,
    /// Requests picked and not yet completed.
    pub(crate) in_flight: AtomicU64,
    pub(crate) successes: AtomicU64,
    pub(crate) failures: AtomicU64,
    consecutive_failures: AtomicU32,
    /// `EJECTED` and `RAMPING` bits; 0 on the fast path.
    flags: AtomicU32,
    ejected_until_ns: AtomicU64,
    /// Ejections so far, less one per healthy interval (ejection length
    /// grows with it).
    pub(crate) ejections: AtomicU32,
    ramp_from_ns: AtomicU64,
    /// The latency EWMA in nanoseconds (f64 bits); 0 before any sample.
    ewma_bits: AtomicU64,
    ewma_stamp_ns: AtomicU64,
    /// Removed from the set: completions still count, health bookkeeping
    /// stops.
    pub(crate) removed: AtomicBool,
}

impl<K: fmt::Debug> fmt::Debug for EndpointState<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointState")
            .field("key", &self.key)
            .field("id", &self.id)
            .field("in_flight", &self.in_flight.load(Relaxed))
            .field("flags", &self.flags.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<K> EndpointState<K> {
    pub(crate) fn new(key: K, id: EndpointId, shared: Arc<Shared>) -> Self {
        Self {
            key,
            id,
            shared,
            in_flight: AtomicU64::new(0),
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            flags: AtomicU32::new(0),
            ejected_until_ns: AtomicU64::new(0),
            ejections: AtomicU32::new(0),
            ramp_from_ns: AtomicU64::new(0),
            ewma_bits: AtomicU64::new(0),
            ewma_stamp_ns: AtomicU64::new(0),
            removed: AtomicBool::new(false),
        }
    }

    /// Whether health lets a pick take this endpoint now. The fast path
    /// is one load; ejected and ramping endpoints read the clock.
    #[inline]
    pub(crate) fn admits<R: Rng + ?Sized>(&self, panic: bool, rng: &mut R) -> bool {
        let flags = self.flags.load(Relaxed);
        if flags == 0 {
            return true;
        }
        self.admits_slow(flags, panic, rng)
    }

    #[cold]
    fn admits_slow<R: Rng + ?Sized>(&self, flags: u32, panic: bool, rng: &mut R) -> bool {
        let now = self.shared.clock.now_nanos();
        if flags & EJECTED != 0 {
            if now < self.ejected_until_ns.load(Relaxed) {
                return panic;
            }
            self.return_to_service(now);
        }
        if self.flags.load(Relaxed) & RAMPING == 0 {
            return true;
        }
        let Some(slow) = &self.shared.config.slow_start else {
            self.flags.fetch_and(!RAMPING, Relaxed);
            return true;
        };
        let elapsed = now.saturating_sub(self.ramp_from_ns.load(Relaxed));
        let factor = slow.factor(Duration::from_nanos(elapsed));
        if factor >= 1.0 {
            self.flags.fetch_and(!RAMPING, Relaxed);
            return true;
        }
        panic || unit(rng) < factor
    }

    /// Starts a slow-start ramp (when slow start is on).
    pub(crate) fn start_ramp(&self, now: u64) {
        if self.shared.config.slow_start.is_some() {
            self.ramp_from_ns.store(now, Relaxed);
            self.flags.fetch_or(RAMPING, Relaxed);
        }
    }

    /// Ends an ejection whose time is up (once, whichever thread sees it).
    pub(crate) fn return_to_service(&self, now: u64) {
        let prev = self.flags.fetch_and(!EJECTED, Relaxed);
        if prev & EJECTED == 0 {
            return; // another thread did it
        }
        self.consecutive_failures.store(0, Relaxed);
        if !self.removed.load(Relaxed) {
            self.shared.ejected.fetch_sub(1, Relaxed);
            self.shared.update_panic();
        }
        self.start_ramp(now);
    }

    pub(crate) fn is_ejected(&self) -> bool {
        self.flags.load(Relaxed) & EJECTED != 0
    }

    pub(crate) fn ejected_until(&self) -> u64 {
        self.ejected_until_ns.load(Relaxed)
    }

    /// Ejects the endpoint if the ejection cap allows; returns whether it
    /// did.
    pub(crate) fn eject(&self, now: u64) -> bool {
        if self.removed.load(Relaxed) || self.is_ejected() || !self.shared.may_eject() {
            return false;
        }
        let prev = self.flags.fetch_or(EJECTED, Relaxed);
        if prev & EJECTED != 0 {
            return false;
        }
        let outlier = &self.shared.config.outlier;
        let times = self.ejections.fetch_add(1, Relaxed).saturating_add(1);
        let base = nanos(outlier.base_ejection_time);
        let max = nanos(outlier.max_ejection_time).max(base);
        let length = base.saturating_mul(u64::from(times)).min(max);
        self.ejected_until_ns
            .store(now.saturating_add(length), Relaxed);
        self.shared.ejected.fetch_add(1, Relaxed);
        self.shared.update_panic();
        true
    }

    /// Records a success.
    pub(crate) fn on_success(&self) {
        self.successes.fetch_add(1, Relaxed);
        // Avoid writing a shared line when there is nothing to reset.
        if self.consecutive_failures.load(Relaxed) != 0 {
            self.consecutive_failures.store(0, Relaxed);
        }
    }

    /// Records a failure; ejects after too many in a row.
    pub(crate) fn on_failure(&self) {
        self.failures.fetch_add(1, Relaxed);
        let streak = self.consecutive_failures.fetch_add(1, Relaxed) + 1;
        if let Some(limit) = self.shared.config.outlier.consecutive_failures
            && streak >= limit
            && self.eject(self.shared.clock.now_nanos())
        {
            self.consecutive_failures.store(0, Relaxed);
        }
    }

    /// The latency estimate decayed to `now`, in nanoseconds (0 before any
    /// sample).
    #[inline]
    pub(crate) fn ewma_at(&self, now: u64, decay_ns: f64) -> f64 {
        let ewma = f64::from_bits(self.ewma_bits.load(Relaxed));
        if ewma == 0.0 {
            return 0.0;
        }
        let elapsed = now.saturating_sub(self.ewma_stamp_ns.load(Relaxed)) as f64;
        ewma * (-elapsed / decay_ns).exp()
    }

    /// Folds one latency sample into the peak-sensitive EWMA: a sample
    /// above the estimate replaces it (peaks count at once), a lower one
    /// pulls it down with weight `1 - e^(-elapsed / decay)`.
    pub(crate) fn observe_latency(&self, now: u64, rtt_ns: f64, decay_ns: f64) {
        let stamp = self.ewma_stamp_ns.swap(now, Relaxed);
        let elapsed = now.saturating_sub(stamp) as f64;
        let keep = (-elapsed / decay_ns).exp();
        let mut current = self.ewma_bits.load(Relaxed);
        loop {
            let old = f64::from_bits(current);
            let new = if old == 0.0 || rtt_ns > old {
                rtt_ns
            } else {
                old * keep + rtt_ns * (1.0 - keep)
            };
            match self
                .ewma_bits
                .compare_exchange_weak(current, new.to_bits(), Relaxed, Relaxed)
            {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }
}
