//! Ring (Karger et al. 1997, as in Ketama): nodes own arcs of a 64-bit circle.
//!
//! Each node puts `round(weight * points_per_weight)` points (at least one)
//! on the circle; a key belongs to the first point at or after its hash.
//!
//! * **Lookup**: a binary search over one sorted array, narrowed by a
//!   top-bits index: O(1) expected, no pointer chasing.
//! * **Memory**: 16 bytes per point plus about 4 per point of index; 160
//!   points per node is ~3 KiB per node.
//! * **Balance**: peak-to-mean shrinks like `1/sqrt(points per node)`;
//!   about 1.2 at 160 points and 100 nodes.
//! * **Disruption**: minimal. Adding a node moves only keys to it, removing
//!   one moves only its keys. Any node can be removed.
//! * **Weights**: yes, points proportional to weight.
//! * **Replicas**: walk clockwise, skipping nodes already taken.
//! * **Updates**: insert and remove merge or drop one node's points in one
//!   pass over the array; other points are never rehashed or re-sorted.
//!   Two points on the same position (a hash collision) are both kept,
//!   ordered by node.

use std::ops::ControlFlow;

use crate::locator::SeenSet;
use crate::node::{NodeId, NodeSet, NodeTable, check_weight};
use crate::points::{Point, SortedPoints};
use crate::{Error, Locator, hash::derive};

/// Default points per unit of weight (Ketama uses 160 per server).
pub const DEFAULT_POINTS_PER_WEIGHT: u32 = 160;
/// Most points one node may own (1 Mi, 16 MiB of points).
pub const MAX_POINTS_PER_NODE: u32 = 1 << 20;
/// Most points the ring may hold in all (keeps positions within `u32`).
pub const MAX_TOTAL_POINTS: u64 = 1 << 31;

/// Parameters of a [`Ring`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RingConfig {
    /// Points a node of weight 1.0 puts on the circle. More points give
    /// better balance and cost memory linearly. Default 160.
    pub points_per_weight: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        Self {
            points_per_weight: DEFAULT_POINTS_PER_WEIGHT,
        }
    }
}

impl RingConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::ZeroPoints`] when `points_per_weight` is 0.
    pub fn validate(&self) -> Result<(), Error> {
        if self.points_per_weight == 0 {
            return Err(Error::ZeroPoints);
        }
        Ok(())
    }

    /// Points a node of `weight` gets; the weight must already be valid.
    fn points_for(&self, weight: f64) -> Result<u32, Error> {
        let points = (weight * f64::from(self.points_per_weight))
            .round()
            .max(1.0);
        if points > f64::from(MAX_POINTS_PER_NODE) {
            return Err(Error::TooManyPoints {
                points,
                limit: u64::from(MAX_POINTS_PER_NODE),
            });
        }
        Ok(points as u32)
    }
}

/// A consistent-hash ring with weighted virtual nodes. See the [module
/// docs](self) for its trade-offs.
///
/// ```
/// use synod_hashring::{Locator, Ring, RingConfig};
/// let mut ring = Ring::new(RingConfig::default()).unwrap();
/// ring.insert("cache-a", 1.0).unwrap();
/// ring.insert("cache-b", 2.0).unwrap(); // owns about twice as many keys
/// let owner = *ring.locate(b"session:9").unwrap();
/// ring.insert("cache-c", 1.0).unwrap();
/// // Adding a node only ever moves keys to the new node.
/// let now = *ring.locate(b"session:9").unwrap();
/// assert!(now == owner || now == "cache-c");
/// ```
#[derive(Debug, Clone)]
pub struct Ring<N> {
    config: RingConfig,
    table: NodeTable<N>,
    /// Invariant: node `slot` owns exactly `config.points_for(weights[slot])`
    /// points, at `derive(hashes[slot], 0..count)`.
    points: SortedPoints,
}

