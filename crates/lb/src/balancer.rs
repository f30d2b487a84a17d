//! The balancer: an endpoint set, a picker and health tracking.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use rand::Rng;

use crate::clock::{Clock, SystemClock, nanos};
use crate::endpoint::{EndpointId, EndpointState, LatencyNanos, Shared};
use crate::error::{Error, check_weight};
use crate::guard::Guard;
use crate::health::HealthConfig;
use crate::outlier;
use crate::pick::{Context, Endpoint, Pick};
use crate::rng::{SharedRng, below};

/// What one request asks of a pick.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The request's hash, for hash-based pickers (a session or object
    /// key hashed with [`synod_hashring::hash_bytes`]); other pickers
    /// ignore it.
    pub hash: Option<u64>,
    /// Endpoints this request already tried (for retries): avoided unless
    /// nothing else is left.
    pub exclude: &'a [EndpointId],
}

impl<'a> Request<'a> {
    /// A request with no hash and nothing excluded.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the hash.
    #[must_use]
    pub fn with_hash(self, hash: u64) -> Self {
        Self {
            hash: Some(hash),
            ..self
        }
    }

    /// Avoids the endpoints already tried.
    #[must_use]
    pub fn excluding(self, tried: &'a [EndpointId]) -> Self {
        Self {
            exclude: tried,
            ..self
        }
    }
}

/// Builds a [`Balancer`].
#[derive(Debug)]
pub struct Builder<P> {
    picker: P,
    clock: Option<Arc<dyn Clock>>,
    seed: u64,
    health: HealthConfig,
}

impl<P> Builder<P> {
    /// The clock (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock: Some(clock),
            ..self
        }
    }

    /// The seed of the balancer's generator (default 0). Give each client
    /// its own (for example from `rand::rng()`) so that clients do not
    /// move in lockstep; give a fixed one to replay a test.
    #[must_use]
    pub fn seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }

    /// Health settings (default: Envoy's outlier detection, panic below
    /// 50 %, no slow start).
    #[must_use]
    pub fn health(self, health: HealthConfig) -> Self {
        Self { health, ..self }
    }

    /// Builds an empty balancer.
    ///
    /// # Errors
    /// A typed configuration error from [`HealthConfig::validate`].
    pub fn build<K>(self) -> Result<Balancer<K, P>, Error>
    where
        K: Ord + Clone + Send + Sync,
        P: Pick<K>,
    {
        self.health.validate()?;
        let model = self.picker.latency_model();
        if let Some(m) = model
            && m.decay.is_zero()
        {
            return Err(Error::InvalidConfig {
                field: "decay",
                reason: "must be positive",
            });
        }
        let shared = Arc::new(Shared {
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock::new())),
            config: self.health,
            latency: model.map(LatencyNanos::new),
            endpoints: AtomicUsize::new(0),
            ejected: AtomicUsize::new(0),
            panic: AtomicBool::new(false),
            track_total: self.picker.tracks_total_load(),
            total_in_flight: AtomicU64::new(0),
        });
        let mut balancer = Balancer {
            picker: self.picker,
            endpoints: Vec::new(),
            shared,
            rng: SharedRng::new(self.seed),
            next_id: 0,
            maintenance: Mutex::new(Maintenance::default()),
        };
        let mut rng = balancer.rng.fork();
        balancer.picker.rebuild(&[], &mut rng)?;
        Ok(balancer)
    }
}

/// What [`Balancer::maintain`] remembers between calls.
#[derive(Debug, Default)]
struct Maintenance {
    next_interval_ns: u64,
    /// Per endpoint: successes and failures at the last interval.
    seen: BTreeMap<EndpointId, (u64, u64)>,
}

/// A client-side load balancer: endpoints keyed by `K`, a picker `P`,
/// and health tracking (outlier ejection, panic threshold, slow start).
///
/// Picks take `&self` and run on any number of threads at once; updates
/// take `&mut self`. Time comes from the injected [`Clock`], randomness
/// from the seed or from the generator passed to [`Balancer::pick_with`].
///
/// ```
/// use synod_lb::{Balancer, Request, pick::least_request::LeastRequest};
/// let mut lb = Balancer::builder(LeastRequest::default()).seed(7).build().unwrap();
/// lb.update([("10.0.0.1:80", 1.0), ("10.0.0.2:80", 1.0)]).unwrap();
/// let first = lb.pick(&Request::new()).unwrap();
/// let second = lb.pick(&Request::new()).unwrap();
/// assert_ne!(first.key(), second.key()); // the busy one is avoided
/// first.success();
/// second.failure();
/// ```
pub struct Balancer<K, P> {
    picker: P,
    /// Sorted by key.
    endpoints: Vec<Endpoint<K>>,
    shared: Arc<Shared>,
    rng: SharedRng,
    next_id: u64,
    maintenance: Mutex<Maintenance>,
}

