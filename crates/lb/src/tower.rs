//! A `tower::Service` balancer over any picker (feature `tower`).
//!
//! [`Balance`] owns one service per endpoint. `poll_ready` picks an
//! endpoint and polls its service; `call` sends the request there; the
//! response future completes the pick's guard with success or failure,
//! so load-aware pickers and outlier ejection see every response.
//! Switching from tower's `p2c::Balance` is one line:
//!
//! ```
//! # use std::convert::Infallible;
//! # async fn demo() -> Result<(), synod_lb::tower::BoxError> {
//! use synod_lb::{Balancer, pick::peak_ewma::PeakEwma, tower::Balance};
//! use tower::{Service, ServiceExt, service_fn};
//! let backends = ["a", "b", "c"].map(|name| {
//!     (name, 1.0, service_fn(move |req: u32| async move { Ok::<_, Infallible>((name, req)) }))
//! });
//! let mut lb = Balance::new(Balancer::builder(PeakEwma::default()).build()?, backends)?;
//! let (_backend, echoed) = lb.ready().await?.call(7).await?;
//! assert_eq!(echoed, 7);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```

//! The endpoint set is fixed at construction (changed with
//! [`Balance::insert`] and [`Balance::remove`]) or follows a
//! [`Discover`] stream ([`Balance::from_discover`]), as tower's own
//! balancers do. Which responses count as failures is the classifier's
//! call ([`Balance::with_classifier`]): by default an `Err` is a failure
//! and an `Ok` a success, but an HTTP client's `Ok(response)` with a 5xx
//! status should blame the endpoint too:
//!
//! ```
//! # use std::convert::Infallible;
//! # async fn demo() -> Result<(), synod_lb::tower::BoxError> {
//! use synod_lb::{Balancer, Outcome, RoundRobin, tower::Balance};
//! use tower::{Service, ServiceExt, service_fn};
//! // Each backend answers with an HTTP-like status code.
//! let backends = [("ok", 200u16), ("broken", 503)].map(|(name, status)| {
//!     (name, 1.0, service_fn(move |_req: ()| async move { Ok::<_, Infallible>(status) }))
//! });
//! let mut lb = Balance::new(Balancer::builder(RoundRobin::new()).build()?, backends)?
//!     .with_classifier(|result: &Result<u16, Infallible>| match result {
//!         Ok(status) if *status < 500 => Outcome::Success,
//!         _ => Outcome::Failure,
//!     });
//! for _ in 0..20 {
//!     lb.ready().await?.call(()).await?;
//! }
//! // Five 503s in a row ejected the broken backend (outlier ejection).
//! assert!(lb.balancer().endpoint(&"broken").unwrap().is_ejected());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
pub use tower::discover::{Change, Discover};
use tower_service::Service;

use crate::balancer::{Balancer, Request};
use crate::error::Error;
use crate::guard::{Guard, Outcome};
use crate::pick::Pick;

/// The error type of [`Balance`]: the endpoint service's error, boxed, or
/// a balancer [`Error`], or the [`Discover`] stream's error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Decides what a response says about the endpoint that gave it: the
/// outcome its guard records (for outlier ejection and latency-aware
/// pickers). Any `Fn(&Result<T, E>) -> Outcome` is one.
pub trait Classify<T, E> {
    /// The outcome of one response.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// The default classifier: `Ok` is a success, `Err` a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByResult;

impl<T, E> Classify<T, E> for ByResult {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// The [`Discover`] of a [`Balance`] with a fixed endpoint set: it has
/// ended before it starts, so it never changes anything.
pub struct Fixed<K, S>(PhantomData<fn() -> (K, S)>);

impl<K, S> fmt::Debug for Fixed<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fixed")
    }
}

