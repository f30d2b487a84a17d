use super::*;
use crate::pick::testing::{counts, endpoints};
use crate::rng::SplitMix;

#[test]
fn nginx_order_for_5_1_1() {
    // nginx's documented sequence for weights {a: 5, b: 1, c: 1}.
    assert_eq!(nginx_period(&[5, 1, 1]), vec![0, 0, 1, 0, 2, 0, 0]);
}

#[test]
fn exact_proportions_over_whole_periods() {
    let eps = endpoints(&[5.0, 1.0, 1.0]);
    assert_eq!(
        counts(&mut SmoothWrr::new(), &eps, 7 * 1_000, 9),
        vec![5_000, 1_000, 1_000]
    );
    let eps = endpoints(&[3.0, 2.0, 7.0, 1.0]);
    assert_eq!(
        counts(&mut SmoothWrr::new(), &eps, 13 * 100, 9),
        vec![300, 200, 700, 100]
    );
}

#[test]
fn picks_follow_the_nginx_sequence_from_a_random_start() {
    let eps = endpoints(&[5.0, 1.0, 1.0]);
    let mut wrr = SmoothWrr::new();
    let mut rng = SplitMix(21);
    wrr.rebuild(&eps, &mut rng).unwrap();
    let ctx = Context::new(&eps);
    let seq: Vec<u32> = (0..14)
        .map(|_| wrr.pick(&ctx, &mut rng).unwrap() as u32)
        .collect();
    let period = [0, 0, 1, 0, 2, 0, 0];
    let start = (0..7)
        .find(|&s| (0..14).all(|k| seq[k] == period[(s + k) % 7]))
        .unwrap_or_else(|| panic!("not a rotation of the nginx period: {seq:?}"));
    assert!(start < 7);
}

#[test]
fn fractional_weights_keep_their_ratio() {
    assert_eq!(integer_weights(&[0.5, 1.5]), vec![1, 3]);
    assert_eq!(integer_weights(&[2.0, 4.0, 6.0]), vec![1, 2, 3]);
    let q = integer_weights(&[1.1, 1.0]);
    let ratio = q[0] as f64 / q[1] as f64;
    assert!((ratio - 1.1).abs() < 1e-3, "{q:?}");
    assert!(q.iter().sum::<u64>() <= MAX_PERIOD as u64);
}

#[test]
fn a_weight_change_keeps_the_schedule_fair() {
    // Over any window spanning a change, each endpoint's picks stay
    // within 2 of what the weights in force promised.
    let mut eps = endpoints(&[1.0, 1.0, 1.0, 1.0]);
    let mut wrr = SmoothWrr::new();
    let mut rng = SplitMix(2);
    wrr.rebuild(&eps, &mut rng).unwrap();
    let mut expected = [0.0f64; 4];
    let mut got = [0.0f64; 4];
    for step in 0..400 {
        if step == 150 {
            eps[0].weight = 5.0;
            wrr.rebuild(&eps, &mut rng).unwrap();
        }
        let total: f64 = eps.iter().map(|e| e.weight).sum();
        for (i, e) in eps.iter().enumerate() {
            expected[i] += e.weight / total;
        }
        got[wrr.pick(&Context::new(&eps), &mut rng).unwrap()] += 1.0;
        for i in 0..4 {
            assert!(
                (got[i] - expected[i]).abs() <= 2.0,
                "step {step}, endpoint {i}: {} vs {:.2}",
                got[i],
                expected[i]
            );
        }
    }
}

#[test]
fn large_sets_get_an_exact_edf_period() {
    // 5,000 endpoints of weights 1..=3: nginx's steps would be 5,000 x
    // 10,000; the EDF period is built instead, with exact counts.
    let weights: Vec<u64> = (0..5_000).map(|i| 1 + i % 3).collect();
    let p = period(&weights);
    assert_eq!(p.len() as u64, weights.iter().sum::<u64>());
    let mut hits = vec![0u64; weights.len()];
    for &i in &p {
        hits[i as usize] += 1;
    }
    assert_eq!(hits, weights);
}

#[test]
fn the_edf_period_is_smooth() {
    let p = edf_period(&[5, 1, 1]);
    assert_eq!(p, vec![0, 0, 0, 1, 2, 0, 0]);
    // The heavy endpoint never waits more than two turns.
    let p = edf_period(&[10, 3, 2, 1]);
    let gaps: Vec<usize> = p
        .iter()
        .enumerate()
        .filter(|(_, i)| **i == 0)
        .map(|(k, _)| k)
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    assert!(gaps.iter().all(|&g| g <= 3), "{p:?}");
}
