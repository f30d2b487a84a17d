//! A seeded discrete-event simulation of client-side load balancing: an
//! open-loop stream of requests, one balancer, and servers that queue,
//! slow down and fail. Time is simulated; the balancer reads it through a
//! [`ManualClock`], so a run is a pure function of its seed.
//!
//! The scenario (see [`Scenario::standard`]): 20 servers of 4 workers
//! each, mean service times from 2 ms to 10 ms, exponential, weighted by
//! capacity (5 for a 2 ms server down to 1 for a 10 ms one); Poisson
//! arrivals at 5,000 requests per second; halfway through, server 0 turns
//! 10 times slower, and server 1 fails 30 % of its requests throughout
//! (failing fast, in a fifth of its service time, as a crashing handler
//! does). Static pickers keep sending server 0 its share (a twentieth for
//! round robin, an eleventh by weight), more than it can serve once
//! slowed, so its queue grows without bound; load-aware pickers should
//! route around it.

#![forbid(unsafe_code)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rand::RngExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use synod_lb::pick::least_request::{LeastRequest, LeastRequestConfig};
use synod_lb::{
    Balancer, EdfWrr, Guard, HashPick, HealthConfig, ManualClock, OutlierConfig, PeakEwma, Pick,
    Random, Request, RoundRobin, SmoothWrr, WeightedP2c, WeightedRandom,
};

/// What the simulated world looks like.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Mean service time per server, in milliseconds.
    pub service_ms: Vec<f64>,
    /// Each server's weight, as an operator would configure it: its
    /// capacity before anything goes wrong.
    pub weights: Vec<f64>,
    /// Requests a server works on at once; the rest queue.
    pub workers: usize,
    /// Poisson arrivals per second.
    pub arrivals_per_s: f64,
    /// Simulated length.
    pub duration: Duration,
    /// This server turns `slow_factor` times slower at `slow_from`.
    pub slow_server: usize,
    /// When it turns slow.
    pub slow_from: Duration,
    /// How much slower.
    pub slow_factor: f64,
    /// This server fails a share of its requests.
    pub failing_server: usize,
    /// The share it fails.
    pub failure_rate: f64,
    /// The seed.
    pub seed: u64,
}

impl Scenario {
    /// The scenario of the module docs, 60 simulated seconds.
    #[must_use]
    pub fn standard(seed: u64) -> Self {
        let service_ms: Vec<f64> = (0..20).map(|i| 2.0 * (1 + i % 5) as f64).collect();
        Self {
            weights: service_ms.iter().map(|ms| 10.0 / ms).collect(),
            service_ms,
            workers: 4,
            arrivals_per_s: 5_000.0,
            duration: Duration::from_secs(60),
            slow_server: 0,
            slow_from: Duration::from_secs(30),
            slow_factor: 10.0,
            failing_server: 1,
            failure_rate: 0.3,
            seed,
        }
    }
}

/// What one picker achieved.
#[derive(Debug, Clone)]
pub struct Report {
    /// The picker's name.
    pub name: String,
    /// Every request's latency in nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
    /// Requests that failed.
    pub errors: u64,
    /// Requests per server.
    pub load: Vec<u64>,
    /// Requests per server after the slowdown began.
    pub load_after_slowdown: Vec<u64>,
}

impl Report {
    /// The latency at quantile `q` (0..=1), in milliseconds.
    #[must_use]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.latencies_ns.len();
        if n == 0 {
            return 0.0;
        }
        let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.latencies_ns[i] as f64 / 1e6
    }

    /// Failed requests over all requests.
    #[must_use]
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.latencies_ns.len().max(1) as f64
    }

    /// A server's share of the requests sent after the slowdown began.
    #[must_use]
    pub fn share_after_slowdown(&self, server: usize) -> f64 {
        let total: u64 = self.load_after_slowdown.iter().sum();
        self.load_after_slowdown[server] as f64 / total.max(1) as f64
    }

    /// A server's share of all requests.
    #[must_use]
    pub fn share(&self, server: usize) -> f64 {
        let total: u64 = self.load.iter().sum();
        self.load[server] as f64 / total.max(1) as f64
    }
}

/// A request in a server's queue or in service.
struct InFlight {
    guard: Guard<u32>,
    arrived_ns: u64,
}

enum Event {
    Arrival,
    Done {
        server: usize,
        failed: bool,
        request: InFlight,
    },
    Maintain,
}

/// Events by (time, sequence): ties resolve in the order they were
/// scheduled, so a run is deterministic.
#[derive(Default)]
struct Agenda {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    events: Vec<Option<Event>>,
}

impl Agenda {
    fn push(&mut self, at_ns: u64, event: Event) {
        self.events.push(Some(event));
        self.heap
            .push(Reverse((at_ns, self.events.len() as u64 - 1)));
    }

    fn pop(&mut self) -> Option<(u64, Event)> {
        loop {
            let Reverse((at, id)) = self.heap.pop()?;
            if let Some(e) = self.events[id as usize].take() {
                return Some((at, e));
            }
        }
    }
}

/// An exponential sample with this mean.
fn exponential(rng: &mut StdRng, mean_ns: f64) -> u64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-(1.0 - u).ln() * mean_ns) as u64
}

