//! Maglev hashing (Eisenbud et al., NSDI 2016): a prime-sized lookup table
//! filled by each node's pseudo-random permutation of the slots.
//!
//! * **Lookup**: O(1), one multiply and one table read; the fastest here.
//! * **Memory**: 4 bytes per table entry (256 KiB at the default 65,537)
//!   plus the node list. Building needs O(table + nodes) more, never a
//!   per-node permutation.
//! * **Balance**: each node gets its weighted share of the table to within
//!   one entry; choose a table at least 100 times the node count.
//! * **Disruption**: near-minimal, not minimal: removing a node moves its
//!   keys plus a small extra (measured by `tests/consistency.rs`: 0.59 % of
//!   the table when removing 1 of 100 nodes; in property tests the extra
//!   stays within twice the removed node's own share, typically well under
//!   one share). Any node can be removed.
//! * **Weights**: yes; a node takes a turn each round in proportion to its
//!   weight over the largest weight.
//! * **Updates**: every insert or remove rebuilds the table (about a
//!   millisecond at 65,537 entries), so batch changes with
//!   [`Maglev::with_nodes`].
//! * **Replicas**: the owner, then the following table entries' nodes,
//!   skipping nodes already taken.

use std::ops::ControlFlow;

use crate::locator::SeenSet;
use crate::node::{NodeId, NodeSet, NodeTable, check_weight};
use crate::{
    Error, Locator,
    hash::{derive, fast_range},
    math::is_prime,
};

/// The default table size, the prime the Maglev paper uses for small pools.
pub const DEFAULT_TABLE_SIZE: u32 = 65_537;
/// The largest table accepted (2^27 entries, 512 MiB).
pub const MAX_TABLE_SIZE: u32 = 1 << 27;

/// Parameters of a [`Maglev`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MaglevConfig {
    /// Entries in the lookup table: a prime, at least the node count, at
    /// most [`MAX_TABLE_SIZE`]. Default [`DEFAULT_TABLE_SIZE`].
    pub table_size: u32,
}

impl Default for MaglevConfig {
    fn default() -> Self {
        Self {
            table_size: DEFAULT_TABLE_SIZE,
        }
    }
}

impl MaglevConfig {
    /// Checks the parameters on their own (the node count is checked when
    /// nodes are added).
    ///
    /// # Errors
    /// [`Error::TableSizeNotPrime`] or [`Error::TableTooLarge`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.table_size > MAX_TABLE_SIZE {
            return Err(Error::TableTooLarge {
                size: self.table_size,
                limit: MAX_TABLE_SIZE,
            });
        }
        if !is_prime(self.table_size) {
            return Err(Error::TableSizeNotPrime {
                size: self.table_size,
            });
        }
        Ok(())
    }

    fn check_nodes(&self, nodes: usize) -> Result<(), Error> {
        if nodes > self.table_size as usize {
            return Err(Error::TableTooSmall {
                size: self.table_size,
                nodes,
            });
        }
        Ok(())
    }
}

/// A Maglev lookup table. See the [module docs](self).
///
/// ```
/// use synod_hashring::{Locator, Maglev, MaglevConfig, Error};
/// let lb = Maglev::with_nodes(MaglevConfig::default(), [("10.0.0.1", 1.0), ("10.0.0.2", 1.0)]).unwrap();
/// assert!(lb.locate(b"flow 5-tuple").is_some());
/// let bad = MaglevConfig { table_size: 65_536 };
/// assert_eq!(Maglev::<&str>::new(bad).unwrap_err(), Error::TableSizeNotPrime { size: 65_536 });
/// ```
#[derive(Debug, Clone)]
pub struct Maglev<N> {
    config: MaglevConfig,
    table: NodeTable<N>,
    /// Invariant: empty iff there are no nodes; otherwise `table_size`
    /// entries, each a node slot.
    lookup: Vec<u32>,
}

