//! The balancer's own generator for [`Balancer::pick`](crate::Balancer::pick):
//! seeded, lock-free, shared by every thread.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::TryRng;

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's output function.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 stream whose state is one atomic counter: each pick takes
/// one step with `fetch_add` and derives a private [`SplitMix`] from it.
/// One thread replays a seed exactly; several threads share the stream in
/// whatever order they reach it.
#[derive(Debug)]
pub(crate) struct SharedRng {
    state: AtomicU64,
}

impl SharedRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// A private generator for one pick.
    pub(crate) fn fork(&self) -> SplitMix {
        let s = self.state.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed);
        SplitMix(mix64(s.wrapping_add(GOLDEN_GAMMA)))
    }
}

/// A splitmix64 generator: tiny, fast, and good enough to choose
/// endpoints (not for cryptography).
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl TryRng for SplitMix {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        Ok(mix64(self.0))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// A uniform index below `n` (n > 0) by multiply-shift: no division, and
/// a bias below n / 2^64.
#[inline]
pub(crate) fn below<R: rand::Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A uniform float in [0, 1) from 53 random bits.
#[inline]
pub(crate) fn unit<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
