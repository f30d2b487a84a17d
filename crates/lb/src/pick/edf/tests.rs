use super::*;
use crate::pick::testing::{counts, endpoints, keyed, shared};
use crate::rng::SplitMix;

#[test]
fn proportional_and_interleaved() {
    let eps = endpoints(&[5.0, 1.0, 1.0]);
    let hits = counts(&mut EdfWrr::new(), &eps, 7_000, 4);
    for (h, want) in hits.iter().zip([5_000i64, 1_000, 1_000]) {
        assert!((*h as i64 - want).abs() <= 2, "{hits:?}");
    }
    // Smooth: the weight-1 endpoints never get two turns in a row.
    let mut edf = EdfWrr::new();
    let mut rng = SplitMix(4);
    edf.rebuild(&eps, &mut rng).unwrap();
    let ctx = Context::new(&eps);
    let seq: Vec<usize> = (0..70).map(|_| edf.pick(&ctx, &mut rng).unwrap()).collect();
    for w in seq.windows(2) {
        assert!(!(w[0] != 0 && w[0] == w[1]), "{seq:?}");
    }
}

#[test]
fn a_weight_change_takes_effect_without_a_burst() {
    let mut eps = endpoints(&[1.0, 1.0]);
    let mut edf = EdfWrr::new();
    let mut rng = SplitMix(6);
    edf.rebuild(&eps, &mut rng).unwrap();
    for _ in 0..101 {
        edf.pick(&Context::new(&eps), &mut rng);
    }
    eps[1].weight = 3.0;
    edf.rebuild(&eps, &mut rng).unwrap();
    let mut hits = [0u32; 2];
    let mut run = 0;
    let mut longest_run_of_0 = 0;
    for _ in 0..400 {
        let i = edf.pick(&Context::new(&eps), &mut rng).unwrap();
        hits[i] += 1;
        run = if i == 0 { run + 1 } else { 0 };
        longest_run_of_0 = longest_run_of_0.max(run);
    }
    assert!((hits[1] as i32 - 300).abs() <= 2, "{hits:?}");
    assert_eq!(longest_run_of_0, 1, "the light endpoint got a burst");
}

#[test]
fn new_endpoints_join_in_proportion() {
    let eps = endpoints(&[1.0, 1.0]);
    let mut edf = EdfWrr::new();
    let mut rng = SplitMix(8);
    edf.rebuild(&eps, &mut rng).unwrap();
    for _ in 0..50 {
        edf.pick(&Context::new(&eps), &mut rng);
    }
    // Ids 0 and 1 stay (their deadlines carry over); id 2 is new.
    let eps = keyed(vec![(0, 1.0), (1, 1.0), (2, 2.0)], &shared(3, false));
    edf.rebuild(&eps, &mut rng).unwrap();
    let mut hits = [0u32; 3];
    for _ in 0..400 {
        hits[edf.pick(&Context::new(&eps), &mut rng).unwrap()] += 1;
    }
    assert!((hits[2] as i32 - 200).abs() <= 2, "{hits:?}");
}
