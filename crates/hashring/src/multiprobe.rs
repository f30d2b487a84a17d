//! Multi-probe consistent hashing (Appleton & O'Reilly 2015).
//!
//! Each node has a single point on the circle; a key is hashed `k` times
//! (the probes) and goes to the node whose point follows a probe most
//! closely. More probes trade lookup time for balance: with `k = 21` the
//! peak-to-mean load is about 1.05 with one point per node.
//!
//! * **Lookup**: `k` searches of the sorted points: O(k), slower than the
//!   ring by about that factor.
//! * **Memory**: one point per node (about 20 bytes per node) instead of the
//!   ring's hundreds.
//! * **Balance**: about 1.05 peak-to-mean at `k = 21`.
//! * **Disruption**: minimal. Adding a node moves only keys to it, removing
//!   one moves only its keys. Any node can be removed.
//! * **Weights**: no ([`Error::WeightsUnsupported`]).
//! * **Replicas**: nodes in order of their closest distance to any probe,
//!   found by merging the `k` probes' clockwise walks.

use std::ops::ControlFlow;

use crate::locator::SeenSet;
use crate::node::{NodeId, NodeTable, check_unit_weight};
use crate::points::{Point, SortedPoints};
use crate::{Error, Locator, hash::derive};

/// Default probe count: the paper's choice for ~1.05 peak-to-mean.
pub const DEFAULT_PROBES: u32 = 21;
/// The largest probe count accepted.
pub const MAX_PROBES: u32 = 1024;

/// Parameters of a [`MultiProbe`] placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MultiProbeConfig {
    /// Probes per lookup, `1..=MAX_PROBES`. Default [`DEFAULT_PROBES`].
    pub probes: u32,
}

impl Default for MultiProbeConfig {
    fn default() -> Self {
        Self {
            probes: DEFAULT_PROBES,
        }
    }
}

impl MultiProbeConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidProbeCount`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.probes == 0 || self.probes > MAX_PROBES {
            return Err(Error::InvalidProbeCount {
                probes: self.probes,
                max: MAX_PROBES,
            });
        }
        Ok(())
    }
}

/// A multi-probe consistent-hash placement. See the [module docs](self).
///
/// ```
/// use synod_hashring::{Locator, MultiProbe, MultiProbeConfig};
/// let mp = MultiProbe::with_nodes(MultiProbeConfig::default(), ["a", "b", "c"]).unwrap();
/// assert!(mp.locate(b"key").is_some());
/// ```
#[derive(Debug, Clone)]
pub struct MultiProbe<N> {
    config: MultiProbeConfig,
    table: NodeTable<N>,
    /// Invariant: exactly one point per node, at its identity hash.
    points: SortedPoints,
}

