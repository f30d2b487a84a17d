use super::*;
use crate::pick::testing::{counts, endpoints};

#[test]
fn uniform_whatever_the_weights() {
    let eps = endpoints(&[1.0, 9.0, 1.0, 1.0]);
    let hits = counts(&mut Random, &eps, 400_000, 7);
    for h in hits {
        // Expected 100,000; 5 sd is about 1,370.
        assert!((h as f64 - 100_000.0).abs() < 1_400.0, "{h}");
    }
}
