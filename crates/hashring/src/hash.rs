//! The frozen key hash and the fixed mixers derived from it.
//!
//! Placement must not change between platforms or releases, so every hash in
//! this crate is either [`hash_bytes`] (XXH3-64 with seed 0, from the
//! `xxhash-rust` crate, a published and versioned algorithm) or [`mix64`]
//! (the SplitMix64 finalizer) applied to its output. Neither reads any
//! process-wide state; `std`'s `DefaultHasher` and `RandomState` are never
//! used. Golden vectors in `tests/golden.rs` pin both.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the frozen key hash. Part of the placement format: never changes.
pub const KEY_HASH_SEED: u64 = 0;

/// The golden-ratio increment of SplitMix64, used to derive sequences.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hashes a key's bytes with the frozen key hash (XXH3-64, seed 0).
///
/// This is the hash every `locate(&[u8])` applies; call it yourself to hash
/// a key once and look it up in several structures with `locate_hash`.
///
/// ```
/// use synod_hashring::hash_bytes;
/// // XXH3-64 of the empty input with seed 0, as published by xxHash.
/// assert_eq!(hash_bytes(b""), 0x2D06_8005_38D3_94C2);
/// ```
#[inline]
#[must_use]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, KEY_HASH_SEED)
}

/// Hashes an integer key: the frozen hash of its 8 little-endian bytes.
#[inline]
#[must_use]
pub fn hash_u64(key: u64) -> u64 {
    hash_bytes(&key.to_le_bytes())
}

/// The SplitMix64 finalizer: a fixed bijection on `u64` with full avalanche.
///
/// Used to derive ring points, probes and rendezvous scores from hashes
/// that were already computed, so a lookup hashes the key's bytes once.
#[inline]
#[must_use]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`-th value of the SplitMix64 sequence seeded with `h`.
///
/// Gives a node its ring points and a key its probes.
#[inline]
#[must_use]
pub(crate) const fn derive(h: u64, i: u64) -> u64 {
    mix64(h.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// Maps a hash uniformly onto `0..n` with a multiply instead of a division
/// (Lemire's "fast range"); uses the hash's high bits.
#[inline]
#[must_use]
pub(crate) const fn fast_range(h: u64, n: u32) -> u32 {
    ((h as u128 * n as u128) >> 64) as u32
}

/// A deterministic SplitMix64 stream of keys, for tests, benches and demos.
///
/// Yields `hash_u64` of the generator's outputs, so the keys are what a real
/// key set looks like after the frozen hash. The same seed gives the same
/// keys on every platform.
///
/// ```
/// use synod_hashring::KeySample;
/// let a: Vec<u64> = KeySample::new(7).take(3).collect();
/// let b: Vec<u64> = KeySample::new(7).take(3).collect();
/// assert_eq!(a, b);
/// ```
#[derive(Debug, Clone)]
pub struct KeySample {
    state: u64,
}

impl KeySample {
    /// Starts the stream at `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl Iterator for KeySample {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.state = self.state.wrapping_add(GAMMA);
        Some(hash_u64(mix64(self.state)))
    }
}
