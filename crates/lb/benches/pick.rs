//! Pick + complete, ns per request, for every synod-lb picker at 10, 100
//! and 1,000 endpoints, on one thread and with two threads sharing one
//! balancer; tower's `p2c::Balance` over `PeakEwma` no-op services
//! (`poll_ready` + `call` + the response) measured in the same run.
//!
//! `cargo bench -p synod-lb-bench --bench pick`

use std::convert::Infallible;
use std::future::Future as _;
use std::hint::black_box;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ::tower::Service;
use ::tower::balance::p2c::Balance;
use ::tower::discover::ServiceList;
use ::tower::load::{CompleteOnResponse, PeakEwmaDiscover};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures::task::noop_waker_ref;
use synod_lb::pick::least_request::LeastRequest;
use synod_lb::*;

const SIZES: [usize; 3] = [10, 100, 1_000];

fn balancer<P: Pick<u32>>(picker: P, n: usize) -> Balancer<u32, P> {
    let mut lb = Balancer::builder(picker).seed(1).build().unwrap();
    lb.update((0..n as u32).map(|k| (k, 1.0 + f64::from(k % 4))))
        .unwrap();
    lb
}

/// One request: pick, then complete as a success.
#[inline]
fn one<P: Pick<u32>>(lb: &Balancer<u32, P>, hash: u64) {
    let guard = lb.pick(&Request::new().with_hash(hash)).unwrap();
    black_box(guard.key());
    guard.success();
}

macro_rules! for_each_picker {
    ($f:ident, $($args:expr),*) => {
        $f("round_robin", || RoundRobin::new(), $($args),*);
        $f("random", || Random, $($args),*);
        $f("weighted_random", || WeightedRandom::new(), $($args),*);
        $f("smooth_wrr", || SmoothWrr::new(), $($args),*);
        $f("edf_wrr", || EdfWrr::new(), $($args),*);
        $f("least_request_p2c", || LeastRequest::default(), $($args),*);
        $f("peak_ewma_p2c", || PeakEwma::default(), $($args),*);
        $f("weighted_p2c", || WeightedP2c::new(), $($args),*);
        $f("ring_hash", || HashPick::ring(), $($args),*);
        $f("maglev_bounded", || HashPick::maglev().bounded(1.25).unwrap(), $($args),*);
    };
}

fn single<P: Pick<u32>>(name: &str, make: impl Fn() -> P, c: &mut Criterion, n: usize) {
    let lb = balancer(make(), n);
    let mut hash = 0u64;
    c.benchmark_group(format!("pick_complete/{n}"))
        .bench_function(BenchmarkId::new("synod", name), |b| {
            b.iter(|| {
                hash = hash.wrapping_add(0x9E37_79B9_7F4A_7C15);
                one(&lb, hash);
            });
        });
}

/// Two threads share one balancer, each with its own generator
/// (`pick_with`), as the docs recommend for many threads.
fn contended<P: Pick<u32>>(name: &str, make: impl Fn() -> P, c: &mut Criterion, n: usize) {
    let lb = balancer(make(), n);
    c.benchmark_group(format!("pick_complete_2_threads/{n}"))
        .bench_function(BenchmarkId::new("synod", name), |b| {
            b.iter_custom(|iters| {
                two_threads(iters, |t, iters| {
                    let mut rng = SplitMix(t);
                    for i in 0..iters {
                        let request = Request::new().with_hash((t << 40) ^ i);
                        let guard = lb.pick_with(&request, &mut rng).unwrap();
                        black_box(guard.key());
                        guard.success();
                    }
                })
            });
        });
}

/// Two threads through `pick`, sharing the balancer's own generator.
fn contended_shared_rng(c: &mut Criterion, n: usize) {
    let lb = balancer(LeastRequest::default(), n);
    c.benchmark_group(format!("pick_complete_2_threads/{n}"))
        .bench_function(
            BenchmarkId::new("synod", "least_request_p2c_shared_rng"),
            |b| {
                b.iter_custom(|iters| {
                    two_threads(iters, |t, iters| {
                        for i in 0..iters {
                            one(&lb, (t << 40) ^ i);
                        }
                    })
                });
            },
        );
}

/// Runs `work(thread, iters)` on two threads at once; the time per op is
/// the wall time over `iters` (what one caller sees).
fn two_threads(iters: u64, work: impl Fn(u64, u64) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2 {
            let work = &work;
            s.spawn(move || work(t, iters));
        }
    });
    start.elapsed()
}

type NoOp = ::tower::util::ServiceFn<fn(()) -> std::future::Ready<Result<(), Infallible>>>;
type TowerBalance = Balance<PeakEwmaDiscover<ServiceList<Vec<NoOp>>>, ()>;

fn no_op(_: ()) -> std::future::Ready<Result<(), Infallible>> {
    std::future::ready(Ok(()))
}

fn tower_balance(n: usize) -> TowerBalance {
    let services: Vec<NoOp> = (0..n)
        .map(|_| ::tower::service_fn(no_op as fn(()) -> _))
        .collect();
    let discover = PeakEwmaDiscover::new(
        ServiceList::new(services),
        Duration::from_millis(30),
        Duration::from_secs(10),
        CompleteOnResponse::default(),
    );
    let mut balance = Balance::new(discover);
    let mut cx = Context::from_waker(noop_waker_ref());
    // The first poll takes in the services.
    assert!(matches!(balance.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    balance
}

/// One request through tower: poll_ready, call, and the response.
#[inline]
fn tower_one(balance: &mut TowerBalance) {
    let mut cx = Context::from_waker(noop_waker_ref());
    let Poll::Ready(Ok(())) = balance.poll_ready(&mut cx) else {
        panic!("no-op services are always ready");
    };
    let mut fut = std::pin::pin!(balance.call(()));
    let Poll::Ready(result) = fut.as_mut().poll(&mut cx) else {
        panic!("no-op responses are immediate");
    };
    black_box(result.is_ok());
}

fn tower_single(c: &mut Criterion, n: usize) {
    let mut balance = tower_balance(n);
    c.benchmark_group(format!("pick_complete/{n}"))
        .bench_function(BenchmarkId::new("tower", "p2c_peak_ewma"), |b| {
            b.iter(|| tower_one(&mut balance));
        });
}

fn tower_contended(c: &mut Criterion, n: usize) {
    // tower's Balance needs `&mut self`: two threads share it behind a
    // mutex (tower's own answer is a Buffer task, slower still).
    let balance = Mutex::new(tower_balance(n));
    c.benchmark_group(format!("pick_complete_2_threads/{n}"))
        .bench_function(BenchmarkId::new("tower", "p2c_peak_ewma_mutex"), |b| {
            b.iter_custom(|iters| {
                two_threads(iters, |_, iters| {
                    for _ in 0..iters {
                        tower_one(&mut balance.lock().unwrap());
                    }
                })
            });
        });
}

fn benches(c: &mut Criterion) {
    for n in SIZES {
        tower_single(c, n);
        for_each_picker!(single, c, n);
    }
    for n in SIZES {
        tower_contended(c, n);
        contended_shared_rng(c, n);
        for_each_picker!(contended, c, n);
    }
}

criterion_group! {
    name = pick;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(pick);
