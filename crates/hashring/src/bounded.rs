//! Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
//! SODA 2018), over any [`Locator`].
//!
//! Each node may carry at most `ceil(c * m * w / W)` items, where `m` counts
//! the items including the one being placed, `w` is the node's weight and
//! `W` the total weight; with equal weights that is the paper's
//! `ceil(c * m / n)`. An item goes to the first node in its key's
//! preference order that is below its cap, so no node is ever more than a
//! factor `c` above its fair share, while keys still mostly stay where plain
//! consistent hashing puts them. `c = 1.25` (the default) is the paper's
//! suggested trade-off.
//!
//! Loads live in this wrapper. Placement therefore depends on the history of
//! assignments, not only on the key: use it where the caller assigns and
//! releases items (connections, sessions, cache fills), not where clients
//! must agree on a key's home without sharing state.

use std::ops::ControlFlow;

use crate::{Error, Locator};

/// The default load factor `c`.
pub const DEFAULT_LOAD_FACTOR: f64 = 1.25;

/// Parameters of [`BoundedLoads`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BoundedConfig {
    /// The load factor `c >= 1`: no node is assigned more than
    /// `ceil(c * fair share)` items. Default [`DEFAULT_LOAD_FACTOR`].
    pub load_factor: f64,
}

impl Default for BoundedConfig {
    fn default() -> Self {
        Self {
            load_factor: DEFAULT_LOAD_FACTOR,
        }
    }
}

impl BoundedConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidLoadFactor`] unless `load_factor` is finite and at
    /// least 1.
    pub fn validate(&self) -> Result<(), Error> {
        let c = self.load_factor;
        if c.is_finite() && c >= 1.0 {
            Ok(())
        } else {
            Err(Error::InvalidLoadFactor { c })
        }
    }
}

/// Bounded-load assignment over a placement `L`. See the [module docs](self).
///
/// ```
/// use synod_hashring::{BoundedConfig, BoundedLoads, Locator, Ring, RingConfig, hash_u64};
/// let ring = Ring::with_nodes(RingConfig::default(), [("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
/// let mut bounded = BoundedLoads::new(ring, BoundedConfig::default()).unwrap();
/// for key in 0..300 {
///     bounded.assign(hash_u64(key)).unwrap();
/// }
/// // ceil(1.25 * 300 / 3) = 125
/// assert!(bounded.loads().iter().all(|&load| load <= 125));
/// assert_eq!(bounded.capacity(0), 126); // for the 301st item
/// ```
#[derive(Debug, Clone)]
pub struct BoundedLoads<L> {
    locator: L,
    load_factor: f64,
    /// The sum of the placement's weights.
    total_weight: f64,
    /// Invariant: parallel to `locator.nodes()`; sums to `total` (which
    /// saturates at `u64::MAX` rather than overflow).
    loads: Vec<u64>,
    total: u64,
}

impl<L> BoundedLoads<L> {
    /// Wraps a placement; every node starts with no load.
    ///
    /// The placement is owned and immutable while wrapped; to change the
    /// node set, take it back with [`BoundedLoads::into_inner`] and wrap the
    /// new one (carrying loads over with [`BoundedLoads::set_load`]).
    ///
    /// # Errors
    /// Whatever [`BoundedConfig::validate`] returns.
    pub fn new<N>(locator: L, config: BoundedConfig) -> Result<Self, Error>
    where
        L: Locator<N>,
    {
        config.validate()?;
        let loads = vec![0; locator.len()];
        let total_weight = locator.weights().iter().sum();
        Ok(Self {
            locator,
            load_factor: config.load_factor,
            total_weight,
            loads,
            total: 0,
        })
    }

    /// The wrapped placement.
    pub fn locator(&self) -> &L {
        &self.locator
    }

    /// Unwraps the placement.
    pub fn into_inner(self) -> L {
        self.locator
    }

    /// Loads, parallel to the placement's `nodes()`.
    #[must_use]
    pub fn loads(&self) -> &[u64] {
        &self.loads
    }

