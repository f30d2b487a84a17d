//! Client-side load balancing for Synod: which endpoint gets this request.
//!
//! The contract: [`Balancer::pick`] is synchronous, takes `&self`, runs on
//! any number of threads at once, allocates nothing and never panics; it
//! returns a [`Guard`] whose completion (or drop) records the outcome that
//! load-aware pickers and health tracking use. Time comes from an injected
//! [`Clock`] and randomness from a seed or a generator you pass, so a test
//! with a [`ManualClock`] and a fixed seed replays exactly. No runtime, no
//! I/O, no threads.
//!
//! The key design decision: **health is a filter every picker shares, not
//! a rebuild.** Outlier ejection, slow start and retry exclusions decide
//! per candidate whether it is *eligible* (one atomic load on the fast
//! path); pickers draw candidates from their own structure (alias table,
//! schedule, hash table) and redraw the ineligible. Ejecting an endpoint
//! therefore costs nothing on the pick path and never rebuilds a table,
//! and a slow-starting endpoint's share ramps by admission probability.
//!
//! # Pickers
//!
//! | picker | chooses | pick cost |
//! |---|---|---|
//! | [`RoundRobin`] | in turn, from a random start | O(1) |
//! | [`Random`] | uniformly | O(1) |
//! | [`WeightedRandom`] | by weight (alias method) | O(1) |
//! | [`SmoothWrr`] | by weight, nginx's smooth interleaving | O(1) |
//! | [`EdfWrr`] | by weight, earliest deadline first (Envoy, gRPC) | O(log n) |
//! | [`LeastRequest`] | fewest in flight: exact for small sets, best of 2..10 random, weighted `w / (active + 1)^bias` | O(1) / O(n) below the exact limit |
//! | [`PeakEwma`] | best of 2 by latency EWMA x (in flight + 1) | O(1) |
//! | [`HashPick`] | by request hash over a ring or Maglev table, optional bounded loads, next eligible on the walk | O(1) expected |
//! | [`WeightedP2c`] | best of 2 weighted draws by in flight / weight | O(1) |
//!
//! # Health
//!
//! [`HealthConfig`]: outlier ejection after consecutive failures and by
//! the success-rate and failure-percentage detectors (Envoy's defaults),
//! ejection time growing with repeats, a cap on the share ejected, a
//! panic threshold (below 50 % in service, health is ignored) and slow
//! start. [`Request::excluding`] avoids endpoints a retry already tried.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use synod_lb::{Balancer, ManualClock, Request, pick::peak_ewma::PeakEwma};
//! let clock = Arc::new(ManualClock::new());
//! let mut lb = Balancer::builder(PeakEwma::default())
//!     .clock(clock.clone())
//!     .seed(42)
//!     .build()
//!     .unwrap();
//! lb.update([("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
//! let guard = lb.pick(&Request::new()).unwrap();
//! clock.advance(std::time::Duration::from_millis(3));
//! guard.success(); // records 3 ms for this endpoint
//! ```
//!
//! # Time in tests and simulations
//!
//! The balancer reads time only from its [`Clock`]. In a test or a
//! simulation, hand it a [`ManualClock`] (or your simulator's own clock
//! behind the trait) and move it as simulated time passes: every latency,
//! ejection and slow-start decision then follows the simulation, and a
//! fixed seed replays the same picks. A request that the simulation
//! says took 80 ms is completed after advancing the clock by 80 ms, or
//! with [`Guard::complete_with_latency`] when many requests overlap and
//! the clock belongs to something else:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use synod_lb::{Balancer, ManualClock, Outcome, PeakEwma, Request};
//! let clock = Arc::new(ManualClock::new());
//! let mut lb = Balancer::builder(PeakEwma::default()).clock(clock.clone()).seed(7).build().unwrap();
//! lb.update([("fast", 1.0), ("slow", 1.0)]).unwrap();
//! let mut to_slow = 0;
//! for _ in 0..1_000 {
//!     let guard = lb.pick(&Request::new()).unwrap();
//!     let took = if *guard.key() == "slow" { to_slow += 1; 80 } else { 2 };
//!     guard.complete_with_latency(Outcome::Success, Duration::from_millis(took));
//!     clock.advance(Duration::from_millis(1)); // simulated time between requests
//! }
//! assert!(to_slow < 100, "peak-EWMA sent {to_slow} of 1000 to the slow endpoint");
//! ```
//!
//! With the `tower` feature, `synod_lb::tower::Balance` is a `tower::Service` over
//! any picker, fed by a fixed list or a `tower::discover::Discover`
//! stream, with a classifier that decides which responses are failures
//! (an HTTP 5xx, say).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod balancer;
mod clock;
mod endpoint;
mod error;
mod guard;
mod health;
mod outlier;
pub mod pick;
mod rng;
#[cfg(feature = "tower")]
pub mod tower;

pub use balancer::{Balancer, Builder, Request};
pub use clock::{Clock, ManualClock, SystemClock};
pub use endpoint::EndpointId;
pub use error::Error;
pub use guard::{Guard, Outcome};
pub use health::{
    FailurePercentageConfig, HealthConfig, OutlierConfig, SlowStartConfig, SuccessRateConfig,
};
pub use pick::edf::EdfWrr;
pub use pick::hash::{HashPick, HashTable};
pub use pick::least_request::{LeastRequest, LeastRequestConfig};
pub use pick::peak_ewma::{PeakEwma, PeakEwmaConfig};
pub use pick::random::Random;
pub use pick::round_robin::RoundRobin;
pub use pick::smooth_wrr::SmoothWrr;
pub use pick::weighted_p2c::WeightedP2c;
pub use pick::weighted_random::WeightedRandom;
pub use pick::{Context, Endpoint, LatencyModel, Pick};
/// The `rand` (0.10) whose generators this crate's API takes: name
/// `synod_lb::rand::rngs::StdRng` to be sure the versions match.
pub use rand;
pub use rng::SplitMix;
