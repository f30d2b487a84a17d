//! The one trait every algorithm implements: which node owns this key.

use std::ops::ControlFlow;

use crate::Error;
use crate::hash::hash_bytes;

/// Which node owns a key, and in what order the others would take over.
///
/// Every structure in this crate implements it, so code can be written once
/// against `&dyn Locator<N>` and the algorithm chosen by configuration.
/// Lookups take `&self`, allocate nothing and touch no shared mutable state:
/// an immutable structure is `Send + Sync` whenever `N` is, and a service
/// can publish a new snapshot behind an `Arc` while readers use the old one.
///
/// Nodes are addressed by their *index* in [`Locator::nodes`]. For every
/// algorithm but jump, that slice is sorted by `N: Ord`, so the index is the
/// node's rank and placement depends only on the node set, never on the
/// order in which nodes were added.
///
/// ```
/// use synod_hashring::{Locator, Ring, RingConfig, Rendezvous, hash_bytes};
/// let ring = Ring::with_nodes(RingConfig::default(), [("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
/// let hrw = Rendezvous::with_nodes([("a", 1.0), ("b", 1.0), ("c", 1.0)]).unwrap();
/// for locator in [&ring as &dyn Locator<&str>, &hrw] {
///     let owner = locator.locate(b"user:42").unwrap();
///     let replicas = locator.replicas(hash_bytes(b"user:42"), 2).unwrap();
///     assert_eq!(replicas[0], owner); // the owner heads its preference list
///     assert_ne!(replicas[0], replicas[1]);
/// }
/// ```
pub trait Locator<N> {
    /// The nodes, in index order.
    fn nodes(&self) -> &[N];

    /// The weights, parallel to [`Locator::nodes`] (all 1.0 where the
    /// algorithm has no weights).
    fn weights(&self) -> &[f64];

    /// Index of the node that owns a pre-hashed key; `None` if there are no
    /// nodes.
    fn locate_index(&self, key_hash: u64) -> Option<usize>;

    /// Visits the indexes of the nodes in this key's preference order, each
    /// node exactly once, until `visit` breaks or every node was visited.
    /// The first index visited is always [`Locator::locate_index`]'s.
    ///
    /// Allocates only where the algorithm needs scratch space (see each
    /// type's docs for the cost).
    fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>);

    /// The node that owns a pre-hashed key; `None` if there are no nodes.
    #[inline]
    fn locate_hash(&self, key_hash: u64) -> Option<&N> {
        self.locate_index(key_hash)
            .and_then(|i| self.nodes().get(i))
    }

    /// The node that owns `key`, hashed with the frozen key hash.
    #[inline]
    fn locate(&self, key: &[u8]) -> Option<&N> {
        self.locate_hash(hash_bytes(key))
    }

    /// Number of nodes.
    fn len(&self) -> usize {
        self.nodes().len()
    }

    /// Whether there are no nodes.
    fn is_empty(&self) -> bool {
        self.nodes().is_empty()
    }

    /// Fills `out` (cleared first) with the `n` distinct nodes first in the
    /// key's preference order: a replica set with the owner first.
    ///
    /// Reuse `out` across calls to avoid allocating it each time.
    ///
    /// # Errors
    /// [`Error::NotEnoughNodes`] when `n` is larger than the node count.
    fn replicas_into<'a>(
        &'a self,
        key_hash: u64,
        n: usize,
        out: &mut Vec<&'a N>,
    ) -> Result<(), Error> {
        out.clear();
        let nodes = self.nodes();
        if n > nodes.len() {
            return Err(Error::NotEnoughNodes {
                wanted: n,
                available: nodes.len(),
            });
        }
        if n == 0 {
            return Ok(());
        }
        out.reserve(n);
        self.walk(key_hash, &mut |i| {
            // An index past `nodes()` (a broken `Locator` impl) is skipped.
            if let Some(node) = nodes.get(i) {
                out.push(node);
            }
            if out.len() == n {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if out.len() < n {
            // Only a broken `Locator` impl walks fewer nodes than it has.
            return Err(Error::NotEnoughNodes {
                wanted: n,
                available: out.len(),
            });
        }
        Ok(())
    }

    /// The `n` distinct nodes first in the key's preference order.
    ///
    /// # Errors
    /// [`Error::NotEnoughNodes`] when `n` is larger than the node count.
    fn replicas(&self, key_hash: u64, n: usize) -> Result<Vec<&N>, Error> {
        let mut out = Vec::new();
        self.replicas_into(key_hash, n, &mut out)?;
        Ok(out)
    }
}

/// A set of node indexes for preference walks. The first few indexes live
/// in an inline array (a walk that stops early, like a bounded-loads pick
/// or a short replica list, allocates nothing); a longer walk spills into a
/// bitset of the node count.
#[derive(Debug)]
pub(crate) struct SeenSet {
    nodes: usize,
    few: [usize; SeenSet::FEW],
    few_len: usize,
    /// Empty until the inline array overflows.
    bits: Vec<u64>,
}

impl SeenSet {
    const FEW: usize = 8;

    pub(crate) fn new(nodes: usize) -> Self {
        Self {
            nodes,
            few: [0; Self::FEW],
            few_len: 0,
            bits: Vec::new(),
        }
    }

    /// Marks `i` seen; returns whether it was new.
    pub(crate) fn insert(&mut self, i: usize) -> bool {
        debug_assert!(i < self.nodes, "index {i} >= node count {}", self.nodes);
        if self.bits.is_empty() {
            if self.few[..self.few_len].contains(&i) {
                return false;
            }
            if self.few_len < Self::FEW {
                self.few[self.few_len] = i;
                self.few_len += 1;
                return true;
            }
            self.bits = vec![0; self.nodes.div_ceil(64)];
            for k in 0..self.few_len {
                let f = self.few[k];
                self.bits[f / 64] |= 1 << (f % 64);
            }
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let new = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        new
    }
}

/// Forwards [`Locator`] through smart pointers, so `Box<dyn Locator<N>>`,
/// `Arc<Ring<N>>` and `&Maglev<N>` can be wrapped (in [`crate::BoundedLoads`]
/// for example) like the structures themselves.
macro_rules! forward_locator {
    ($($ptr:ty),*) => {$(
        impl<N, L: Locator<N> + ?Sized> Locator<N> for $ptr {
            fn nodes(&self) -> &[N] {
                (**self).nodes()
            }

            fn weights(&self) -> &[f64] {
                (**self).weights()
            }

            #[inline]
            fn locate_index(&self, key_hash: u64) -> Option<usize> {
                (**self).locate_index(key_hash)
            }

            fn walk(&self, key_hash: u64, visit: &mut dyn FnMut(usize) -> ControlFlow<()>) {
                (**self).walk(key_hash, visit)
            }
        }
    )*};
}

forward_locator!(&L, Box<L>, std::sync::Arc<L>, std::rc::Rc<L>);
