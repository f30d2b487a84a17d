//! Jump consistent hash (Lamping & Veach 2014) over numbered buckets.
//!
//! * **Lookup**: O(log n) arithmetic steps, no memory beyond the node list;
//!   the fastest to build (nothing to build) and the smallest.
//! * **Balance**: as even as the key sample allows (no virtual nodes needed).
//! * **Disruption**: minimal for growth and shrinkage *at the tail*: adding
//!   bucket `n` moves only keys to it, removing the last bucket moves only
//!   its keys. Buckets in the middle cannot be removed
//!   ([`Error::NotLastBucket`]); that is the algorithm's price, so use it
//!   where shards are numbered and grow or shrink at the end.
//! * **Weights**: no.
//! * **Replicas**: the owner, then jump hashes of re-derived keys, skipping
//!   buckets already taken; each draw is itself consistent, so replica sets
//!   also change little as buckets are added at the tail.

use std::ops::ControlFlow;

use crate::locator::SeenSet;
use crate::node::check_unit_weight;
use crate::{Error, Locator, hash::derive};

/// The jump hash of a pre-hashed key over `buckets` buckets, or `None` for
/// zero buckets.
///
/// Exactly the published algorithm (its 64-bit LCG and floating-point
/// step), so it is a frozen function of `(key, buckets)`.
///
/// ```
/// use synod_hashring::jump_hash;
/// assert_eq!(jump_hash(0, 0), None);
/// assert_eq!(jump_hash(0, 1), Some(0));
/// assert!(jump_hash(0xDEAD_BEEF, 10).unwrap() < 10);
/// ```
#[inline]
#[must_use]
pub fn jump_hash(key: u64, buckets: u32) -> Option<u32> {
    if buckets == 0 {
        return None;
    }
    let mut key = key;
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    Some(b as u32)
}

/// Jump consistent hashing over nodes numbered in the order they were
/// pushed. See the [module docs](self) for its trade-offs.
///
/// ```
/// use synod_hashring::{Jump, Locator, Error};
/// let mut shards = Jump::with_nodes(["s0", "s1", "s2"]).unwrap();
/// let before = *shards.locate(b"k").unwrap();
/// shards.push("s3").unwrap();
/// let after = *shards.locate(b"k").unwrap();
/// assert!(after == before || after == "s3");
/// assert_eq!(shards.remove(&"s1"), Err(Error::NotLastBucket));
/// assert_eq!(shards.pop(), Some("s3"));
/// ```
#[derive(Debug, Clone)]
pub struct Jump<N> {
    /// Bucket `i` is `nodes[i]`. Invariant: no duplicates, len <= u32::MAX.
    nodes: Vec<N>,
    /// All 1.0, parallel to `nodes`, for [`Locator::weights`].
    weights: Vec<f64>,
}

impl<N: PartialEq> Jump<N> {
    /// An empty bucket list.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            nodes: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Buckets `0..` in iteration order.
    ///
    /// # Errors
    /// [`Error::DuplicateNode`].
    pub fn with_nodes(nodes: impl IntoIterator<Item = N>) -> Result<Self, Error> {
        let mut this = Self::new();
        for node in nodes {
            this.push(node)?;
        }
        Ok(this)
    }

    /// Adds a node as the next bucket.
    ///
    /// Checking for a duplicate is a linear scan: jump is meant for numbered
    /// shards, where the caller's numbering already rules duplicates out.
    ///
    /// # Errors
    /// [`Error::DuplicateNode`] or [`Error::TooManyNodes`].
    pub fn push(&mut self, node: N) -> Result<(), Error> {
        if self.nodes.contains(&node) {
            return Err(Error::DuplicateNode);
        }
        if self.nodes.len() >= u32::MAX as usize {
            return Err(Error::TooManyNodes {
                nodes: self.nodes.len() + 1,
                limit: u32::MAX as usize,
            });
        }
        self.nodes.push(node);
        self.weights.push(1.0);
        Ok(())
    }

    /// Adds a node with a weight, for code generic over algorithms.
    ///
    /// # Errors
    /// [`Error::WeightsUnsupported`] unless `weight == 1.0`, or as
    /// [`Jump::push`].
    pub fn insert(&mut self, node: N, weight: f64) -> Result<(), Error> {
        check_unit_weight(weight)?;
        self.push(node)
    }

    /// Removes and returns the last bucket.
    pub fn pop(&mut self) -> Option<N> {
        self.weights.pop();
        self.nodes.pop()
    }

    /// Removes `node` if it is the last bucket.
    ///
    /// # Errors
    /// [`Error::UnknownNode`], or [`Error::NotLastBucket`] for any other.
    pub fn remove(&mut self, node: &N) -> Result<N, Error> {
        match self.nodes.iter().position(|n| n == node) {
            None => Err(Error::UnknownNode),
            Some(i) if i + 1 == self.nodes.len() => Ok(self.pop().expect("non-empty")),
            Some(_) => Err(Error::NotLastBucket),
        }
    }
}

impl<N: PartialEq> Default for Jump<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Draws before the replica walk stops re-deriving keys and takes the
/// remaining buckets in order (keeps a full walk O(n log n) worst case).
fn max_draws(n: usize) -> usize {
    8 * n + 64
}

impl<N> Locator<N> for Jump<N> {
    fn nodes(&self) -> &[N] {
        &self.nodes
    }

    fn weights(&self) -> &[f64] {
        &self.weights
    }

    #[inline]
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        jump_hash(key_hash, self.nodes.len() as u32).map(|b| b as usize)
    }

    /// Draw `r` is `jump_hash(derive(key, r - 1))` for `r >= 1`, after the
    /// owner; buckets already taken are skipped. After `8n + 64` draws the
    /// rest follow in bucket order from the owner. Allocates nothing until
    /// more than 8 nodes have been visited.
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
        let n = self.nodes.len();
        let Some(owner) = self.locate_index(key_hash) else {
            return;
        };
        let mut seen = SeenSet::new(n);
        seen.insert(owner);
        let mut visited = 1;
        if visit(owner).is_break() || visited == n {
            return;
        }
        for draw in 0..max_draws(n) as u64 {
            let b = jump_hash(derive(key_hash, draw), n as u32).expect("n > 0") as usize;
            if seen.insert(b) {
                visited += 1;
                if visit(b).is_break() || visited == n {
                    return;
                }
            }
        }
        for step in 1..n {
            let b = (owner + step) % n;
            if seen.insert(b) {
                visited += 1;
                if visit(b).is_break() || visited == n {
                    return;
                }
            }
        }
    }
}
