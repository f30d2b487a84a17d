//! Measuring a placement: how evenly it spreads keys, and how many keys move
//! between two configurations. Used by the tests, the benches and the demo.

use crate::Locator;

/// How evenly a key set spread over the nodes.
///
/// Loads are compared with each node's *fair share*, `keys * weight /
/// total weight`, so weighted nodes are judged against their weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Keys placed.
    pub keys: u64,
    /// Keys per node, parallel to the locator's `nodes()`.
    pub per_node: Vec<u64>,
    /// Smallest load over fair share (0 when a node got nothing).
    pub min_ratio: f64,
    /// Largest load over fair share: the peak-to-mean ratio. 1.0 is
    /// perfect; 1.25 means the busiest node carries 25 % over its share.
    pub peak_to_mean: f64,
}

impl Balance {
    /// The fewest keys any node got.
    #[must_use]
    pub fn min_keys(&self) -> u64 {
        self.per_node.iter().copied().min().unwrap_or(0)
    }

    /// The most keys any node got.
    #[must_use]
    pub fn max_keys(&self) -> u64 {
        self.per_node.iter().copied().max().unwrap_or(0)
    }
}

/// Places every key hash and reports the spread.
///
/// ```
/// use synod_hashring::{balance, KeySample, Maglev, MaglevConfig};
/// let m = Maglev::with_nodes(MaglevConfig::default(), (0u32..10).map(|i| (i, 1.0))).unwrap();
/// let b = balance(&m, KeySample::new(1).take(100_000));
/// assert_eq!(b.per_node.iter().sum::<u64>(), 100_000);
/// assert!(b.peak_to_mean < 1.05);
/// ```
pub fn balance<N, L>(locator: &L, key_hashes: impl IntoIterator<Item = u64>) -> Balance
where
    L: Locator<N> + ?Sized,
{
    let mut per_node = vec![0u64; locator.len()];
    let mut keys = 0u64;
    for h in key_hashes {
        if let Some(count) = locator.locate_index(h).and_then(|i| per_node.get_mut(i)) {
            *count += 1;
            keys += 1;
        }
    }
    let total_weight: f64 = locator.weights().iter().sum();
    let (mut min_ratio, mut peak_to_mean) = (f64::INFINITY, 0.0f64);
    for (&count, &weight) in per_node.iter().zip(locator.weights()) {
        let fair = keys as f64 * weight / total_weight;
        let ratio = if fair > 0.0 { count as f64 / fair } else { 0.0 };
        min_ratio = min_ratio.min(ratio);
        peak_to_mean = peak_to_mean.max(ratio);
    }
    if per_node.is_empty() {
        min_ratio = 0.0;
    }
    Balance {
        keys,
        per_node,
        min_ratio,
        peak_to_mean,
    }
}

/// How many keys changed owner between two placements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disruption {
    /// Keys compared.
    pub keys: u64,
    /// Keys whose owner differs (or that have an owner in only one).
    pub moved: u64,
}

impl Disruption {
    /// `moved / keys`, 0 for no keys.
    #[must_use]
    pub fn fraction(&self) -> f64 {
        if self.keys == 0 {
            0.0
        } else {
            self.moved as f64 / self.keys as f64
        }
    }
}

/// Compares the owner of every key in two placements.
///
/// ```
/// use synod_hashring::{disruption, KeySample, Ring, RingConfig};
/// let nodes = (0u32..10).map(|i| (i, 1.0));
/// let before = Ring::with_nodes(RingConfig::default(), nodes.clone()).unwrap();
/// let mut after = before.clone();
/// after.remove(&3).unwrap();
/// let d = disruption(&before, &after, KeySample::new(1).take(100_000));
/// assert!(d.fraction() > 0.05 && d.fraction() < 0.15); // node 3's share, ~10 %
/// ```
pub fn disruption<N, A, B>(
    before: &A,
    after: &B,
    key_hashes: impl IntoIterator<Item = u64>,
) -> Disruption
where
    N: PartialEq,
    A: Locator<N> + ?Sized,
    B: Locator<N> + ?Sized,
{
    let mut d = Disruption { keys: 0, moved: 0 };
    for h in key_hashes {
        d.keys += 1;
        if before.locate_hash(h) != after.locate_hash(h) {
            d.moved += 1;
        }
    }
    d
}