impl<N: NodeId + Ord> Ring<N> {
    /// An empty ring.
    ///
    /// # Errors
    /// Whatever [`RingConfig::validate`] returns.
    pub fn new(config: RingConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            table: NodeTable::new(),
            points: SortedPoints::new(),
        })
    }

    /// A ring over `(node, weight)` pairs, built in one sort.
    ///
    /// # Errors
    /// A config error, [`Error::InvalidWeight`], [`Error::DuplicateNode`] or
    /// [`Error::TooManyPoints`].
    pub fn with_nodes(
        config: RingConfig,
        nodes: impl IntoIterator<Item = (N, f64)>,
    ) -> Result<Self, Error> {
        config.validate()?;
        let table = NodeTable::build(nodes, u32::MAX as usize)?;
        let mut all = Vec::new();
        for slot in 0..table.len() {
            let count = config.points_for(table.weights[slot])?;
            check_total(all.len() as u64 + u64::from(count))?;
            push_points(&mut all, table.hashes[slot], count, slot as u32);
        }
        Ok(Self {
            config,
            table,
            points: SortedPoints::from_unsorted(all),
        })
    }

    /// A ring over a validated [`NodeSet`].
    ///
    /// # Errors
    /// As [`Ring::with_nodes`].
    pub fn from_node_set(config: RingConfig, set: &NodeSet<N>) -> Result<Self, Error>
    where
        N: Clone,
    {
        Self::with_nodes(config, set.clone())
    }

    /// Adds a node; only keys that now belong to it move.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`], [`Error::DuplicateNode`] or
    /// [`Error::TooManyPoints`]; the ring is unchanged on error.
    pub fn insert(&mut self, node: N, weight: f64) -> Result<(), Error> {
        check_weight(weight)?;
        let count = self.config.points_for(weight)?;
        check_total(self.points.len() as u64 + u64::from(count))?;
        let slot = self.table.slot_for_insert(&node, u32::MAX as usize)?;
        let mut added = Vec::with_capacity(count as usize);
        push_points(&mut added, node.id_hash(), count, slot as u32);
        self.points.insert_slot(slot as u32, added);
        self.table.insert_at(slot, node, weight);
        Ok(())
    }

    /// Removes a node and returns its weight; only its keys move.
    ///
    /// # Errors
    /// [`Error::UnknownNode`].
    pub fn remove(&mut self, node: &N) -> Result<f64, Error> {
        let slot = self.table.find(node).map_err(|_| Error::UnknownNode)?;
        self.points.remove_slot(slot as u32);
        Ok(self.table.remove_at(slot).1)
    }

    /// Whether `node` is on the ring.
    #[must_use]
    pub fn contains(&self, node: &N) -> bool {
        self.table.find(node).is_ok()
    }

    /// The ring's parameters.
    #[must_use]
    pub fn config(&self) -> RingConfig {
        self.config
    }

    /// Number of points on the circle.
    #[must_use]
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// The nodes and weights, as a [`NodeSet`] to store or send.
    #[must_use]
    pub fn node_set(&self) -> NodeSet<N>
    where
        N: Clone,
    {
        self.table.to_node_set()
    }

    /// Heap bytes held by the ring (points, index and node table; not the
    /// nodes' own heap allocations).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.points.heap_bytes() + self.table.heap_bytes()
    }
}

fn check_total(points: u64) -> Result<(), Error> {
    if points > MAX_TOTAL_POINTS {
        return Err(Error::TooManyPoints {
            points: points as f64,
            limit: MAX_TOTAL_POINTS,
        });
    }
    Ok(())
}

/// A node's points are the SplitMix64 sequence seeded by its identity hash.
fn push_points(out: &mut Vec<Point>, node_hash: u64, count: u32, slot: u32) {
    out.extend((0..u64::from(count)).map(|i| Point {
        hash: derive(node_hash, i),
        slot,
    }));
}

impl<N> Locator<N> for Ring<N> {
    fn nodes(&self) -> &[N] {
        &self.table.nodes
    }

    fn weights(&self) -> &[f64] {
        &self.table.weights
    }

    #[inline]
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        let pos = self.points.successor(key_hash)?;
        Some(self.points.get(pos).slot as usize)
    }

    /// Clockwise from the key, skipping nodes already visited. Allocates
    /// nothing until more than 8 nodes have been visited.
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
        let Some(start) = self.points.successor(key_hash) else {
            return;
        };
        let (len, n_nodes) = (self.points.len(), self.table.nodes.len());
        let mut seen = SeenSet::new(n_nodes);
        let mut visited = 0;
        for step in 0..len {
            let slot = self.points.get((start + step) % len).slot as usize;
            if !seen.insert(slot) {
                continue;
            }
            visited += 1;
            if visit(slot).is_break() || visited == n_nodes {
                return;
            }
        }
    }
}
