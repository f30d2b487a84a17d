use super::*;
use crate::pick::testing::{counts, endpoints, set_in_flight};
use crate::rng::SplitMix;

#[test]
fn exact_on_small_sets() {
    let eps = endpoints(&[1.0; 5]);
    for (i, n) in [3, 1, 4, 0, 2].into_iter().enumerate() {
        set_in_flight(&eps[i], n);
    }
    let hits = counts(&mut LeastRequest::default(), &eps, 1_000, 3);
    assert_eq!(hits, vec![0, 0, 0, 1_000, 0]);
}

#[test]
fn ties_go_anywhere() {
    let eps = endpoints(&[1.0; 4]);
    let hits = counts(&mut LeastRequest::default(), &eps, 40_000, 3);
    assert!(hits.iter().all(|&h| h > 9_000), "{hits:?}");
}

#[test]
fn p2c_on_large_sets_prefers_the_less_loaded() {
    let eps = endpoints(&[1.0; 100]);
    for e in &eps[..50] {
        set_in_flight(e, 5);
    }
    let hits = counts(&mut LeastRequest::default(), &eps, 100_000, 8);
    let idle: u64 = hits[50..].iter().sum();
    // Lose only when both candidates are busy: 1/4.
    let share = idle as f64 / 100_000.0;
    assert!((share - 0.75).abs() < 0.01, "{share}");
}

#[test]
fn more_choices_find_the_idle_more_often() {
    let eps = endpoints(&[1.0; 100]);
    for e in &eps[..90] {
        set_in_flight(e, 5);
    }
    let config = LeastRequestConfig {
        choice_count: 10,
        ..LeastRequestConfig::default()
    };
    let hits = counts(&mut LeastRequest::new(config).unwrap(), &eps, 100_000, 8);
    let idle: u64 = hits[90..].iter().sum();
    let expected = 1.0 - 0.9f64.powi(10);
    let share = idle as f64 / 100_000.0;
    assert!((share - expected).abs() < 0.01, "{share} vs {expected}");
}

#[test]
fn weighted_score_is_weight_over_active() {
    // Envoy's form, weight / (active + 1): weight 3 holding 1 request
    // scores 3/2 and beats an idle weight-1 endpoint (1/1); holding 3 it
    // scores 3/4 and loses.
    let eps = endpoints(&[1.0, 3.0]);
    set_in_flight(&eps[1], 1);
    let hits = counts(&mut LeastRequest::default(), &eps, 1_000, 5);
    assert_eq!(hits, vec![0, 1_000]);
    set_in_flight(&eps[1], 3);
    let hits = counts(&mut LeastRequest::default(), &eps, 1_000, 5);
    assert_eq!(hits, vec![1_000, 0]);
}

#[test]
fn bias_zero_ignores_load() {
    let config = LeastRequestConfig {
        active_request_bias: 0.0,
        ..LeastRequestConfig::default()
    };
    let eps = endpoints(&[1.0, 3.0]);
    set_in_flight(&eps[1], 50);
    let mut lr = LeastRequest::new(config).unwrap();
    let hits = counts(&mut lr, &eps, 100, 5);
    assert_eq!(hits, vec![0, 100], "weight alone decides");
    let mut rng = SplitMix(1);
    assert!(lr.pick(&Context::new(&eps), &mut rng).is_some());
}

#[test]
fn bad_biases_are_errors() {
    // Choice counts outside 2..=10: tests/bad_input.rs.
    for bias in [-1.0, f64::NAN, f64::INFINITY] {
        let config = LeastRequestConfig {
            active_request_bias: bias,
            ..LeastRequestConfig::default()
        };
        assert!(LeastRequest::new(config).is_err());
    }
}
