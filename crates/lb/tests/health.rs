//! Health through the balancer: outlier ejection (consecutive failures,
//! success rate, failure percentage), growing ejection time, the ejection
//! cap, the panic threshold and slow start. Time is a manual clock.

use std::sync::Arc;
use std::time::Duration;

use synod_lb::*;

fn lb<P: Pick<u32>>(
    picker: P,
    n: u32,
    health: HealthConfig,
) -> (Balancer<u32, P>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(1)
        .health(health)
        .build()
        .unwrap();
    lb.update((0..n).map(|k| (k, 1.0))).unwrap();
    (lb, clock)
}

fn fail(lb: &Balancer<u32, impl Pick<u32>>, key: u32, times: u32) {
    // Exclude everyone else so the pick lands on `key`.
    let others: Vec<EndpointId> = lb
        .endpoints()
        .iter()
        .filter(|e| *e.key() != key)
        .map(Endpoint::id)
        .collect();
    for _ in 0..times {
        let g = lb.pick(&Request::new().excluding(&others)).unwrap();
        assert_eq!(*g.key(), key);
        g.failure();
    }
}

fn ejected_keys(lb: &Balancer<u32, impl Pick<u32>>) -> Vec<u32> {
    lb.endpoints()
        .iter()
        .filter(|e| e.is_ejected())
        .map(|e| *e.key())
        .collect()
}

fn picks_of(lb: &Balancer<u32, impl Pick<u32>>, n: usize) -> Vec<u64> {
    let mut hits = vec![0; lb.len()];
    for _ in 0..n {
        let g = lb.pick(&Request::new()).unwrap();
        hits[*g.key() as usize] += 1;
        g.success();
    }
    hits
}

#[test]
fn consecutive_failures_eject_and_ejected_endpoints_are_never_picked() {
    let (lb, clock) = lb(RoundRobin::new(), 10, HealthConfig::default());
    fail(&lb, 3, 4);
    assert!(!lb.endpoint(&3).unwrap().is_ejected(), "4 < 5 failures");
    fail(&lb, 3, 1);
    assert!(lb.endpoint(&3).unwrap().is_ejected());
    assert_eq!(picks_of(&lb, 10_000)[3], 0);
    // Envoy's base ejection time: 30 s.
    clock.advance(Duration::from_secs(29));
    assert_eq!(picks_of(&lb, 1_000)[3], 0);
    clock.advance(Duration::from_secs(1));
    assert!(picks_of(&lb, 1_000)[3] > 0, "back after 30 s");
    assert!(!lb.endpoint(&3).unwrap().is_ejected());
}

#[test]
fn a_success_resets_the_failure_streak() {
    let (lb, _) = lb(RoundRobin::new(), 3, HealthConfig::default());
    fail(&lb, 1, 4);
    let others = [lb.endpoint(&0).unwrap().id(), lb.endpoint(&2).unwrap().id()];
    lb.pick(&Request::new().excluding(&others))
        .unwrap()
        .success();
    fail(&lb, 1, 4);
    assert!(!lb.endpoint(&1).unwrap().is_ejected());
}

#[test]
fn repeat_ejections_last_longer_and_healthy_intervals_forgive() {
    let (lb, clock) = lb(RoundRobin::new(), 10, HealthConfig::default());
    fail(&lb, 2, 5);
    clock.advance(Duration::from_secs(30));
    lb.maintain();
    assert!(!lb.endpoint(&2).unwrap().is_ejected());
    // Second ejection: 2 x 30 s.
    fail(&lb, 2, 5);
    assert_eq!(lb.endpoint(&2).unwrap().ejections(), 2);
    clock.advance(Duration::from_secs(59));
    lb.maintain();
    assert!(lb.endpoint(&2).unwrap().is_ejected());
    clock.advance(Duration::from_secs(1));
    lb.maintain();
    assert!(!lb.endpoint(&2).unwrap().is_ejected());
    // Each healthy interval takes one off the multiplier.
    for _ in 0..2 {
        clock.advance(Duration::from_secs(10));
        lb.maintain();
    }
    assert_eq!(lb.endpoint(&2).unwrap().ejections(), 0);
}

#[test]
fn ejection_time_is_capped() {
    let health = HealthConfig {
        outlier: OutlierConfig {
            max_ejection_time: Duration::from_secs(45),
            ..OutlierConfig::default()
        },
        ..HealthConfig::default()
    };
    let (lb, clock) = lb(RoundRobin::new(), 10, health);
    for _ in 0..3 {
        fail(&lb, 0, 5);
        clock.advance(Duration::from_secs(45));
        lb.maintain();
        assert!(!lb.endpoint(&0).unwrap().is_ejected());
    }
}

#[test]
fn at_most_max_ejection_percent_are_ejected_but_always_one() {
    let (lb, _) = lb(RoundRobin::new(), 20, HealthConfig::default());
    for k in 0..5 {
        fail(&lb, k, 5);
    }
    let ejected = lb.endpoints().iter().filter(|e| e.is_ejected()).count();
    assert_eq!(ejected, 2, "10 % of 20");
    let (lb, _) = lb_small();
    fail(&lb, 0, 5);
    fail(&lb, 1, 5);
    let ejected = lb.endpoints().iter().filter(|e| e.is_ejected()).count();
    assert_eq!(ejected, 1, "10 % of 4 rounds down to 0, but one may go");
}

