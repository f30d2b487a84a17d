use super::*;
use crate::pick::testing::{endpoints, set_in_flight};
use crate::rng::SplitMix;

fn ms(x: u64) -> f64 {
    (x * 1_000_000) as f64
}

#[test]
fn the_faster_endpoint_wins() {
    let eps = endpoints(&[1.0, 1.0]);
    let decay = ms(10_000);
    eps[0].state.observe_latency(0, ms(50), decay);
    eps[1].state.observe_latency(0, ms(5), decay);
    let p = PeakEwma::default();
    let mut rng = SplitMix(1);
    let ctx = Context::new(&eps);
    let mut hits = [0u32; 2];
    for _ in 0..1_000 {
        hits[p.pick(&ctx, &mut rng).unwrap()] += 1;
    }
    // The two draws are distinct: the slower endpoint never wins.
    assert_eq!(hits, [0, 1_000]);
}

#[test]
fn the_two_choices_are_distinct_endpoints() {
    let eps = endpoints(&[1.0, 1.0, 1.0]);
    let decay = ms(10_000);
    for (e, rtt) in eps.iter().zip([50, 5, 20]) {
        e.state.observe_latency(0, ms(rtt), decay);
    }
    let p = PeakEwma::default();
    let mut rng = SplitMix(3);
    let ctx = Context::new(&eps);
    let mut hits = [0i32; 3];
    for _ in 0..3_000 {
        hits[p.pick(&ctx, &mut rng).unwrap()] += 1;
    }
    // Of the three pairs, the slowest wins none, the middle one only
    // {slowest, middle}: 1/3.
    assert_eq!(hits[0], 0, "{hits:?}");
    assert!((hits[2] - 1_000).abs() < 120, "{hits:?}");
}

#[test]
fn the_only_eligible_endpoint_is_compared_with_itself() {
    let eps = endpoints(&[1.0, 1.0, 1.0]);
    let tried = [eps[0].id(), eps[2].id()];
    let mut ctx = Context::new(&eps);
    ctx.exclude = &tried;
    let mut rng = SplitMix(9);
    for _ in 0..100 {
        assert_eq!(ctx.uniform_eligible_except(1, &mut rng), Some(1));
        assert_eq!(PeakEwma::default().pick(&ctx, &mut rng), Some(1));
    }
    let none = Context::new(&eps[..0]);
    assert_eq!(none.uniform_eligible_except(0, &mut rng), None);
}

#[test]
fn load_multiplies_the_cost() {
    let eps = endpoints(&[1.0, 1.0]);
    let decay = ms(10_000);
    eps[0].state.observe_latency(0, ms(10), decay);
    eps[1].state.observe_latency(0, ms(10), decay);
    set_in_flight(&eps[1], 4);
    let p = PeakEwma::default();
    assert!(p.cost(&eps[1], 0) > 4.9 * p.cost(&eps[0], 0));
}

#[test]
fn peaks_count_at_once_and_decay_slowly() {
    let eps = endpoints(&[1.0]);
    let s = &eps[0].state;
    let decay = ms(10_000);
    s.observe_latency(0, ms(10), decay);
    s.observe_latency(1, ms(100), decay);
    assert_eq!(s.ewma_at(1, decay), ms(100), "a peak replaces the estimate");
    s.observe_latency(ms(1_000) as u64, ms(10), decay);
    let after = s.ewma_at(ms(1_000) as u64, decay);
    // One second later a 10 ms sample pulls it down by 1 - e^(-0.1).
    let expected = ms(100) * (-0.1f64).exp() + ms(10) * (1.0 - (-0.1f64).exp());
    assert!((after - expected).abs() < 1.0, "{after} vs {expected}");
    // With no news it decays toward zero.
    let later = s.ewma_at(ms(11_000) as u64, decay);
    assert!(later < after * 0.4, "{later}");
}

#[test]
fn unmeasured_endpoints_cost_the_default() {
    let eps = endpoints(&[1.0]);
    let p = PeakEwma::default();
    assert_eq!(p.cost(&eps[0], 0), ms(30));
}

#[test]
fn bad_configs_are_errors() {
    for config in [
        PeakEwmaConfig {
            decay: Duration::ZERO,
            ..PeakEwmaConfig::default()
        },
        PeakEwmaConfig {
            default_rtt: Duration::ZERO,
            ..PeakEwmaConfig::default()
        },
    ] {
        assert!(matches!(
            PeakEwma::new(config),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
