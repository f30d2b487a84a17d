//! Rendezvous or highest-random-weight hashing (Thaler & Ravishankar 1998),
//! weighted with the logarithmic method (Schindelhauer & Schomaker 2005).
//!
//! Every node scores the key; the best score owns it. A node of weight `w`
//! scores `-w / ln(u)` where `u` in (0, 1] is a hash of (key, node), so a
//! node's share is exactly proportional to its weight.
//!
//! * **Lookup**: O(n), one key hash and one 64-bit mix per node; most
//!   logarithms are skipped with the bound `-ln(u) >= t + t²/2`, `t = 1 - u`. Fine for tens
//!   to a few thousand nodes, the slowest here beyond that.
//! * **Memory**: the node list only; nothing to build.
//! * **Balance**: as even as the key sample allows, for any weights.
//! * **Disruption**: minimal for any insert, remove or (by construction)
//!   re-weighting of one node.
//! * **Replicas**: the natural top-n by score.

use std::ops::ControlFlow;

use crate::node::{NodeId, NodeSet, NodeTable, check_weight};
use crate::{Error, Locator, hash::mix64, math::ln};

/// Scores are computed from 53 hash bits: `u = (bits + 0.5) / 2^53`, in
/// (0, 1] (the largest `bits` round to exactly 1.0, the best score).
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A weighted rendezvous (HRW) placement. See the [module docs](self).
///
/// ```
/// use synod_hashring::{Locator, Rendezvous, hash_bytes};
/// let hrw = Rendezvous::with_nodes([("a", 1.0), ("b", 1.0), ("c", 3.0)]).unwrap();
/// let top2 = hrw.replicas(hash_bytes(b"object-17"), 2).unwrap();
/// assert_eq!(Some(top2[0]), hrw.locate(b"object-17"));
/// ```
#[derive(Debug, Clone)]
pub struct Rendezvous<N> {
    table: NodeTable<N>,
    /// Invariant: `inv_weights[i] == 1.0 / table.weights[i]`.
    inv_weights: Vec<f64>,
    /// Invariant: true iff all weights are equal; then the score reduces to
    /// comparing hash bits and no logarithm is taken.
    uniform: bool,
}

/// The 53 score bits of node hash `node_hash` for `key_hash`.
#[inline]
fn score_bits(key_hash: u64, node_hash: u64) -> u64 {
    mix64(key_hash ^ node_hash) >> 11
}

/// `-ln(u) / w`, written as `-ln(u) * (1 / w)`: the smallest value wins.
/// (Equivalent to the largest `-w / ln(u)`, without a division per node.)
#[inline]
fn weighted_cost(bits: u64, inv_weight: f64) -> f64 {
    -ln((bits as f64 + 0.5) * UNIT) * inv_weight
}

impl<N: NodeId + Ord> Rendezvous<N> {
    /// An empty placement.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            table: NodeTable::new(),
            inv_weights: Vec::new(),
            uniform: true,
        }
    }

    /// A placement over `(node, weight)` pairs.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] or [`Error::DuplicateNode`].
    pub fn with_nodes(nodes: impl IntoIterator<Item = (N, f64)>) -> Result<Self, Error> {
        let mut this = Self {
            table: NodeTable::build(nodes, usize::MAX)?,
            ..Self::new()
        };
        this.refresh_weights();
        Ok(this)
    }

    /// A placement over a validated [`NodeSet`].
    ///
    /// # Errors
    /// As [`Rendezvous::with_nodes`].
    pub fn from_node_set(set: &NodeSet<N>) -> Result<Self, Error>
    where
        N: Clone,
    {
        Self::with_nodes(set.clone())
    }

    /// Adds a node; only keys that now belong to it move.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] or [`Error::DuplicateNode`].
    pub fn insert(&mut self, node: N, weight: f64) -> Result<(), Error> {
        check_weight(weight)?;
        let slot = self.table.slot_for_insert(&node, usize::MAX)?;
        self.table.insert_at(slot, node, weight);
        self.refresh_weights();
        Ok(())
    }

    /// Removes a node and returns its weight; only its keys move.
    ///
    /// # Errors
    /// [`Error::UnknownNode`].
    pub fn remove(&mut self, node: &N) -> Result<f64, Error> {
        let slot = self.table.find(node).map_err(|_| Error::UnknownNode)?;
        let (_, weight) = self.table.remove_at(slot);
        self.refresh_weights();
        Ok(weight)
    }

    /// Whether `node` is in the set.
    #[must_use]
    pub fn contains(&self, node: &N) -> bool {
        self.table.find(node).is_ok()
    }

    /// The nodes and weights, as a [`NodeSet`] to store or send.
    #[must_use]
    pub fn node_set(&self) -> NodeSet<N>
    where
        N: Clone,
    {
        self.table.to_node_set()
    }

    fn refresh_weights(&mut self) {
        self.inv_weights = self.table.weights.iter().map(|w| 1.0 / w).collect();
        self.uniform = self.table.weights.windows(2).all(|w| w[0] == w[1]);
    }
}

impl<N: NodeId + Ord> Default for Rendezvous<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N> Rendezvous<N> {
    fn best_uniform(&self, key_hash: u64) -> usize {
        let (mut best_i, mut best) = (0, 0);
        for (i, &h) in self.table.hashes.iter().enumerate() {
            let bits = score_bits(key_hash, h);
            if bits > best {
                (best_i, best) = (i, bits);
            }
        }
        best_i
    }

    fn best_weighted(&self, key_hash: u64) -> usize {
        // Pruning margin: the bound and the cost are each rounded, so only
        // skip nodes whose bound beats the best by more than rounding can.
        const MARGIN: f64 = 1.0 + 1e-9;
        let (mut best_i, mut best) = (0, f64::INFINITY);
        for (i, (&h, &inv_w)) in self.table.hashes.iter().zip(&self.inv_weights).enumerate() {
            let bits = score_bits(key_hash, h);
            // -ln(u) = t + t^2/2 + t^3/3 + ... >= t + t^2/2, with t = 1 - u.
            let t = 1.0 - (bits as f64 + 0.5) * UNIT;
            let lower_bound = t * (1.0 + 0.5 * t) * inv_w;
            if lower_bound > best * MARGIN {
                continue;
            }
            let cost = weighted_cost(bits, inv_w);
            if cost < best {
                (best_i, best) = (i, cost);
            }
        }
        best_i
    }
}

impl<N> Locator<N> for Rendezvous<N> {
    fn nodes(&self) -> &[N] {
        &self.table.nodes
    }

    fn weights(&self) -> &[f64] {
        &self.table.weights
    }

    #[inline]
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        if self.table.nodes.is_empty() {
            None
        } else if self.uniform {
            Some(self.best_uniform(key_hash))
        } else {
            Some(self.best_weighted(key_hash))
        }
    }

    /// Scores every node, sorts, then visits best first: O(n log n) time and
    /// one O(n) allocation per walk. Ties go to the lower index.
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
        let hashes = &self.table.hashes;
        let mut order: Vec<usize> = (0..hashes.len()).collect();
        if self.uniform {
            let scores: Vec<u64> = hashes.iter().map(|&h| score_bits(key_hash, h)).collect();
            order.sort_by(|&a, &b| scores[b].cmp(&scores[a]).then(a.cmp(&b)));
        } else {
            let costs: Vec<f64> = hashes
                .iter()
                .zip(&self.inv_weights)
                .map(|(&h, &inv_w)| weighted_cost(score_bits(key_hash, h), inv_w))
                .collect();
            order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)));
        }
        for i in order {
            if visit(i).is_break() {
                return;
            }
        }
    }
}
