//! Bad input gets a typed error or a harmless result, never a panic.

use std::time::Duration;

use synod_lb::pick::least_request::{LeastRequest, LeastRequestConfig};
use synod_lb::*;

fn plain() -> Balancer<u32, RoundRobin> {
    Balancer::builder(RoundRobin::new()).build().unwrap()
}

#[test]
fn an_empty_set_is_no_endpoints() {
    let lb = plain();
    assert_eq!(lb.pick(&Request::new()).unwrap_err(), Error::NoEndpoints);
    let mut lb = plain();
    lb.update([(1, 1.0)]).unwrap();
    lb.update([]).unwrap();
    assert_eq!(lb.pick(&Request::new()).unwrap_err(), Error::NoEndpoints);
}

#[test]
fn bad_weights_are_refused_and_change_nothing() {
    let mut lb = plain();
    lb.update([(1, 1.0), (2, 2.0)]).unwrap();
    for w in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(lb.insert(3, w), Err(Error::InvalidWeight { .. })));
        assert!(matches!(
            lb.update([(1, 1.0), (3, w)]),
            Err(Error::InvalidWeight { .. })
        ));
    }
    assert_eq!(lb.len(), 2);
    assert_eq!(lb.endpoint(&2).unwrap().weight(), 2.0);
}

#[test]
fn unknown_keys_are_errors() {
    let mut lb = plain();
    assert_eq!(lb.remove(&9), Err(Error::UnknownEndpoint));
}

#[test]
fn choice_counts_outside_2_to_10_are_errors() {
    for count in [0, 1, 11] {
        let config = LeastRequestConfig {
            choice_count: count,
            ..LeastRequestConfig::default()
        };
        assert_eq!(
            LeastRequest::new(config).unwrap_err(),
            Error::InvalidChoiceCount { count }
        );
    }
}

#[test]
fn percentages_outside_0_to_100_are_errors() {
    for bad in [-1.0, 100.5, f64::NAN, f64::INFINITY] {
        let configs = [
            HealthConfig {
                outlier: OutlierConfig {
                    max_ejection_percent: bad,
                    ..OutlierConfig::default()
                },
                ..HealthConfig::default()
            },
            HealthConfig {
                panic_threshold_percent: bad,
                ..HealthConfig::default()
            },
            HealthConfig {
                outlier: OutlierConfig {
                    failure_percentage: Some(FailurePercentageConfig {
                        threshold: bad,
                        ..FailurePercentageConfig::default()
                    }),
                    ..OutlierConfig::default()
                },
                ..HealthConfig::default()
            },
            HealthConfig {
                slow_start: Some(SlowStartConfig {
                    min_weight_percent: bad,
                    ..SlowStartConfig::default()
                }),
                ..HealthConfig::default()
            },
        ];
        for health in configs {
            let err = Balancer::builder(RoundRobin::new())
                .health(health)
                .build::<u32>()
                .unwrap_err();
            assert!(matches!(err, Error::InvalidPercentage { .. }), "{err}");
        }
    }
}

#[test]
fn other_bad_settings_are_errors() {
    let configs = [
        OutlierConfig {
            consecutive_failures: Some(0),
            ..OutlierConfig::default()
        },
        OutlierConfig {
            interval: Duration::ZERO,
            ..OutlierConfig::default()
        },
        OutlierConfig {
            success_rate: Some(SuccessRateConfig {
                stdev_factor: f64::NAN,
                ..SuccessRateConfig::default()
            }),
            ..OutlierConfig::default()
        },
    ];
    for outlier in configs {
        let health = HealthConfig {
            outlier,
            ..HealthConfig::default()
        };
        assert!(matches!(
            health.validate(),
            Err(Error::InvalidConfig { .. })
        ));
    }
    let slow = SlowStartConfig {
        aggression: 0.0,
        ..SlowStartConfig::default()
    };
    let health = HealthConfig {
        slow_start: Some(slow),
        ..HealthConfig::default()
    };
    assert!(matches!(
        health.validate(),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn guards_complete_once_and_dropping_is_harmless() {
    let mut lb = plain();
    lb.update([(1, 1.0)]).unwrap();
    let g = lb.pick(&Request::new()).unwrap();
    drop(g); // cancelled: no success, no failure
    let e = lb.endpoint(&1).unwrap();
    assert_eq!((e.in_flight(), e.successes(), e.failures()), (0, 0, 0));
    // Completing consumes the guard: a second completion does not compile,
    // and a completion after the balancer is gone is still fine.
    let g = lb.pick(&Request::new()).unwrap();
    drop(lb);
    g.success();
}

#[test]
fn a_duplicate_key_takes_its_last_weight() {
    let mut lb = plain();
    lb.update([(1, 1.0), (1, 4.0)]).unwrap();
    assert_eq!(lb.len(), 1);
    assert_eq!(lb.endpoint(&1).unwrap().weight(), 4.0);
}
