//! Consistent hashing for Synod: which node owns this key.
//!
//! The contract: every algorithm implements [`Locator`], maps a key to the
//! same node on every platform and in every release (placement is part of
//! your data's layout), allocates nothing on lookup, never panics on input
//! and returns a typed [`Error`] for every mistake in it.
//!
//! The key design decision: **placement is a pure function of the node set
//! and one frozen hash.** Keys are hashed with XXH3-64 (seed 0, see
//! [`hash_bytes`]) and everything else is derived from that hash with a
//! fixed mixer; nodes are kept sorted, so the order in which they were added
//! never matters (except for [`Jump`], whose buckets are numbered by
//! design). Golden vectors in the tests pin both the hash and each
//! algorithm's placement of fixed keys, so a change that would move users'
//! keys fails CI.
//!
//! # Choosing an algorithm
//!
//! | | lookup | memory | balance (peak/mean) | removals | weights | replicas |
//! |---|---|---|---|---|---|---|
//! | [`Ring`] | O(1) expected | ~3 KiB per node at 160 points | ~1.2 at 160 points | any, minimal moves | yes | clockwise walk |
//! | [`Jump`] | O(log n) | node list only | as even as the keys | last bucket only | no | re-derived draws |
//! | [`Rendezvous`] | O(n) | node list only | as even as the keys | any, minimal moves | yes, exact | top-n by score |
//! | [`Maglev`] | O(1), fastest | 4 B per table entry | within 1 entry of fair | any, small extra moves | yes | table walk |
//! | [`MultiProbe`] | O(k) | one point per node | ~1.05 at k = 21 | any, minimal moves | no | probe-merged walk |
//! | [`BoundedLoads`] | walk until a node is under the cap | loads per node | `<= ceil(c * avg)` by construction | via the inner placement | via the inner placement | — |
//!
//! Sharding a keyspace over a handful of numbered groups: [`Jump`].
//! Load balancing many flows over backends that come and go: [`Maglev`].
//! A cache tier with weights and frequent membership changes: [`Ring`], or
//! [`MultiProbe`] when memory per node matters. Few nodes and exact weights
//! (replica placement): [`Rendezvous`]. Sessions that must not pile up on
//! one node: wrap any of them in [`BoundedLoads`].
//!
//! # Example
//!
//! ```
//! use synod_hashring::{Locator, Maglev, MaglevConfig, hash_bytes};
//! let nodes = [("db-1", 1.0), ("db-2", 1.0), ("db-3", 2.0)];
//! let table = Maglev::with_nodes(MaglevConfig::default(), nodes).unwrap();
//! let owner = table.locate(b"customer:1234").unwrap();
//! let replicas = table.replicas(hash_bytes(b"customer:1234"), 2).unwrap();
//! assert_eq!(replicas[0], owner);
//! ```
//!
//! Lookups take `&self`; every structure is `Send + Sync` when `N` is, so
//! share an immutable snapshot behind an `Arc` and swap in a new one when
//! the node set changes.
//!
//! With the `serde` feature, [`NodeSet`] and every `*Config` serialize;
//! deserializing a `NodeSet` validates it.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub mod bounded;
mod error;
mod hash;
pub mod jump;
mod locator;
pub mod maglev;
mod math;
mod measure;
pub mod multiprobe;
mod node;
mod points;
pub mod rendezvous;
pub mod ring;

pub use bounded::{BoundedConfig, BoundedLoads, DEFAULT_LOAD_FACTOR};
pub use error::Error;
pub use hash::{KEY_HASH_SEED, KeySample, hash_bytes, hash_u64, mix64};
pub use jump::{Jump, jump_hash};
pub use locator::Locator;
pub use maglev::{Maglev, MaglevConfig};
pub use measure::{Balance, Disruption, balance, disruption};
pub use multiprobe::{MultiProbe, MultiProbeConfig};
pub use node::{NodeId, NodeSet, WeightedNode};
pub use rendezvous::Rendezvous;
pub use ring::{Ring, RingConfig};
