//! Node identities, weights and the sorted node table every algorithm shares.

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use crate::Error;
use crate::hash::hash_bytes;

/// A node's stable identity for hashing.
///
/// Placement depends only on [`NodeId::id_hash`], so it must be the same on
/// every platform and in every release of your program. The implementations
/// here hash a documented byte encoding with the frozen key hash:
///
/// | type | bytes hashed |
/// |---|---|
/// | `str`, `String` | the UTF-8 bytes |
/// | `[u8]`, `Vec<u8>`, `[u8; N]` | the bytes |
/// | `u8` .. `u128`, `i8` .. `i128`, `usize` | little-endian bytes (`usize` as `u64`) |
/// | `IpAddr` | the 4 or 16 address octets |
/// | `SocketAddr` | the address octets, then the port big-endian |
///
/// For your own type, hash a stable encoding with [`crate::hash_bytes`]:
///
/// ```
/// use synod_hashring::{hash_bytes, NodeId};
/// #[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
/// struct Shard { region: u8, id: u32 }
/// impl NodeId for Shard {
///     fn id_hash(&self) -> u64 {
///         let mut bytes = [0u8; 5];
///         bytes[0] = self.region;
///         bytes[1..].copy_from_slice(&self.id.to_le_bytes());
///         hash_bytes(&bytes)
///     }
/// }
/// ```
pub trait NodeId {
    /// The node's frozen 64-bit identity hash.
    fn id_hash(&self) -> u64;
}

impl NodeId for str {
    fn id_hash(&self) -> u64 {
        hash_bytes(self.as_bytes())
    }
}

impl NodeId for String {
    fn id_hash(&self) -> u64 {
        hash_bytes(self.as_bytes())
    }
}

impl NodeId for [u8] {
    fn id_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl NodeId for Vec<u8> {
    fn id_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl<const LEN: usize> NodeId for [u8; LEN] {
    fn id_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

macro_rules! int_node_id {
    ($($t:ty),*) => {$(
        impl NodeId for $t {
            fn id_hash(&self) -> u64 {
                hash_bytes(&self.to_le_bytes())
            }
        }
    )*};
}

int_node_id!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl NodeId for usize {
    fn id_hash(&self) -> u64 {
        // Hashed as u64 so 32- and 64-bit platforms agree.
        hash_bytes(&(*self as u64).to_le_bytes())
    }
}

impl NodeId for IpAddr {
    fn id_hash(&self) -> u64 {
        match self {
            IpAddr::V4(ip) => hash_bytes(&ip.octets()),
            IpAddr::V6(ip) => hash_bytes(&ip.octets()),
        }
    }
}

impl NodeId for SocketAddr {
    fn id_hash(&self) -> u64 {
        let mut bytes = [0u8; 18];
        let len = match self.ip() {
            IpAddr::V4(ip) => {
                bytes[..4].copy_from_slice(&ip.octets());
                4
            }
            IpAddr::V6(ip) => {
                bytes[..16].copy_from_slice(&ip.octets());
                16
            }
        };
        bytes[len..len + 2].copy_from_slice(&self.port().to_be_bytes());
        hash_bytes(&bytes[..len + 2])
    }
}

impl<T: NodeId + ?Sized> NodeId for &T {
    fn id_hash(&self) -> u64 {
        (**self).id_hash()
    }
}

impl<T: NodeId + ?Sized> NodeId for Box<T> {
    fn id_hash(&self) -> u64 {
        (**self).id_hash()
    }
}

impl<T: NodeId + ?Sized> NodeId for Arc<T> {
    fn id_hash(&self) -> u64 {
        (**self).id_hash()
    }
}

impl<T: NodeId + ?Sized> NodeId for Rc<T> {
    fn id_hash(&self) -> u64 {
        (**self).id_hash()
    }
}

/// Checks that a weight is finite and greater than zero.
pub(crate) fn check_weight(weight: f64) -> Result<f64, Error> {
    if weight.is_finite() && weight > 0.0 {
        Ok(weight)
    } else {
        Err(Error::InvalidWeight { weight })
    }
}

/// Checks that a weight is exactly 1.0, for algorithms without weights.
pub(crate) fn check_unit_weight(weight: f64) -> Result<(), Error> {
    check_weight(weight)?;
    if weight == 1.0 {
        Ok(())
    } else {
        Err(Error::WeightsUnsupported { weight })
    }
}

/// A node and its weight: the unit of a [`NodeSet`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeightedNode<N> {
    /// The node.
    pub node: N,
    /// Its weight: finite and greater than zero.
    pub weight: f64,
}

/// A validated set of weighted nodes: sorted, no duplicates, every weight
/// finite and positive.
///
/// It is the form in which a node set is stored or sent (with the `serde`
/// feature, deserializing validates it) and from which every algorithm can
/// be built.
///
/// ```
/// use synod_hashring::{NodeSet, Ring, RingConfig, Locator};
/// let set = NodeSet::new([("a", 1.0), ("b", 2.0)]).unwrap();
/// let ring = Ring::from_node_set(RingConfig::default(), &set).unwrap();
/// assert_eq!(ring.nodes(), &["a", "b"]);
/// assert!(NodeSet::new([("a", 1.0), ("a", 1.0)]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "Vec<WeightedNode<N>>",
        into = "Vec<WeightedNode<N>>",
        bound(
            serialize = "N: serde::Serialize + Clone",
            deserialize = "N: serde::Deserialize<'de> + Ord"
        )
    )
)]
pub struct NodeSet<N> {
    /// Invariant: sorted by node, no duplicates, weights finite and > 0.
    nodes: Vec<WeightedNode<N>>,
}

