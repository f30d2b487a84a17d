//! Hash-based picking: the request's hash chooses the endpoint through a
//! consistent-hashing table from synod-hashring (a ring or Maglev), so
//! the same session or object keeps going to the same endpoint while the
//! set changes little. An ineligible owner (ejected, excluded, or over
//! the bounded-load cap) hands the request to the next endpoint on the
//! key's preference walk.

use std::fmt;
use std::ops::ControlFlow;

use rand::Rng;
use synod_hashring::{Locator, Maglev, MaglevConfig, NodeId, Ring, RingConfig};

use super::{Context, Endpoint, Pick};
use crate::error::Error;

#[cfg(test)]
mod tests;

/// Which consistent-hashing table to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashTable {
    /// A ring with virtual nodes (Envoy's `RING_HASH`).
    Ring(RingConfig),
    /// A Maglev lookup table (Envoy's `MAGLEV`): faster and more even.
    Maglev(MaglevConfig),
}

type Table<K> = Box<dyn Locator<K> + Send + Sync>;

/// Picks by request hash (see the module docs). Requests without a hash
/// get a random one.
pub struct HashPick<K> {
    kind: HashTable,
    /// Bounded loads: no endpoint takes more than
    /// `ceil(c x (in flight + 1) x weight / total weight)` requests.
    load_factor: Option<f64>,
    table: Option<Table<K>>,
    /// Table index to endpoint index.
    to_endpoint: Vec<usize>,
    weight_total: f64,
}

impl<K> fmt::Debug for HashPick<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPick")
            .field("kind", &self.kind)
            .field("load_factor", &self.load_factor)
            .field("endpoints", &self.to_endpoint.len())
            .finish()
    }
}

impl<K> HashPick<K> {
    /// A hash picker over `kind`'s table.
    ///
    /// # Errors
    /// The table configuration's error.
    pub fn new(kind: HashTable) -> Result<Self, Error> {
        match kind {
            HashTable::Ring(c) => c.validate()?,
            HashTable::Maglev(c) => c.validate()?,
        }
        Ok(Self {
            kind,
            load_factor: None,
            table: None,
            to_endpoint: Vec::new(),
            weight_total: 0.0,
        })
    }

    /// A ring with default settings.
    #[must_use]
    pub fn ring() -> Self {
        Self::new(HashTable::Ring(RingConfig::default())).expect("the defaults are valid")
    }

    /// A Maglev table with default settings.
    #[must_use]
    pub fn maglev() -> Self {
        Self::new(HashTable::Maglev(MaglevConfig::default())).expect("the defaults are valid")
    }

    /// The table kind and its configuration.
    ///
    /// ```
    /// use synod_lb::{HashPick, HashTable};
    /// let pick = HashPick::<u32>::maglev().bounded(1.25).unwrap();
    /// assert!(matches!(pick.table_kind(), HashTable::Maglev(_)));
    /// assert_eq!(pick.load_factor(), Some(1.25));
    /// ```
    #[must_use]
    pub fn table_kind(&self) -> HashTable {
        self.kind
    }

    /// The bounded-loads factor, if bounded.
    #[must_use]
    pub fn load_factor(&self) -> Option<f64> {
        self.load_factor
    }

    /// Adds bounded loads with factor `c` (Mirrokni et al.; 1.25 is
    /// common): a hot key's overflow walks on to the next endpoint.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `c` is finite and at least 1.
    pub fn bounded(self, c: f64) -> Result<Self, Error> {
        if !(c.is_finite() && c >= 1.0) {
            return Err(Error::InvalidConfig {
                field: "load_factor",
                reason: "must be finite and at least 1",
            });
        }
        Ok(Self {
            load_factor: Some(c),
            ..self
        })
    }

    #[inline]
    fn under_cap(&self, ctx: &Context<'_, K>, e: &Endpoint<K>, c: f64) -> bool {
        let total = (ctx.total_in_flight() + 1) as f64;
        let cap = (c * total * e.weight() / self.weight_total).ceil();
        ((e.in_flight() + 1) as f64) <= cap
    }
}

impl<K> Pick<K> for HashPick<K>
where
    K: NodeId + Ord + Clone + Send + Sync + 'static,
{
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        _rng: &mut R,
    ) -> Result<(), Error> {
        let nodes = endpoints.iter().map(|e| (e.key().clone(), e.weight()));
        let table: Table<K> = match self.kind {
            HashTable::Ring(c) => Box::new(Ring::with_nodes(c, nodes)?),
            HashTable::Maglev(c) => Box::new(Maglev::with_nodes(c, nodes)?),
        };
        let to_endpoint = table
            .nodes()
            .iter()
            .map(|k| {
                endpoints
                    .binary_search_by(|e| e.key().cmp(k))
                    .unwrap_or_default()
            })
            .collect();
        self.table = Some(table);
        self.to_endpoint = to_endpoint;
        self.weight_total = endpoints.iter().map(Endpoint::weight).sum();
        Ok(())
    }

    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let table = self.table.as_ref()?;
        if self.to_endpoint.len() != ctx.len() {
            return ctx.uniform_eligible(rng);
        }
        let hash = ctx.hash().unwrap_or_else(|| rng.next_u64());
        if ctx.relaxed {
            return table.locate_index(hash).map(|i| self.to_endpoint[i]);
        }
        let endpoints = ctx.endpoints();
        let mut found = None;
        table.walk(hash, &mut |slot| {
            let i = self.to_endpoint[slot];
            let fits = self
                .load_factor
                .is_none_or(|c| self.under_cap(ctx, &endpoints[i], c));
            if fits && ctx.eligible(i, rng) {
                found = Some(i);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found
    }

    fn tracks_total_load(&self) -> bool {
        self.load_factor.is_some()
    }
}