impl<K: fmt::Debug, P: fmt::Debug> fmt::Debug for Balancer<K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balancer")
            .field("picker", &self.picker)
            .field("endpoints", &self.endpoints)
            .field("panic", &self.shared.panic.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<P> Balancer<(), P> {
    /// Starts building a balancer around `picker`.
    pub fn builder(picker: P) -> Builder<P> {
        Builder {
            picker,
            clock: None,
            seed: 0,
            health: HealthConfig::default(),
        }
    }
}

impl<K, P> Balancer<K, P>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
{
    /// Picks an endpoint with the balancer's own generator.
    ///
    /// # Errors
    /// [`Error::NoEndpoints`] when the set is empty; nothing else.
    #[inline]
    pub fn pick(&self, request: &Request<'_>) -> Result<Guard<K>, Error> {
        let mut rng = self.rng.fork();
        self.pick_with(request, &mut rng)
    }

    /// Picks an endpoint with the caller's generator (one per thread
    /// avoids sharing even the balancer's counter).
    ///
    /// # Errors
    /// [`Error::NoEndpoints`] when the set is empty; nothing else.
    #[inline]
    pub fn pick_with<R: Rng + ?Sized>(
        &self,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Result<Guard<K>, Error> {
        let n = self.endpoints.len();
        if n == 0 {
            return Err(Error::NoEndpoints);
        }
        let measure = self.shared.latency.is_some();
        let now_ns = if measure {
            self.shared.clock.now_nanos()
        } else {
            0
        };
        let mut ctx = Context {
            endpoints: &self.endpoints,
            exclude: request.exclude,
            hash: request.hash,
            panic: self.shared.panic.load(Relaxed),
            relaxed: false,
            now_ns,
            total_in_flight: &self.shared.total_in_flight,
        };
        let picked = self.picker.pick(&ctx, rng).or_else(|| {
            // Everything is excluded or out: better some endpoint than
            // none.
            ctx.relaxed = true;
            self.picker.pick(&ctx, rng)
        });
        let i = picked.filter(|&i| i < n).unwrap_or_else(|| below(rng, n));
        let state = Arc::clone(&self.endpoints[i].state);
        Ok(Guard::new(state, measure.then_some(now_ns)))
    }

    /// Adds an endpoint, or changes its weight if the key is known (its
    /// statistics are kept). Returns whether it was new. A new endpoint
    /// joining a non-empty set slow-starts when slow start is on.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`]; the picker's error if it cannot serve the
    /// new set (the balancer is then unchanged).
    pub fn insert(&mut self, key: K, weight: f64) -> Result<bool, Error> {
        check_weight(weight)?;
        let mut next = self.clone_endpoints();
        let is_new = match next.binary_search_by(|e| e.state.key.cmp(&key)) {
            Ok(i) => {
                next[i].weight = weight;
                false
            }
            Err(i) => {
                let e = self.new_endpoint(key, weight, !self.endpoints.is_empty());
                next.insert(i, e);
                true
            }
        };
        self.install(next)?;
        Ok(is_new)
    }

    /// Removes an endpoint. Its guards still in flight complete harmlessly.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; the picker's error if it cannot serve
    /// the new set (the balancer is then unchanged).
    pub fn remove(&mut self, key: &K) -> Result<(), Error> {
        let mut next = self.clone_endpoints();
        let i = next
            .binary_search_by(|e| e.state.key.cmp(key))
            .map_err(|_| Error::UnknownEndpoint)?;
        next.remove(i);
        self.install(next)
    }

    /// Replaces the whole set: keys already known keep their statistics
    /// and health, new keys slow-start (when on, and the set was not
    /// empty), missing keys are removed. A key given twice takes its last
    /// weight.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] for any weight (nothing changes then); the
    /// picker's error if it cannot serve the new set.
    pub fn update(&mut self, endpoints: impl IntoIterator<Item = (K, f64)>) -> Result<(), Error> {
        let mut wanted = BTreeMap::new();
        for (key, weight) in endpoints {
            wanted.insert(key, check_weight(weight)?);
        }
        let ramp = !self.endpoints.is_empty();
        let mut old: BTreeMap<K, &Endpoint<K>> = self
            .endpoints
            .iter()
            .map(|e| (e.state.key.clone(), e))
            .collect();
        let mut next = Vec::with_capacity(wanted.len());
        let mut fresh = Vec::new();
        for (key, weight) in wanted {
            match old.remove(&key) {
                Some(e) => next.push(Endpoint {
                    weight,
                    state: Arc::clone(&e.state),
                }),
                None => fresh.push((next.len(), key, weight)),
            }
        }
        for (offset, (at, key, weight)) in fresh.into_iter().enumerate() {
            let e = self.new_endpoint(key, weight, ramp);
            next.insert(at + offset, e);
        }
        self.install(next)
    }

    /// Runs the interval-based health work: returns endpoints whose
    /// ejection is over, and every `interval` runs the success-rate and
    /// failure-percentage detectors. Call it from a timer (about once a
    /// second); it takes `&self`, and a call while another runs returns at
    /// once.
    pub fn maintain(&self) {
        let Ok(mut m) = self.maintenance.try_lock() else {
            return;
        };
        let now = self.shared.clock.now_nanos();
        for e in &self.endpoints {
            if e.state.is_ejected() && now >= e.state.ejected_until() {
                e.state.return_to_service(now);
            }
        }
        if now < m.next_interval_ns {
            return;
        }
        m.next_interval_ns = now.saturating_add(nanos(self.shared.config.outlier.interval));
        let counts: Vec<(u64, u64)> = self
            .endpoints
            .iter()
            .map(|e| {
                let (s, f) = (e.successes(), e.failures());
                let (s0, f0) = m.seen.get(&e.id()).copied().unwrap_or((0, 0));
                (s.saturating_sub(s0), f.saturating_sub(f0))
            })
            .collect();
        m.seen = self
            .endpoints
            .iter()
            .map(|e| (e.id(), (e.successes(), e.failures())))
            .collect();
        let outliers = outlier::detect(&self.shared.config.outlier, &counts);
        let interval_start = now.saturating_sub(nanos(self.shared.config.outlier.interval));
        for (i, e) in self.endpoints.iter().enumerate() {
            if outliers.contains(&i) {
                e.state.eject(now);
            } else if e.ejections() > 0
                && !e.is_ejected()
                && e.state.ejected_until() <= interval_start
            {
                // A whole interval in service shortens the next ejection
                // (Envoy).
                e.state.ejections.fetch_sub(1, Relaxed);
            }
        }
    }

    /// The endpoints, sorted by key, with their live counters.
    pub fn endpoints(&self) -> &[Endpoint<K>] {
        &self.endpoints
    }

    /// The endpoint with this key.
    pub fn endpoint(&self, key: &K) -> Option<&Endpoint<K>> {
        let i = self
            .endpoints
            .binary_search_by(|e| e.state.key.cmp(key))
            .ok()?;
        self.endpoints.get(i)
    }

    /// Number of endpoints.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are no endpoints.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Whether too few endpoints are in service, so health is ignored.
    pub fn in_panic(&self) -> bool {
        self.shared.panic.load(Relaxed)
    }

    /// The picker (its `config()` says how it was built).
    pub fn picker(&self) -> &P {
        &self.picker
    }

    /// The health settings the balancer was built with.
    pub fn health_config(&self) -> &HealthConfig {
        &self.shared.config
    }

    fn clone_endpoints(&self) -> Vec<Endpoint<K>> {
        self.endpoints
            .iter()
            .map(|e| Endpoint {
                weight: e.weight,
                state: Arc::clone(&e.state),
            })
            .collect()
    }

    fn new_endpoint(&mut self, key: K, weight: f64, ramp: bool) -> Endpoint<K> {
        let id = EndpointId(self.next_id);
        self.next_id += 1;
        let state = EndpointState::new(key, id, Arc::clone(&self.shared));
        if ramp {
            state.start_ramp(self.shared.clock.now_nanos());
        }
        Endpoint {
            weight,
            state: Arc::new(state),
        }
    }

    /// Rebuilds the picker for `next` and swaps it in; marks endpoints
    /// that left as removed and recounts health.
    fn install(&mut self, next: Vec<Endpoint<K>>) -> Result<(), Error> {
        let mut rng = self.rng.fork();
        self.picker.rebuild(&next, &mut rng)?;
        let kept: BTreeSet<EndpointId> = next.iter().map(Endpoint::id).collect();
        for e in &self.endpoints {
            if !kept.contains(&e.id()) {
                e.state.removed.store(true, Relaxed);
            }
        }
        self.endpoints = next;
        let ejected = self.endpoints.iter().filter(|e| e.is_ejected()).count();
        self.shared.endpoints.store(self.endpoints.len(), Relaxed);
        self.shared.ejected.store(ejected, Relaxed);
        self.shared.update_panic();
        Ok(())
    }
}
