use super::*;
use crate::pick::testing::{counts, endpoints};

#[test]
fn proportional_to_weight_over_a_million_picks() {
    let weights = [1.0, 2.0, 3.0, 4.0];
    let eps = endpoints(&weights);
    let picks = 1_000_000;
    let hits = counts(&mut WeightedRandom::new(), &eps, picks, 11);
    for (i, w) in weights.iter().enumerate() {
        let p = w / 10.0;
        let expected = picks as f64 * p;
        let sd = (picks as f64 * p * (1.0 - p)).sqrt();
        let z = (hits[i] as f64 - expected) / sd;
        assert!(z.abs() < 5.0, "endpoint {i}: {} picks, z = {z:.2}", hits[i]);
    }
}
