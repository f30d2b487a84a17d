//! The balancer's contract: updates keep statistics, removed endpoints'
//! guards complete harmlessly, retries avoid tried endpoints, a seed
//! replays, picks run from many threads, and load-aware pickers prefer
//! the less loaded.

use std::sync::Arc;
use std::time::Duration;

use synod_lb::pick::least_request::LeastRequest;
use synod_lb::*;

fn seeded<P: Pick<&'static str>>(picker: P, seed: u64) -> Balancer<&'static str, P> {
    with_clock(picker, seed).0
}

fn with_clock<P: Pick<&'static str>>(
    picker: P,
    seed: u64,
) -> (Balancer<&'static str, P>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(seed)
        .build()
        .unwrap();
    (lb, clock)
}

#[test]
fn updates_keep_statistics() {
    let mut lb = seeded(RoundRobin::new(), 1);
    lb.update([("a", 1.0), ("b", 1.0)]).unwrap();
    let id_a = lb.endpoint(&"a").unwrap().id();
    for _ in 0..10 {
        lb.pick(&Request::new()).unwrap().success();
    }
    let held = lb.pick(&Request::new()).unwrap();
    let before = lb.endpoint(&"a").unwrap().successes();
    assert!(before > 0);
    lb.insert("a", 3.0).unwrap(); // re-weight
    lb.update([("a", 2.0), ("b", 1.0), ("c", 1.0)]).unwrap(); // add one
    let a = lb.endpoint(&"a").unwrap();
    assert_eq!(a.id(), id_a);
    assert_eq!(a.successes(), before);
    assert_eq!(a.weight(), 2.0);
    assert_eq!(
        lb.endpoints().iter().map(Endpoint::in_flight).sum::<u64>(),
        1
    );
    held.success();
    assert_eq!(
        lb.endpoints().iter().map(Endpoint::in_flight).sum::<u64>(),
        0
    );
}

#[test]
fn a_removed_endpoints_guards_complete_harmlessly() {
    let mut lb = seeded(RoundRobin::new(), 2);
    lb.update([("a", 1.0)]).unwrap();
    let guards: Vec<_> = (0..6).map(|_| lb.pick(&Request::new()).unwrap()).collect();
    lb.remove(&"a").unwrap();
    assert_eq!(lb.pick(&Request::new()).unwrap_err(), Error::NoEndpoints);
    lb.insert("a", 1.0).unwrap(); // the same key again: a new endpoint
    let mut guards = guards.into_iter();
    guards.next().unwrap().success();
    for _ in 0..5 {
        guards.next().unwrap().failure(); // would eject the old "a"
    }
    let a = lb.endpoint(&"a").unwrap();
    assert_eq!((a.successes(), a.failures(), a.in_flight()), (0, 0, 0));
    assert!(!a.is_ejected());
    assert!(!lb.in_panic());
}

#[test]
fn retries_avoid_endpoints_already_tried() {
    let mut lb = seeded(LeastRequest::default(), 3);
    lb.update([("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
    let mut tried = Vec::new();
    for _ in 0..3 {
        let g = lb.pick(&Request::new().excluding(&tried)).unwrap();
        assert!(!tried.contains(&g.id()));
        tried.push(g.id());
        g.failure();
    }
    // Everything tried: better a repeat than nothing.
    assert!(lb.pick(&Request::new().excluding(&tried)).is_ok());
}

#[test]
fn a_seed_replays_the_same_picks() {
    let run = |seed| {
        let mut lb = seeded(WeightedP2c::new(), seed);
        lb.update((0..50).map(|k| (["x", "y", "z"][k % 3], 1.0 + k as f64)))
            .unwrap();
        let mut lb2 = seeded(PeakEwma::default(), seed);
        lb2.update([("p", 1.0), ("q", 1.0), ("r", 1.0)]).unwrap();
        let mut keys = Vec::new();
        let mut held = Vec::new();
        for i in 0..300 {
            let g = lb.pick(&Request::new()).unwrap();
            keys.push(*g.key());
            let h = lb2.pick(&Request::new()).unwrap();
            keys.push(*h.key());
            if i % 3 == 0 {
                held.push(g);
            }
        }
        keys
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn picks_run_from_many_threads() {
    let mut lb = Balancer::builder(LeastRequest::default())
        .seed(4)
        .build()
        .unwrap();
    lb.update((0..100u32).map(|k| (k, 1.0))).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let lb = &lb;
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..20_000u32 {
                    held.push(lb.pick(&Request::new()).unwrap());
                    if held.len() > 8 {
                        let g = held.swap_remove((i as usize + t) % held.len());
                        if i % 7 == 0 { g.failure() } else { g.success() }
                    }
                }
                held.into_iter().for_each(Guard::success);
            });
        }
    });
    let total: u64 = lb
        .endpoints()
        .iter()
        .map(|e| e.successes() + e.failures())
        .sum();
    let in_flight: u64 = lb.endpoints().iter().map(Endpoint::in_flight).sum();
    assert_eq!(in_flight, 0);
    assert_eq!(total, 4 * 20_000);
}

