use super::*;
use crate::pick::testing::{counts, endpoints, set_in_flight};

#[test]
fn idle_endpoints_are_picked_by_weight() {
    // With nothing in flight the lower (in_flight + 1) / weight wins, so
    // heavier endpoints win more than their draw share.
    let eps = endpoints(&[1.0, 3.0]);
    let hits = counts(&mut WeightedP2c::new(), &eps, 100_000, 2);
    // Draws: a 1/4, b 3/4; the light one wins only when both draws are it.
    let light = hits[0] as f64 / 100_000.0;
    assert!((light - 1.0 / 16.0).abs() < 0.01, "{light}");
}

#[test]
fn prefers_the_less_loaded_per_weight() {
    let eps = endpoints(&[1.0, 1.0, 1.0]);
    set_in_flight(&eps[0], 10);
    set_in_flight(&eps[1], 10);
    let hits = counts(&mut WeightedP2c::new(), &eps, 30_000, 4);
    // Endpoint 2 loses only when both draws miss it: (2/3)^2.
    let share = hits[2] as f64 / 30_000.0;
    assert!((share - 5.0 / 9.0).abs() < 0.02, "{share}");
}
