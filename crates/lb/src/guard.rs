//! The guard a pick returns: it holds the endpoint's in-flight slot until
//! the request completes, then records the outcome.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::clock::nanos;
use crate::endpoint::{EndpointId, EndpointState};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered well.
    Success,
    /// The endpoint failed the request (an error, a 5xx, a timeout): it
    /// counts toward outlier ejection, and as slow for peak-EWMA.
    Failure,
    /// The caller gave up (dropped the guard): the endpoint is neither
    /// credited nor blamed, but the time it was busy still counts for
    /// latency-aware pickers.
    Cancelled,
}

/// One picked request. Complete it with [`Guard::success`],
/// [`Guard::failure`], [`Guard::complete`] or
/// [`Guard::complete_with_latency`]; dropping it completes it as
/// [`Outcome::Cancelled`]. Completing consumes the guard, so a request
/// completes exactly once; a guard whose endpoint has been removed from
/// the balancer completes harmlessly.
#[must_use = "the pick holds an in-flight slot until the guard completes"]
pub struct Guard<K> {
    state: Arc<EndpointState<K>>,
    /// When the pick happened, for latency-measuring pickers.
    start_ns: Option<u64>,
    done: bool,
}

impl<K: fmt::Debug> fmt::Debug for Guard<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("key", &self.state.key)
            .field("id", &self.state.id)
            .finish_non_exhaustive()
    }
}

impl<K> Guard<K> {
    /// Takes an in-flight slot on `state`.
    pub(crate) fn new(state: Arc<EndpointState<K>>, start_ns: Option<u64>) -> Self {
        state.in_flight.fetch_add(1, Relaxed);
        if state.shared.track_total {
            state.shared.total_in_flight.fetch_add(1, Relaxed);
        }
        Self {
            state,
            start_ns,
            done: false,
        }
    }

    /// The picked endpoint's key.
    pub fn key(&self) -> &K {
        &self.state.key
    }

    /// The picked endpoint's identity (for excluding it on a retry).
    pub fn id(&self) -> EndpointId {
        self.state.id
    }

    /// The request succeeded.
    pub fn success(self) {
        self.complete(Outcome::Success);
    }

    /// The request failed.
    pub fn failure(self) {
        self.complete(Outcome::Failure);
    }

    /// The request ended with `outcome`. Latency-aware pickers record
    /// the time on the balancer's [`Clock`](crate::Clock) since the pick.
    pub fn complete(mut self, outcome: Outcome) {
        self.finish(outcome, None);
    }

    /// The request ended with `outcome` after `latency` measured by the
    /// caller (a server-reported processing time, a span from a tracing
    /// layer, a queue's own timer): latency-aware pickers record it
    /// instead of the clock's time since the pick. A failure still counts
    /// as at least the picker's failure penalty. Pickers that do not
    /// measure latency ignore it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use synod_lb::{Balancer, ManualClock, Outcome, PeakEwma, Request};
    /// let clock = Arc::new(ManualClock::new());
    /// let mut lb = Balancer::builder(PeakEwma::default()).clock(clock.clone()).build().unwrap();
    /// lb.update([("a", 1.0)]).unwrap();
    /// lb.pick(&Request::new()).unwrap().complete_with_latency(Outcome::Success, Duration::from_millis(40));
    /// let decay = lb.picker().config().decay;
    /// let estimate = lb.endpoint(&"a").unwrap().latency_estimate_ns(0, decay).unwrap();
    /// assert_eq!(estimate, 40e6); // the clock never moved: only the reported time counts
    /// ```
    pub fn complete_with_latency(mut self, outcome: Outcome, latency: Duration) {
        self.finish(outcome, Some(nanos(latency)));
    }

    /// Gives the slot back without recording anything: the request was
    /// never sent (its endpoint was not ready).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn release(mut self) {
        self.done = true;
        self.give_back_slot();
    }

    fn give_back_slot(&self) {
        self.state.in_flight.fetch_sub(1, Relaxed);
        if self.state.shared.track_total {
            self.state.shared.total_in_flight.fetch_sub(1, Relaxed);
        }
    }

    /// Records `outcome` once; `latency_ns` replaces the clock's time
    /// since the pick when the caller measured it.
    fn finish(&mut self, outcome: Outcome, latency_ns: Option<u64>) {
        if self.done {
            return;
        }
        self.done = true;
        let state = &self.state;
        if let (Some(start), Some(model)) = (self.start_ns, state.shared.latency) {
            let now = state.shared.clock.now_nanos();
            let measured = latency_ns.unwrap_or_else(|| now.saturating_sub(start));
            let mut rtt = measured as f64;
            if outcome == Outcome::Failure {
                rtt = rtt.max(model.failure_penalty_ns);
            }
            state.observe_latency(now, rtt, model.decay_ns);
        }
        self.give_back_slot();
        match outcome {
            Outcome::Success => state.on_success(),
            Outcome::Failure => state.on_failure(),
            Outcome::Cancelled => {}
        }
    }
}

impl<K> Drop for Guard<K> {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled, None);
    }
}
