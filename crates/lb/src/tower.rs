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

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_service::Service;

use crate::balancer::{Balancer, Request};
use crate::error::Error;
use crate::guard::Guard;
use crate::pick::Pick;

/// The error type of [`Balance`]: the endpoint service's error, boxed, or
/// a balancer [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A `tower::Service` that balances requests over endpoint services with
/// a [`Balancer`].
pub struct Balance<K, P, S> {
    balancer: Balancer<K, P>,
    services: BTreeMap<K, S>,
    /// An endpoint whose service said it is ready, for the next `call`.
    ready: Option<Guard<K>>,
}

impl<K: fmt::Debug, P: fmt::Debug, S> fmt::Debug for Balance<K, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance")
            .field("balancer", &self.balancer)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

impl<K, P, S> Balance<K, P, S>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
{
    /// A balancer over `(key, weight, service)` triples.
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
        })
    }

    /// Adds (or replaces) an endpoint's service.
    ///
    /// # Errors
    /// As [`Balancer::insert`].
    pub fn insert(&mut self, key: K, weight: f64, service: S) -> Result<(), Error> {
        self.balancer.insert(key.clone(), weight)?;
        self.services.insert(key, service);
        Ok(())
    }

    /// Removes an endpoint; its requests in flight complete harmlessly.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`].
    pub fn remove(&mut self, key: &K) -> Result<S, Error> {
        self.balancer.remove(key)?;
        if self.ready.as_ref().is_some_and(|g| g.key() == key)
            && let Some(g) = self.ready.take()
        {
            g.release();
        }
        self.services.remove(key).ok_or(Error::UnknownEndpoint)
    }

    /// The balancer (for its endpoints' statistics and `maintain`).
    pub fn balancer(&self) -> &Balancer<K, P> {
        &self.balancer
    }
}

impl<K, P, S, Req> Service<Req> for Balance<K, P, S>
where
    K: Ord + Clone + Send + Sync,
    P: Pick<K>,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.ready.is_some() {
            return Poll::Ready(Ok(()));
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
                        return Poll::Ready(Err(e.into()));
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
    /// The response of one endpoint; completing it records the outcome.
    pub struct ResponseFuture<F, K> {
        #[pin]
        inner: Option<F>,
        guard: Option<Guard<K>>,
        error: Option<BoxError>,
    }
}

impl<F, K> fmt::Debug for ResponseFuture<F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, K> ResponseFuture<F, K> {
    fn failed(error: BoxError) -> Self {
        Self {
            inner: None,
            guard: None,
            error: Some(error),
        }
    }
}

impl<F, K, T, E> Future for ResponseFuture<F, K>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            let error = this.error.take().unwrap_or_else(|| NotReady.into());
            return Poll::Ready(Err(error));
        };
        let result = std::task::ready!(inner.poll(cx));
        if let Some(guard) = this.guard.take() {
            match &result {
                Ok(_) => guard.success(),
                Err(_) => guard.failure(),
            }
        }
        Poll::Ready(result.map_err(Into::into))
    }
}
