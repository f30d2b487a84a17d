//! Arithmetic that must give the same bits on every platform.
//!
//! `f64::ln` calls the platform's libm, whose last bit differs between
//! libms; placement built on it could differ between machines. The natural
//! logarithm here uses only `+ - * /` on IEEE-754 doubles, which Rust
//! evaluates identically everywhere (it never fuses or reorders them).

/// `ln(x)` for finite, normal `x > 0`, to within a few ulps, bit-for-bit
/// the same on every platform.
pub(crate) fn ln(x: f64) -> f64 {
    debug_assert!(x.is_normal() && x > 0.0, "ln of {x}");
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // Mantissa in [1, 2), then folded into (sqrt(1/2), sqrt(2)].
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), with |s| <= 0.1716,
    // so eleven odd terms reach below one ulp.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut tail = 1.0 / 23.0;
    for k in (1..=10).rev() {
        tail = tail * s2 + 1.0 / f64::from(2 * k + 1);
    }
    let ln_m = 2.0 * s + 2.0 * s * s2 * tail;
    exponent as f64 * std::f64::consts::LN_2 + ln_m
}

/// Whether `n` is prime (trial division by 6k ± 1; at most ~7,700 steps for
/// any `u32`).
pub(crate) fn is_prime(n: u32) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) || n.is_multiple_of(3) {
        return false;
    }
    let n = u64::from(n);
    let mut d = 5u64;
    while d * d <= n {
        if n % d == 0 || n % (d + 2) == 0 {
            return false;
        }
        d += 6;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_libm_closely() {
        let mut x = 1e-300_f64;
        while x < 1e300 {
            let (ours, libm) = (ln(x), x.ln());
            let tol = 4.0 * f64::EPSILON * libm.abs().max(1.0);
            assert!((ours - libm).abs() <= tol, "ln({x}) = {ours}, libm {libm}");
            x *= 1.37;
        }
        for u in [1e-16, 0.25, 0.5, 0.707, 0.9, 0.999_999, 1.0 - f64::EPSILON] {
            let (ours, libm) = (ln(u), u.ln());
            assert!(
                (ours - libm).abs() <= 4.0 * f64::EPSILON * libm.abs().max(f64::EPSILON),
                "ln({u}) = {ours}, libm {libm}"
            );
        }
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn primes_match_a_sieve() {
        let limit = 20_000usize;
        let mut sieve = vec![true; limit];
        sieve[0] = false;
        sieve[1] = false;
        for i in 2..limit {
            if sieve[i] {
                for j in (i * i..limit).step_by(i) {
                    sieve[j] = false;
                }
            }
        }
        for (n, &prime) in sieve.iter().enumerate() {
            assert_eq!(is_prime(n as u32), prime, "n = {n}");
        }
        assert!(is_prime(65_537));
        assert!(is_prime(4_294_967_291)); // largest u32 prime
        assert!(!is_prime(u32::MAX));
    }
}