    /// Total items assigned.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The cap node `index` must be under to take one more item now:
    /// `ceil(c * (total + 1) * weight / total weight)`, which is
    /// `ceil(c * (total + 1) / n)` with equal weights; 0 for an index past
    /// the nodes.
    #[must_use]
    pub fn capacity<N>(&self, index: usize) -> u64
    where
        L: Locator<N>,
    {
        let Some(&weight) = self.locator.weights().get(index) else {
            return 0;
        };
        // Divide last: with unit weights this is exactly c * (total + 1) / n
        // whenever that is an integer, so the cap is never one too high.
        let items = self.total.saturating_add(1) as f64;
        (self.load_factor * items * weight / self.total_weight).ceil() as u64
    }

    /// The index of the node an item with this key would go to now, without
    /// assigning it; `None` without nodes.
    ///
    /// Some node is always under its cap when loads come from
    /// [`BoundedLoads::assign`] (the caps add up to at least
    /// `c * (total + 1) > total`). Loads
    /// set by hand can break that; then the least-loaded node is chosen,
    /// earliest in preference order on ties.
    pub fn pick_index<N>(&self, key_hash: u64) -> Option<usize>
    where
        L: Locator<N>,
    {
        let mut under_cap = None;
        let mut least: Option<usize> = None;
        self.locator.walk(key_hash, &mut |i| {
            // An index past the nodes (a broken `Locator` impl) is skipped.
            let Some(&load) = self.loads.get(i) else {
                return ControlFlow::Continue(());
            };
            if load < self.capacity(i) {
                under_cap = Some(i);
                return ControlFlow::Break(());
            }
            if least.is_none_or(|l| load < self.loads[l]) {
                least = Some(i);
            }
            ControlFlow::Continue(())
        });
        under_cap.or(least)
    }

    /// The node an item with this key would go to now; `None` without nodes.
    pub fn pick<N>(&self, key_hash: u64) -> Option<&N>
    where
        L: Locator<N>,
    {
        self.pick_index(key_hash)
            .and_then(|i| self.locator.nodes().get(i))
    }

    /// Assigns an item with this key and returns its node.
    ///
    /// # Errors
    /// [`Error::NoNodes`].
    pub fn assign<N>(&mut self, key_hash: u64) -> Result<&N, Error>
    where
        L: Locator<N>,
    {
        let i = self.pick_index(key_hash).ok_or(Error::NoNodes)?;
        let node = self.locator.nodes().get(i).ok_or(Error::NoNodes)?;
        self.loads[i] = self.loads[i].saturating_add(1);
        self.total = self.total.saturating_add(1);
        Ok(node)
    }

    /// Releases one item from `node`.
    ///
    /// A release can leave other nodes above the new, lower cap; the bound
    /// is restored as later assignments avoid them (as in the paper, which
    /// bounds loads under insertions).
    ///
    /// # Errors
    /// [`Error::UnknownNode`] or [`Error::NoLoad`].
    pub fn release<N: PartialEq>(&mut self, node: &N) -> Result<(), Error>
    where
        L: Locator<N>,
    {
        let i = self.index_of(node)?;
        if self.loads[i] == 0 {
            return Err(Error::NoLoad);
        }
        self.loads[i] -= 1;
        self.total -= 1;
        Ok(())
    }

    /// Sets a node's load, for loads tracked elsewhere.
    ///
    /// # Errors
    /// [`Error::UnknownNode`].
    pub fn set_load<N: PartialEq>(&mut self, node: &N, load: u64) -> Result<(), Error>
    where
        L: Locator<N>,
    {
        let i = self.index_of(node)?;
        self.total = self
            .total
            .saturating_sub(self.loads[i])
            .saturating_add(load);
        self.loads[i] = load;
        Ok(())
    }

    fn index_of<N: PartialEq>(&self, node: &N) -> Result<usize, Error>
    where
        L: Locator<N>,
    {
        self.locator
            .nodes()
            .iter()
            .position(|n| n == node)
            .ok_or(Error::UnknownNode)
    }
}