impl<K, S> futures_core::Stream for Fixed<K, S> {
    type Item = Result<Change<K, S>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

/// A `tower::Service` that balances requests over endpoint services with
/// a [`Balancer`]. `D` is where the endpoints come from ([`Fixed`] or a
/// [`Discover`] stream) and `C` which responses count as failures
/// ([`ByResult`] or a [`Classify`]).
pub struct Balance<K, P, S, D = Fixed<K, S>, C = ByResult> {
    balancer: Balancer<K, P>,
    services: BTreeMap<K, S>,
    /// An endpoint whose service said it is ready, for the next `call`.
    ready: Option<Guard<K>>,
    discover: D,
    /// The discover stream ended: the set changes only by hand now.
    discover_ended: bool,
    classify: C,
}

impl<K: fmt::Debug, P: fmt::Debug, S, D, C> fmt::Debug for Balance<K, P, S, D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance")
            .field("balancer", &self.balancer)
            .field("ready", &self.ready)
            .field("discover_ended", &self.discover_ended)
            .finish_non_exhaustive()
    }
}

impl<K, P, S> Balance<K, P, S>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
{
    /// A balancer over a fixed set of `(key, weight, service)` triples.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] or the picker's error.
    pub fn new(
        mut balancer: Balancer<K, P>,
        endpoints: impl IntoIterator<Item = (K, f64, S)>,
    ) -> Result<Self, Error> {
        let mut services = BTreeMap::new();
        let mut weights = Vec::new();
        for (key, weight, service) in endpoints {
            weights.push((key.clone(), weight));
            services.insert(key, service);
        }
        balancer.update(weights)?;
        Ok(Self {
            balancer,
            services,
            ready: None,
            discover: Fixed(PhantomData),
            discover_ended: true,
            classify: ByResult,
        })
    }
}

impl<K, P, D> Balance<K, P, D::Service, D>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
    D: Discover<Key = K> + Unpin,
{
    /// A balancer whose endpoints come from `discover`, as tower's
    /// `p2c::Balance::new(discover)`: every `Change::Insert` adds (or
    /// replaces) an endpoint's service, with weight 1 for a new key and
    /// the weight it had for a known one; `Change::Remove` removes it.
    /// The stream is polled in `poll_ready`; while it has not ended, an
    /// empty set makes `poll_ready` wait rather than fail. Endpoints the
    /// balancer already holds stay (pass an empty one to start empty).
    ///
    /// # Errors
    /// None today; the `Result` leaves room for the picker to refuse.
    pub fn from_discover(balancer: Balancer<K, P>, discover: D) -> Result<Self, Error> {
        Ok(Self {
            balancer,
            services: BTreeMap::new(),
            ready: None,
            discover,
            discover_ended: false,
            classify: ByResult,
        })
    }
}

impl<K, P, S, D, C> Balance<K, P, S, D, C>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
{
    /// The same balancer with `classify` deciding which responses are
    /// failures (say, an HTTP 5xx inside an `Ok`).
    pub fn with_classifier<C2>(self, classify: C2) -> Balance<K, P, S, D, C2> {
        Balance {
            balancer: self.balancer,
            services: self.services,
            ready: self.ready,
            discover: self.discover,
            discover_ended: self.discover_ended,
            classify,
        }
    }

    /// Adds (or replaces) an endpoint's service.
    ///
    /// # Errors
    /// As [`Balancer::insert`].
    pub fn insert(&mut self, key: K, weight: f64, service: S) -> Result<(), Error> {
        self.balancer.insert(key.clone(), weight)?;
        // A replaced service has not said it is ready.
        self.release_ready_if(&key);
        self.services.insert(key, service);
        Ok(())
    }

    /// Removes an endpoint; its requests in flight complete harmlessly.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`].
    pub fn remove(&mut self, key: &K) -> Result<S, Error> {
        self.balancer.remove(key)?;
        self.release_ready_if(key);
        self.services.remove(key).ok_or(Error::UnknownEndpoint)
    }

    /// The balancer (for its endpoints' statistics and `maintain`).
    pub fn balancer(&self) -> &Balancer<K, P> {
        &self.balancer
    }

    /// Whether the discover stream has ended (always, for a fixed set).
    pub fn discover_ended(&self) -> bool {
        self.discover_ended
    }

