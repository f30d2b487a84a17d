//! Arithmetic that must give the same bits on every platform.
//!
//! `f64::ln` calls the platform's libm, whose last bit differs between
//! libms; placement built on it could differ between machines. The natural
//! logarithm here uses only `+ - * /` on IEEE-754 doubles and a table of
//! constants, which Rust evaluates identically everywhere (it never fuses
//! or reorders floating-point operations).

/// `ln(k / 64)` for `k` in `45..=91`, correctly rounded (computed to 60
/// digits, then rounded once to the nearest double). Part of the placement
/// format of weighted rendezvous hashing: never edit.
const LN_TABLE: [f64; 47] = [
    -0.3522205935893521,
    -0.33024168687057687,
    -0.3087354816496133,
    -0.2876820724517809,
    -0.26706278524904525,
    -0.24686007793152578,
    -0.22705745063534608,
    -0.2076393647782445,
    -0.18859116980755003,
    -0.16989903679539747,
    -0.15154989812720093,
    -0.13353139262452263,
    -0.1158318155251217,
    -0.09844007281325252,
    -0.0813456394539524,
    -0.06453852113757118,
    -0.048009219186360606,
    -0.0317486983145803,
    -0.015748356968139168,
    0.0,
    0.015504186535965254,
    0.030771658666753687,
    0.0458095360312942,
    0.06062462181643484,
    0.07522342123758753,
    0.08961215868968714,
    0.10379679368164356,
    0.11778303565638346,
    0.13157635778871926,
    0.1451820098444979,
    0.15860503017663857,
    0.17185025692665923,
    0.184922338494012,
    0.19782574332991987,
    0.21056476910734964,
    0.22314355131420976,
    0.2355660713127669,
    0.24783616390458127,
    0.25995752443692605,
    0.27193371548364176,
    0.2837681731306446,
    0.2954642128938359,
    0.3070250352949119,
    0.3184537311185346,
    0.329753286372468,
    0.3409265869705932,
    0.3519764231571782,
];

/// `ln(x)` for finite, normal `x > 0`, to within a few ulps, bit-for-bit
/// the same on every platform.
///
/// `x = 2^e * m` with `m` folded into `[sqrt(1/2), sqrt(2))`; `c = k / 64` is
/// the table point nearest `m`, so `ln(m) = ln(c) + 2 atanh(s)` with
/// `s = (m - c) / (m + c)` and `|s| < 0.0056`: four odd terms of the series
/// reach below one ulp. `m - c` is exact (the two are within a factor of 2),
/// and `c = 1` near `x = 1`, so small results keep full relative precision.
pub(crate) fn ln(x: f64) -> f64 {
    debug_assert!(x.is_normal() && x > 0.0, "ln of {x}");
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // m * 64 is exact; k is in 45..=91.
    let k = (m * 64.0 + 0.5) as usize;
    let c = k as f64 / 64.0;
    let s = (m - c) / (m + c);
    let s2 = s * s;
    let series = 2.0 * s + 2.0 * s * s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0)));
    exponent as f64 * std::f64::consts::LN_2 + (LN_TABLE[k - 45] + series)
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

    /// The inputs rendezvous hashing uses: `u = (bits + 0.5) / 2^53` for
    /// random 53-bit `bits`, and the values nearest 1 and 0.
    #[test]
    fn ln_of_unit_scores_is_within_two_ulps_of_libm() {
        let unit = 1.0 / (1u64 << 53) as f64;
        let edges = [0u64, 1, 2, (1 << 53) - 2, (1 << 53) - 1];
        let random = crate::KeySample::new(11).take(200_000).map(|h| h >> 11);
        for bits in edges.into_iter().chain(random) {
            let u = (bits as f64 + 0.5) * unit;
            let (ours, libm) = (ln(u), u.ln());
            if libm == 0.0 {
                // The largest bits round u up to exactly 1.0.
                assert_eq!(ours, 0.0);
                continue;
            }
            let ulps = (ours - libm).abs() / (libm.abs() * f64::EPSILON);
            assert!(ulps <= 2.0, "ln({u}) = {ours}, libm {libm}: {ulps} ulps");
        }
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