#[test]
fn least_request_spreads_held_requests_evenly() {
    let mut lb = seeded(LeastRequest::default(), 5);
    lb.update([("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)])
        .unwrap();
    let held: Vec<_> = (0..40).map(|_| lb.pick(&Request::new()).unwrap()).collect();
    for e in lb.endpoints() {
        assert_eq!(e.in_flight(), 10, "exact least-request on 4 endpoints");
    }
    drop(held);
}

#[test]
fn peak_ewma_avoids_the_slow_endpoint() {
    let (mut lb, clock) = with_clock(PeakEwma::default(), 6);
    lb.update([("fast", 1.0), ("slow", 1.0), ("fast2", 1.0)])
        .unwrap();
    let mut slow_picks = 0;
    for _ in 0..3_000 {
        let g = lb.pick(&Request::new()).unwrap();
        let latency = if *g.key() == "slow" {
            slow_picks += 1;
            50
        } else {
            5
        };
        clock.advance(Duration::from_millis(latency));
        g.success();
    }
    // Uniform would give 1,000. The two choices are distinct endpoints,
    // so once measured the slow one loses every comparison until its
    // estimate decays below the others' (10 s time constant: 50 ms falls
    // to 5 ms after 23 s, longer than this run's 15 s).
    assert!(slow_picks <= 3, "{slow_picks}");
    let now = clock.now_nanos();
    let decay = Duration::from_secs(10);
    let slow = lb
        .endpoint(&"slow")
        .unwrap()
        .latency_estimate_ns(now, decay)
        .unwrap();
    let fast = lb
        .endpoint(&"fast")
        .unwrap()
        .latency_estimate_ns(now, decay)
        .unwrap();
    assert!(slow > 2.0 * fast, "slow {slow} vs fast {fast}");
}

#[test]
fn failures_count_as_slow_for_peak_ewma() {
    let (mut lb, clock) = with_clock(PeakEwma::default(), 6);
    lb.update([("a", 1.0)]).unwrap();
    lb.pick(&Request::new()).unwrap().failure();
    let est = lb
        .endpoint(&"a")
        .unwrap()
        .latency_estimate_ns(clock.now_nanos(), Duration::from_secs(10))
        .unwrap();
    assert_eq!(est, 1e9, "the 1 s failure penalty");
}

#[test]
fn hash_picks_are_sticky_through_the_balancer() {
    let mut lb = seeded(HashPick::maglev(), 9);
    lb.update([("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
    let h = synod_hashring::hash_bytes(b"user:17");
    let first = *lb.pick(&Request::new().with_hash(h)).unwrap().key();
    for _ in 0..20 {
        assert_eq!(*lb.pick(&Request::new().with_hash(h)).unwrap().key(), first);
    }
    // Its owner ejected: the next on the walk, consistently.
    let others: Vec<EndpointId> = vec![lb.endpoint(&first).unwrap().id()];
    let second = *lb
        .pick(&Request::new().with_hash(h).excluding(&others))
        .unwrap()
        .key();
    assert_ne!(second, first);
}

#[test]
fn every_type_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Balancer<String, RoundRobin>>();
    check::<Balancer<String, EdfWrr>>();
    check::<Balancer<String, SmoothWrr>>();
    check::<Balancer<String, HashPick<String>>>();
    check::<Balancer<String, PeakEwma>>();
    check::<Balancer<String, LeastRequest>>();
    check::<Balancer<String, WeightedRandom>>();
    check::<Balancer<String, WeightedP2c>>();
    check::<Balancer<String, Random>>();
    check::<Guard<String>>();
}

// The picker configurations are at the crate root, and each picker gives
// back the configuration it was built with.
#[test]
fn pickers_give_back_their_configuration() {
    use std::time::Duration;
    use synod_lb::{LeastRequest, LeastRequestConfig, PeakEwma, PeakEwmaConfig};
    let ewma = PeakEwmaConfig {
        decay: Duration::from_secs(3),
        ..PeakEwmaConfig::default()
    };
    assert_eq!(PeakEwma::new(ewma).unwrap().config(), &ewma);
    let least = LeastRequestConfig {
        choice_count: 3,
        ..LeastRequestConfig::default()
    };
    let got = LeastRequest::new(least).unwrap();
    assert_eq!(got.config().choice_count, 3);
}