/// Runs `scenario` with a balancer around `picker`.
///
/// # Panics
/// If the picker cannot serve the scenario's endpoints (a bug here).
pub fn simulate<P: Pick<u32>>(
    name: &str,
    picker: P,
    health: HealthConfig,
    scenario: &Scenario,
) -> Report {
    let clock = Arc::new(ManualClock::new());
    let mut lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(scenario.seed)
        .health(health)
        .build()
        .expect("valid health config");
    let n = scenario.service_ms.len();
    lb.update((0..n as u32).map(|k| (k, scenario.weights[k as usize])))
        .expect("valid endpoints");
    let mut rng = StdRng::seed_from_u64(scenario.seed ^ 0x5EED);
    let mut agenda = Agenda::default();
    let mut busy = vec![0usize; n];
    let mut queues: Vec<VecDeque<InFlight>> = (0..n).map(|_| VecDeque::new()).collect();
    let mut report = Report {
        name: name.to_string(),
        latencies_ns: Vec::new(),
        errors: 0,
        load: vec![0; n],
        load_after_slowdown: vec![0; n],
    };
    let end_ns = scenario.duration.as_nanos() as u64;
    let slow_ns = scenario.slow_from.as_nanos() as u64;
    agenda.push(0, Event::Arrival);
    agenda.push(0, Event::Maintain);
    while let Some((now, event)) = agenda.pop() {
        clock.set_nanos(now);
        let mut touched = None;
        match event {
            Event::Maintain => {
                lb.maintain();
                if now < end_ns {
                    agenda.push(now + 1_000_000_000, Event::Maintain);
                }
            }
            Event::Arrival => {
                if now >= end_ns {
                    continue;
                }
                let gap = exponential(&mut rng, 1e9 / scenario.arrivals_per_s);
                agenda.push(now + gap.max(1), Event::Arrival);
                let guard = lb
                    .pick(&Request::new().with_hash(rng.next_u64()))
                    .expect("endpoints");
                let s = *guard.key() as usize;
                report.load[s] += 1;
                if now >= slow_ns {
                    report.load_after_slowdown[s] += 1;
                }
                queues[s].push_back(InFlight {
                    guard,
                    arrived_ns: now,
                });
                touched = Some(s);
            }
            Event::Done {
                server,
                failed,
                request,
            } => {
                busy[server] -= 1;
                report.latencies_ns.push(now - request.arrived_ns);
                if failed {
                    report.errors += 1;
                    request.guard.failure();
                } else {
                    request.guard.success();
                }
                touched = Some(server);
            }
        }
        // The server that changed starts what work it can.
        let Some(s) = touched else { continue };
        while busy[s] < scenario.workers {
            let Some(request) = queues[s].pop_front() else {
                break;
            };
            busy[s] += 1;
            let mut mean = scenario.service_ms[s] * 1e6;
            if s == scenario.slow_server && now >= slow_ns {
                mean *= scenario.slow_factor;
            }
            let failed = s == scenario.failing_server && rng.random_bool(scenario.failure_rate);
            if failed {
                mean *= 0.2;
            }
            let took = exponential(&mut rng, mean).max(1);
            agenda.push(
                now + took,
                Event::Done {
                    server: s,
                    failed,
                    request,
                },
            );
        }
    }
    report.latencies_ns.sort_unstable();
    report
}

/// Every picker over the same scenario (the same seed, so the same
/// arrivals are offered to each).
#[must_use]
pub fn run_all(s: &Scenario) -> Vec<Report> {
    let h = HealthConfig::default;
    let lr = |n| {
        LeastRequest::new(LeastRequestConfig {
            choice_count: n,
            exact_up_to: 0,
            ..LeastRequestConfig::default()
        })
        .unwrap()
    };
    let exact = LeastRequest::new(LeastRequestConfig {
        exact_up_to: usize::MAX,
        ..LeastRequestConfig::default()
    })
    .unwrap();
    vec![
        simulate("round robin", RoundRobin::new(), h(), s),
        simulate("random", Random, h(), s),
        simulate("weighted random", WeightedRandom::new(), h(), s),
        simulate("smooth WRR", SmoothWrr::new(), h(), s),
        simulate("EDF WRR", EdfWrr::new(), h(), s),
        simulate("least request (P2C)", lr(2), h(), s),
        simulate("least request (exact)", exact, h(), s),
        simulate("weighted P2C", WeightedP2c::new(), h(), s),
        simulate("peak-EWMA P2C", PeakEwma::default(), h(), s),
        simulate(
            "Maglev + bounded 1.25",
            HashPick::maglev().bounded(1.25).unwrap(),
            h(),
            s,
        ),
        simulate(
            "round robin, no ejection",
            RoundRobin::new(),
            no_ejection(),
            s,
        ),
        simulate(
            "peak-EWMA, no ejection",
            PeakEwma::default(),
            no_ejection(),
            s,
        ),
    ]
}

fn no_ejection() -> HealthConfig {
    HealthConfig {
        outlier: OutlierConfig::disabled(),
        ..HealthConfig::default()
    }
}
