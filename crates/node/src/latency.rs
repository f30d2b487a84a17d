//! A small fixed-bucket histogram for sync latencies: powers of two in
//! microseconds, so it is `Copy`, allocation-free and mergeable.

use std::time::Duration;

/// Buckets: bucket `i` counts durations in `[2^i, 2^(i+1))` µs (bucket 0
/// also takes everything under 1 µs; the last takes everything above).
pub const LATENCY_BUCKETS: usize = 32;

/// Counts of durations by power-of-two bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// The counts, by bucket.
    pub buckets: [u64; LATENCY_BUCKETS],
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: [0; LATENCY_BUCKETS],
        }
    }
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        let bucket = (63 - us.leading_zeros()) as usize;
        let last = LATENCY_BUCKETS - 1;
        self.buckets[bucket.min(last)] += 1;
    }

    /// How many durations were recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// An upper bound, in microseconds, of the `q` quantile (`0.0..=1.0`):
    /// the top of the bucket holding it. `None` when empty.
    #[must_use]
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(1u64 << (i + 1).min(63));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_and_quantiles_bound_from_above() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile_us(0.5), None);
        for us in [0, 1, 3, 100, 1000, 1000, 1000, 5000] {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 8);
        assert_eq!(h.buckets[0], 2); // 0 and 1 µs
        assert_eq!(h.buckets[1], 1); // 3 µs
        assert_eq!(h.buckets[6], 1); // 100 µs
        assert_eq!(h.buckets[9], 3); // 1000 µs
        assert_eq!(h.quantile_us(0.5), Some(128)); // the 4th of 8: 100 us
        assert_eq!(h.quantile_us(0.75), Some(1024));
        assert_eq!(h.quantile_us(1.0), Some(8192));
        assert_eq!(h.quantile_us(0.0), Some(2));
        h.record(Duration::from_secs(u64::MAX));
        assert_eq!(h.buckets[LATENCY_BUCKETS - 1], 1);
    }
}