fn lb_small() -> (Balancer<u32, RoundRobin>, Arc<ManualClock>) {
    lb(RoundRobin::new(), 4, HealthConfig::default())
}

#[test]
fn below_the_panic_threshold_every_endpoint_is_used() {
    let health = HealthConfig {
        outlier: OutlierConfig {
            max_ejection_percent: 100.0,
            ..OutlierConfig::default()
        },
        ..HealthConfig::default()
    };
    let (lb, _) = lb(Random, 10, health);
    for k in 0..5 {
        fail(&lb, k, 5);
    }
    assert!(!lb.in_panic(), "5 of 10 in service is not below 50 %");
    let hits = picks_of(&lb, 10_000);
    assert!(hits[..5].iter().all(|&h| h == 0), "{hits:?}");
    fail(&lb, 5, 5);
    assert!(lb.in_panic(), "4 of 10 in service");
    let hits = picks_of(&lb, 10_000);
    assert!(hits.iter().all(|&h| h > 700), "spread over all: {hits:?}");
}

#[test]
fn the_success_rate_detector_ejects_a_flaky_endpoint() {
    let (lb, clock) = lb(RoundRobin::new(), 20, HealthConfig::default());
    lb.maintain();
    // One interval of traffic: endpoint 7 fails 30 % of its requests but
    // never five in a row.
    let mut sevens = 0;
    for _ in 0..4_000u32 {
        let g = lb.pick(&Request::new()).unwrap();
        if *g.key() != 7 {
            g.success();
            continue;
        }
        sevens += 1;
        if sevens % 10 < 3 {
            g.failure();
        } else {
            g.success();
        }
    }
    assert!(!lb.endpoint(&7).unwrap().is_ejected());
    clock.advance(Duration::from_secs(10));
    lb.maintain();
    let ejected = ejected_keys(&lb);
    assert_eq!(ejected, vec![7]);
}

#[test]
fn the_failure_percentage_detector_uses_its_threshold() {
    let health = HealthConfig {
        outlier: OutlierConfig {
            consecutive_failures: None,
            success_rate: None,
            failure_percentage: Some(FailurePercentageConfig::default()),
            max_ejection_percent: 50.0,
            ..OutlierConfig::default()
        },
        ..HealthConfig::default()
    };
    let (lb, clock) = lb(RoundRobin::new(), 10, health);
    lb.maintain();
    for _ in 0..2_000 {
        let g = lb.pick(&Request::new()).unwrap();
        match *g.key() {
            0 => g.failure(), // 100 % failures
            1 => g.complete(Outcome::Cancelled),
            _ => g.success(),
        }
    }
    clock.advance(Duration::from_secs(10));
    lb.maintain();
    let ejected = ejected_keys(&lb);
    assert_eq!(ejected, vec![0], "cancellations are not failures");
}

#[test]
fn slow_start_ramps_a_new_endpoint() {
    let health = HealthConfig {
        slow_start: Some(SlowStartConfig {
            window: Duration::from_secs(10),
            ..SlowStartConfig::default()
        }),
        ..HealthConfig::default()
    };
    let (mut lb, clock) = lb(Random, 4, health);
    lb.insert(4, 1.0).unwrap();
    let share = |lb: &Balancer<u32, Random>| picks_of(lb, 50_000)[4] as f64 / 50_000.0;
    // Fair share is 1/5; at the start the newcomer gets ~10 % of its
    // weight (a tenth of the draws land on it and are admitted).
    let at_start = share(&lb);
    assert!(at_start < 0.04, "{at_start}");
    clock.advance(Duration::from_secs(5));
    let halfway = share(&lb);
    assert!(0.08 < halfway && halfway < 0.16, "{halfway}");
    clock.advance(Duration::from_secs(5));
    let done = share(&lb);
    assert!((done - 0.2).abs() < 0.01, "{done}");
}

#[test]
fn the_initial_set_does_not_slow_start() {
    let health = HealthConfig {
        slow_start: Some(SlowStartConfig::default()),
        ..HealthConfig::default()
    };
    let (lb, _) = lb(Random, 4, health);
    let hits = picks_of(&lb, 40_000);
    assert!(hits.iter().all(|&h| h > 9_000), "{hits:?}");
}

#[test]
fn an_endpoint_back_from_ejection_slow_starts() {
    let health = HealthConfig {
        slow_start: Some(SlowStartConfig {
            window: Duration::from_secs(10),
            ..SlowStartConfig::default()
        }),
        ..HealthConfig::default()
    };
    let (lb, clock) = lb(Random, 5, health);
    fail(&lb, 0, 5);
    clock.advance(Duration::from_secs(30));
    let share = picks_of(&lb, 50_000)[0] as f64 / 50_000.0;
    assert!(share < 0.04, "{share}");
}

#[test]
fn the_balancer_reports_the_health_settings_it_was_built_with() {
    let mut health = HealthConfig::default();
    health.outlier.consecutive_failures = Some(3);
    let (lb, _) = lb(RoundRobin::new(), 3, health.clone());
    assert_eq!(lb.health_config(), &health);
    assert_ne!(lb.health_config(), &HealthConfig::default());
}