impl<N: Ord> NodeSet<N> {
    /// Validates and sorts `(node, weight)` pairs.
    ///
    /// # Errors
    /// [`Error::InvalidWeight`] or [`Error::DuplicateNode`].
    pub fn new(nodes: impl IntoIterator<Item = (N, f64)>) -> Result<Self, Error> {
        let nodes = nodes
            .into_iter()
            .map(|(node, weight)| WeightedNode { node, weight })
            .collect::<Vec<_>>();
        Self::try_from(nodes)
    }

    /// The nodes, sorted, with their weights.
    #[must_use]
    pub fn as_slice(&self) -> &[WeightedNode<N>] {
        &self.nodes
    }

    /// Number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl<N: Ord> TryFrom<Vec<WeightedNode<N>>> for NodeSet<N> {
    type Error = Error;

    fn try_from(mut nodes: Vec<WeightedNode<N>>) -> Result<Self, Error> {
        for n in &nodes {
            check_weight(n.weight)?;
        }
        nodes.sort_by(|a, b| a.node.cmp(&b.node));
        if nodes.windows(2).any(|w| w[0].node == w[1].node) {
            return Err(Error::DuplicateNode);
        }
        Ok(Self { nodes })
    }
}

impl<N> From<NodeSet<N>> for Vec<WeightedNode<N>> {
    fn from(set: NodeSet<N>) -> Self {
        set.nodes
    }
}

impl<N> IntoIterator for NodeSet<N> {
    type Item = (N, f64);
    type IntoIter =
        std::iter::Map<std::vec::IntoIter<WeightedNode<N>>, fn(WeightedNode<N>) -> (N, f64)>;

    fn into_iter(self) -> Self::IntoIter {
        self.nodes.into_iter().map(|w| (w.node, w.weight))
    }
}

/// The node table behind every algorithm but jump: nodes sorted by `Ord`,
/// with their weights and identity hashes in parallel vectors.
///
/// A node's index in this table (its *slot*) is its rank, so ties between
/// equal hashes are broken by node order and placement depends on the node
/// set alone, never on the order of inserts.
#[derive(Debug, Clone)]
pub(crate) struct NodeTable<N> {
    /// Invariant: strictly increasing.
    pub(crate) nodes: Vec<N>,
    /// Invariant: same length as `nodes`; every weight finite and > 0.
    pub(crate) weights: Vec<f64>,
    /// Invariant: `hashes[i] == nodes[i].id_hash()`.
    pub(crate) hashes: Vec<u64>,
}

impl<N> NodeTable<N> {
    pub(crate) const fn new() -> Self {
        Self {
            nodes: Vec::new(),
            weights: Vec::new(),
            hashes: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Heap bytes held by the table's vectors (not by the nodes' own heap).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * size_of::<N>()
            + self.weights.capacity() * size_of::<f64>()
            + self.hashes.capacity() * size_of::<u64>()
    }
}

impl<N: NodeId + Ord> NodeTable<N> {
    /// Builds a table from unsorted pairs, validating weights and rejecting
    /// duplicates, with at most `max_nodes` nodes.
    pub(crate) fn build(
        pairs: impl IntoIterator<Item = (N, f64)>,
        max_nodes: usize,
    ) -> Result<Self, Error> {
        let mut pairs = pairs.into_iter().collect::<Vec<_>>();
        if pairs.len() > max_nodes {
            return Err(Error::TooManyNodes {
                nodes: pairs.len(),
                limit: max_nodes,
            });
        }
        for (_, weight) in &pairs {
            check_weight(*weight)?;
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::DuplicateNode);
        }
        let mut table = Self::new();
        for (node, weight) in pairs {
            table.hashes.push(node.id_hash());
            table.nodes.push(node);
            table.weights.push(weight);
        }
        Ok(table)
    }

    /// The slot of `node`, or where it would be inserted.
    pub(crate) fn find(&self, node: &N) -> Result<usize, usize> {
        self.nodes.binary_search(node)
    }

    /// Where `node` goes, or an error if it is already present or the table
    /// would pass `max_nodes`.
    pub(crate) fn slot_for_insert(&self, node: &N, max_nodes: usize) -> Result<usize, Error> {
        let slot = match self.find(node) {
            Ok(_) => return Err(Error::DuplicateNode),
            Err(slot) => slot,
        };
        if self.len() >= max_nodes {
            return Err(Error::TooManyNodes {
                nodes: self.len() + 1,
                limit: max_nodes,
            });
        }
        Ok(slot)
    }

    pub(crate) fn insert_at(&mut self, slot: usize, node: N, weight: f64) {
        self.hashes.insert(slot, node.id_hash());
        self.nodes.insert(slot, node);
        self.weights.insert(slot, weight);
    }

    pub(crate) fn remove_at(&mut self, slot: usize) -> (N, f64) {
        self.hashes.remove(slot);
        let weight = self.weights.remove(slot);
        (self.nodes.remove(slot), weight)
    }

    /// Copies the table out as a [`NodeSet`].
    pub(crate) fn to_node_set(&self) -> NodeSet<N>
    where
        N: Clone,
    {
        NodeSet {
            nodes: self
                .nodes
                .iter()
                .zip(&self.weights)
                .map(|(node, &weight)| WeightedNode {
                    node: node.clone(),
                    weight,
                })
                .collect(),
        }
    }
}

impl<N: NodeId + Ord> Default for NodeTable<N> {
    fn default() -> Self {
        Self::new()
    }
}
