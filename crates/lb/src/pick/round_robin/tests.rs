use super::*;
use crate::pick::testing::{counts, endpoints};
use crate::rng::SplitMix;

#[test]
fn every_endpoint_in_turn() {
    let eps = endpoints(&[1.0, 5.0, 1.0, 1.0]);
    let mut rr = RoundRobin::new();
    let mut rng = SplitMix(3);
    rr.rebuild(&eps, &mut rng).unwrap();
    let ctx = Context::new(&eps);
    let seq: Vec<usize> = (0..8).map(|_| rr.pick(&ctx, &mut rng).unwrap()).collect();
    // Weights are ignored; the order is cyclic from some start.
    for w in seq.windows(2) {
        assert_eq!(w[1], (w[0] + 1) % 4, "{seq:?}");
    }
    assert_eq!(counts(&mut rr, &eps, 4_000, 1), vec![1_000; 4]);
}

#[test]
fn starts_differ_between_seeds() {
    let eps = endpoints(&[1.0; 16]);
    let starts: std::collections::BTreeSet<usize> = (0..20)
        .map(|seed| {
            let mut rr = RoundRobin::new();
            let mut rng = SplitMix(seed);
            rr.rebuild(&eps, &mut rng).unwrap();
            rr.pick(&Context::new(&eps), &mut rng).unwrap()
        })
        .collect();
    assert!(
        starts.len() > 5,
        "clients would move in lockstep: {starts:?}"
    );
}

#[test]
fn skips_what_is_excluded() {
    let eps = endpoints(&[1.0; 3]);
    let mut rr = RoundRobin::new();
    let mut rng = SplitMix(5);
    rr.rebuild(&eps, &mut rng).unwrap();
    let mut ctx = Context::new(&eps);
    let excluded = [eps[1].id()];
    ctx.exclude = &excluded;
    for _ in 0..30 {
        assert_ne!(rr.pick(&ctx, &mut rng), Some(1));
    }
}

#[test]
fn nothing_to_pick() {
    let rr = RoundRobin::new();
    let eps: Vec<Endpoint<u32>> = Vec::new();
    assert_eq!(rr.pick(&Context::new(&eps), &mut SplitMix(1)), None);
}
