//! Fixtures shared by the hashring benches: the same nodes and the same
//! random keys for our structures and the peers.

use synod_hashring::KeySample;

/// Node counts every bench runs at.
pub const SIZES: [usize; 3] = [10, 100, 1_000];

/// Keys per lookup batch: a power of two that fits in L1 with room to spare.
pub const KEYS: usize = 4_096;

/// Node names `node-0` .. `node-{n-1}`, the node type for every structure.
pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node-{i}")).collect()
}

/// The same random `u64` keys for every structure.
pub fn keys() -> Vec<u64> {
    KeySample::new(0xBE7C_4A11).take(KEYS).collect()
}

/// The smallest prime at or above `n`: the table size the `maglev` crate
/// picks for `100 * nodes`, so both tables can be compared at one size.
pub fn prime_at_least(n: u32) -> u32 {
    (n..)
        .find(|&c| is_prime(c))
        .expect("a prime below u32::MAX")
}

fn is_prime(n: u32) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// `(name, 1.0)` pairs: the node set with equal weights.
pub fn unit(names: &[String]) -> Vec<(String, f64)> {
    names.iter().map(|n| (n.clone(), 1.0)).collect()
}
