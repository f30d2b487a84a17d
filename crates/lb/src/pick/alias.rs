//! Walker's alias method (Vose's construction): a weighted draw in O(1)
//! with one random number.

use rand::Rng;

use super::{Context, Endpoint};

/// An alias table over weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct AliasTable {
    /// Per slot: keep the slot when the draw's fraction is below this.
    keep_below: Vec<u64>,
    /// Per slot: the other index.
    alias: Vec<u32>,
}

impl AliasTable {
    /// Builds the table; `weights` are finite and positive.
    pub(crate) fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        if n == 0 {
            return Self::default();
        }
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep_below = vec![u64::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            keep_below[s] = to_threshold(scaled[s]);
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers are 1.0 up to rounding: always kept.
        Self { keep_below, alias }
    }

    /// A table over the endpoints' weights.
    pub(crate) fn for_endpoints<K>(endpoints: &[Endpoint<K>]) -> Self {
        let weights: Vec<f64> = endpoints.iter().map(Endpoint::weight).collect();
        Self::new(&weights)
    }

    /// An eligible endpoint drawn by weight (uniformly if the table does
    /// not match the context).
    #[inline]
    pub(crate) fn sample_eligible<K, R: Rng + ?Sized>(
        &self,
        ctx: &Context<'_, K>,
        rng: &mut R,
    ) -> Option<usize> {
        if self.alias.len() != ctx.len() || ctx.is_empty() {
            return ctx.uniform_eligible(rng);
        }
        ctx.draw_eligible(rng, |rng| self.sample(rng))
    }

    /// A weighted index (the table must not be empty): one 64-bit draw,
    /// its high part picks the slot, its low part the coin.
    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let m = u128::from(rng.next_u64()) * self.alias.len() as u128;
        let (slot, coin) = ((m >> 64) as usize, m as u64);
        if coin < self.keep_below[slot] {
            slot
        } else {
            self.alias[slot] as usize
        }
    }
}

fn to_threshold(p: f64) -> u64 {
    if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix;

    #[test]
    fn frequencies_follow_weights() {
        let weights = [1.0, 2.0, 3.0, 4.0, 0.5];
        let table = AliasTable::new(&weights);
        let mut rng = SplitMix(1);
        let mut hits = [0u64; 5];
        let draws = 2_000_000;
        for _ in 0..draws {
            hits[table.sample(&mut rng)] += 1;
        }
        let total: f64 = weights.iter().sum();
        for (i, w) in weights.iter().enumerate() {
            let expected = draws as f64 * w / total;
            // 5 standard deviations of a binomial count.
            let sd = (expected * (1.0 - w / total)).sqrt();
            let diff = (hits[i] as f64 - expected).abs();
            assert!(diff < 5.0 * sd, "slot {i}: {} vs {expected:.0}", hits[i]);
        }
    }

    #[test]
    fn one_slot_always_wins() {
        let table = AliasTable::new(&[3.0]);
        let mut rng = SplitMix(9);
        assert!((0..100).all(|_| table.sample(&mut rng) == 0));
    }
}