impl<N: NodeId + Ord> Maglev<N> {
    /// An empty table.
    ///
    /// # Errors
    /// Whatever [`MaglevConfig::validate`] returns.
    pub fn new(config: MaglevConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            table: NodeTable::new(),
            lookup: Vec::new(),
        })
    }

    /// A table over `(node, weight)` pairs, built once.
    ///
    /// # Errors
    /// A config error, [`Error::TableTooSmall`], [`Error::InvalidWeight`] or
    /// [`Error::DuplicateNode`].
    pub fn with_nodes(
        config: MaglevConfig,
        nodes: impl IntoIterator<Item = (N, f64)>,
    ) -> Result<Self, Error> {
        config.validate()?;
        let table = NodeTable::build(nodes, usize::MAX)?;
        config.check_nodes(table.len())?;
        let mut this = Self {
            config,
            table,
            lookup: Vec::new(),
        };
        this.populate();
        Ok(this)
    }

    /// A table over a validated [`NodeSet`].
    ///
    /// # Errors
    /// As [`Maglev::with_nodes`].
    pub fn from_node_set(config: MaglevConfig, set: &NodeSet<N>) -> Result<Self, Error>
    where
        N: Clone,
    {
        Self::with_nodes(config, set.clone())
    }

    /// Adds a node and rebuilds the table.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`], [`Error::DuplicateNode`] or
    /// [`Error::TableTooSmall`]; the table is unchanged on error.
    pub fn insert(&mut self, node: N, weight: f64) -> Result<(), Error> {
        check_weight(weight)?;
        let slot = self.table.slot_for_insert(&node, usize::MAX)?;
        self.config.check_nodes(self.table.len() + 1)?;
        self.table.insert_at(slot, node, weight);
        self.populate();
        Ok(())
    }

    /// Removes a node, rebuilds the table and returns the node's weight.
    ///
    /// # Errors
    /// [`Error::UnknownNode`].
    pub fn remove(&mut self, node: &N) -> Result<f64, Error> {
        let slot = self.table.find(node).map_err(|_| Error::UnknownNode)?;
        let (_, weight) = self.table.remove_at(slot);
        self.populate();
        Ok(weight)
    }

    /// Whether `node` is in the table.
    #[must_use]
    pub fn contains(&self, node: &N) -> bool {
        self.table.find(node).is_ok()
    }

    /// The table's parameters.
    #[must_use]
    pub fn config(&self) -> MaglevConfig {
        self.config
    }

    /// The nodes and weights, as a [`NodeSet`] to store or send.
    #[must_use]
    pub fn node_set(&self) -> NodeSet<N>
    where
        N: Clone,
    {
        self.table.to_node_set()
    }

    /// Table entries each node owns, parallel to `nodes()`: the exact share
    /// of the key space each gets.
    #[must_use]
    pub fn entries_per_node(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.table.len()];
        for &slot in &self.lookup {
            counts[slot as usize] += 1;
        }
        counts
    }

    /// Heap bytes held by the lookup table and the node table (not the
    /// nodes' own heap allocations).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.lookup.capacity() * size_of::<u32>() + self.table.heap_bytes()
    }

    /// Fills the lookup table (Maglev paper, Pseudocode 1, with weighted
    /// turns): in each round, every node whose weight credit reaches a whole
    /// turn claims the next free entry of its permutation
    /// `(offset + j * skip) mod M`.
    fn populate(&mut self) {
        const EMPTY: u32 = u32::MAX;
        let n = self.table.len();
        self.lookup.clear();
        if n == 0 {
            return;
        }
        let m = self.config.table_size;
        self.lookup.resize(m as usize, EMPTY);
        // A permutation's next candidate, advanced by `skip` modulo m.
        let mut next = Vec::with_capacity(n);
        let mut skip = Vec::with_capacity(n);
        for &h in &self.table.hashes {
            next.push((derive(h, 0) % u64::from(m)) as u32);
            skip.push((derive(h, 1) % u64::from(m - 1)) as u32 + 1);
        }
        let max_weight = self.table.weights.iter().copied().fold(0.0, f64::max);
        let ratio: Vec<f64> = self.table.weights.iter().map(|w| w / max_weight).collect();
        let mut turns_taken = vec![0u64; n];
        let mut filled = 0u32;
        let mut round = 0u64;
        // Each round the heaviest node takes a turn, so this ends within m rounds.
        while filled < m {
            round += 1;
            for slot in 0..n {
                // Turns earned by the end of this round: floor(round * ratio).
                let earned = (round as f64 * ratio[slot]) as u64;
                if earned <= turns_taken[slot] {
                    continue;
                }
                turns_taken[slot] += 1;
                let mut c = next[slot];
                while self.lookup[c as usize] != EMPTY {
                    c = step(c, skip[slot], m);
                }
                self.lookup[c as usize] = slot as u32;
                next[slot] = step(c, skip[slot], m);
                filled += 1;
                if filled == m {
                    break;
                }
            }
        }
    }
}

/// The next entry of a permutation: `(c + skip) mod m` without overflow.
#[inline]
fn step(c: u32, skip: u32, m: u32) -> u32 {
    let sum = u64::from(c) + u64::from(skip);
    (if sum >= u64::from(m) {
        sum - u64::from(m)
    } else {
        sum
    }) as u32
}

impl<N> Locator<N> for Maglev<N> {
    fn nodes(&self) -> &[N] {
        &self.table.nodes
    }

    fn weights(&self) -> &[f64] {
        &self.table.weights
    }

    #[inline]
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        if self.lookup.is_empty() {
            return None;
        }
        let entry = fast_range(key_hash, self.lookup.len() as u32) as usize;
        Some(self.lookup[entry] as usize)
    }

    /// The owner's entry, then the following entries (wrapping), skipping
    /// nodes already taken; nodes that own no entry at all (possible only
    /// with extreme weight ratios) come last in index order. Allocates
    /// nothing until more than 8 nodes have been visited.
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
        if self.lookup.is_empty() {
            return;
        }
        let (m, n) = (self.lookup.len(), self.table.len());
        let start = fast_range(key_hash, m as u32) as usize;
        let mut seen = SeenSet::new(n);
        let mut visited = 0;
        let table_order = (start..m).chain(0..start).map(|e| self.lookup[e] as usize);
        for slot in table_order.chain(0..n) {
            if !seen.insert(slot) {
                continue;
            }
            visited += 1;
            if visit(slot).is_break() || visited == n {
                return;
            }
        }
    }
}