    fn release_ready_if(&mut self, key: &K) {
        if self.ready.as_ref().is_some_and(|g| g.key() == key)
            && let Some(g) = self.ready.take()
        {
            g.release();
        }
    }
}

impl<K, P, S, D, C> Balance<K, P, S, D, C>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
    D: Discover<Key = K, Service = S> + Unpin,
    D::Error: Into<BoxError>,
{
    /// Applies every change the discover stream has ready.
    fn poll_discover(&mut self, cx: &mut Context<'_>) -> Result<(), BoxError> {
        while !self.discover_ended {
            match Pin::new(&mut self.discover).poll_discover(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => self.discover_ended = true,
                Poll::Ready(Some(Err(e))) => return Err(e.into()),
                Poll::Ready(Some(Ok(Change::Insert(key, service)))) => {
                    let weight = self.balancer.endpoint(&key).map_or(1.0, |e| e.weight());
                    self.insert(key, weight, service)?;
                }
                Poll::Ready(Some(Ok(Change::Remove(key)))) => {
                    // Removing an endpoint never seen is no error: the
                    // stream may report a removal twice.
                    if self.balancer.endpoint(&key).is_some() {
                        self.remove(&key)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<K, P, S, D, C, Req> Service<Req> for Balance<K, P, S, D, C>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
    S: Service<Req>,
    S::Error: Into<BoxError>,
    D: Discover<Key = K, Service = S> + Unpin,
    D::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, K, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.poll_discover(cx)?;
        if self.ready.is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.services.is_empty() && !self.discover_ended {
            // The stream returned Pending, so it wakes us on a change.
            return Poll::Pending;
        }
        // Try as many picks as there are endpoints; a service that is not
        // ready has registered the waker, so Pending is a real wait.
        for _ in 0..self.services.len().max(1) {
            let guard = self.balancer.pick(&Request::new())?;
            let Some(service) = self.services.get_mut(guard.key()) else {
                guard.release();
                continue;
            };
            match service.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    self.ready = Some(guard);
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) => {
                    // A broken service leaves the set, as in tower.
                    let key = guard.key().clone();
                    guard.failure();
                    let _ = self.balancer.remove(&key);
                    self.services.remove(&key);
                    if self.services.is_empty() {
                        if self.discover_ended {
                            return Poll::Ready(Err(e.into()));
                        }
                        return Poll::Pending;
                    }
                }
                Poll::Pending => guard.release(),
            }
        }
        Poll::Pending
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let Some(guard) = self.ready.take() else {
            return ResponseFuture::failed(NotReady.into());
        };
        match self.services.get_mut(guard.key()) {
            Some(service) => ResponseFuture {
                inner: Some(service.call(request)),
                guard: Some(guard),
                classify: Some(self.classify.clone()),
                error: None,
            },
            None => ResponseFuture::failed(Error::UnknownEndpoint.into()),
        }
    }
}

/// `call` without a successful `poll_ready` first.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("Balance::call without poll_ready returning Ready first")]
pub struct NotReady;

pin_project! {
    /// The response of one endpoint; completing it records the outcome
    /// the classifier gives it.
    pub struct ResponseFuture<F, K, C = ByResult> {
        #[pin]
        inner: Option<F>,
        guard: Option<Guard<K>>,
        classify: Option<C>,
        error: Option<BoxError>,
    }
}

impl<F, K, C> fmt::Debug for ResponseFuture<F, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, K, C> ResponseFuture<F, K, C> {
    fn failed(error: BoxError) -> Self {
        Self {
            inner: None,
            guard: None,
            classify: None,
            error: Some(error),
        }
    }
}

impl<F, K, C, T, E> Future for ResponseFuture<F, K, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            let error = this.error.take().unwrap_or_else(|| NotReady.into());
            return Poll::Ready(Err(error));
        };
        let result = std::task::ready!(inner.poll(cx));
        if let (Some(guard), Some(classify)) = (this.guard.take(), this.classify.take()) {
            guard.complete(classify.classify(&result));
        }
        Poll::Ready(result.map_err(Into::into))
    }
}