impl<N: NodeId + Ord> MultiProbe<N> {
    /// An empty placement.
    ///
    /// # Errors
    /// Whatever [`MultiProbeConfig::validate`] returns.
    pub fn new(config: MultiProbeConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            table: NodeTable::new(),
            points: SortedPoints::new(),
        })
    }

    /// A placement over `nodes`.
    ///
    /// # Errors
    /// A config error or [`Error::DuplicateNode`].
    pub fn with_nodes(
        config: MultiProbeConfig,
        nodes: impl IntoIterator<Item = N>,
    ) -> Result<Self, Error> {
        config.validate()?;
        let table = NodeTable::build(nodes.into_iter().map(|n| (n, 1.0)), u32::MAX as usize)?;
        let points = table
            .hashes
            .iter()
            .enumerate()
            .map(|(slot, &hash)| Point {
                hash,
                slot: slot as u32,
            })
            .collect();
        Ok(Self {
            config,
            table,
            points: SortedPoints::from_unsorted(points),
        })
    }

    /// Adds a node; only keys that now belong to it move.
    ///
    /// # Errors
    /// [`Error::DuplicateNode`].
    pub fn push(&mut self, node: N) -> Result<(), Error> {
        let slot = self.table.slot_for_insert(&node, u32::MAX as usize)?;
        let point = Point {
            hash: node.id_hash(),
            slot: slot as u32,
        };
        self.points.insert_slot(slot as u32, vec![point]);
        self.table.insert_at(slot, node, 1.0);
        Ok(())
    }

    /// Adds a node with a weight, for code generic over algorithms.
    ///
    /// # Errors
    /// [`Error::WeightsUnsupported`] unless `weight == 1.0`, or as
    /// [`MultiProbe::push`].
    pub fn insert(&mut self, node: N, weight: f64) -> Result<(), Error> {
        check_unit_weight(weight)?;
        self.push(node)
    }

    /// Removes a node; only its keys move.
    ///
    /// # Errors
    /// [`Error::UnknownNode`].
    pub fn remove(&mut self, node: &N) -> Result<(), Error> {
        let slot = self.table.find(node).map_err(|_| Error::UnknownNode)?;
        self.points.remove_slot(slot as u32);
        self.table.remove_at(slot);
        Ok(())
    }

    /// Whether `node` is in the set.
    #[must_use]
    pub fn contains(&self, node: &N) -> bool {
        self.table.find(node).is_ok()
    }

    /// The placement's parameters.
    #[must_use]
    pub fn config(&self) -> MultiProbeConfig {
        self.config
    }
}

impl<N> MultiProbe<N> {
    /// Probe `j` of a key: the key hash's SplitMix64 sequence.
    #[inline]
    fn probe(key_hash: u64, j: u32) -> u64 {
        derive(key_hash, u64::from(j))
    }
}

impl<N> Locator<N> for MultiProbe<N> {
    fn nodes(&self) -> &[N] {
        &self.table.nodes
    }

    fn weights(&self) -> &[f64] {
        &self.table.weights
    }

    /// The closest successor over all probes; on equal distance the earlier
    /// probe wins.
    #[inline]
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        let (mut best_slot, mut best_distance) = (None, u64::MAX);
        for j in 0..self.config.probes {
            let probe = Self::probe(key_hash, j);
            let point = self.points.get(self.points.successor(probe)?);
            let distance = point.hash.wrapping_sub(probe);
            if best_slot.is_none() || distance < best_distance {
                (best_slot, best_distance) = (Some(point.slot as usize), distance);
            }
        }
        best_slot
    }

    /// Merges the probes' clockwise walks by distance (ties: earlier probe,
    /// then circle order), skipping nodes already taken: each step costs
    /// O(k). Allocates the `k` cursors, and a bitset once more than 8 nodes
    /// have been visited.
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
        let len = self.points.len();
        if len == 0 {
            return;
        }
        // Per probe: its hash and how many points it has passed so far.
        let mut cursors: Vec<(u64, usize, usize)> = (0..self.config.probes)
            .map(|j| {
                let probe = Self::probe(key_hash, j);
                let start = self.points.successor(probe).expect("non-empty");
                (probe, start, 0)
            })
            .collect();
        let mut seen = SeenSet::new(self.table.len());
        let mut visited = 0;
        loop {
            let mut best: Option<(u64, usize)> = None;
            for (j, &(probe, start, passed)) in cursors.iter().enumerate() {
                if passed == len {
                    continue;
                }
                let distance = self
                    .points
                    .get((start + passed) % len)
                    .hash
                    .wrapping_sub(probe);
                // Within one lap clockwise, distances only grow.
                if best.is_none_or(|(d, _)| distance < d) {
                    best = Some((distance, j));
                }
            }
            let Some((_, j)) = best else { return };
            let (_, start, passed) = cursors[j];
            cursors[j].2 += 1;
            let slot = self.points.get((start + passed) % len).slot as usize;
            if seen.insert(slot) {
                visited += 1;
                if visit(slot).is_break() || visited == self.table.len() {
                    return;
                }
            }
        }
    }
}
