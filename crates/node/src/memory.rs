//! An in-process network for tests and examples: every node's
//! [`Transport`] and [`Inbox`] in one place, with partitions and seeded
//! message loss.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use synod_protocol::NodeId;

use crate::inbox::Inbox;
use crate::transport::Transport;

struct Links<M> {
    inboxes: BTreeMap<NodeId, Inbox<M>>,
    /// Directed links that drop everything: (from, to).
    cut: BTreeSet<(NodeId, NodeId)>,
    /// Messages dropped per million, drawn from `rng`.
    loss_per_million: u32,
    rng: StdRng,
    delivered: u64,
    lost: u64,
}

/// An in-process network. Clone it freely; all clones are one network.
/// Delivery is immediate and in order per link; loss and partitions are
/// the faults it injects.
pub struct MemNetwork<M> {
    links: Arc<Mutex<Links<M>>>,
}

impl<M> Clone for MemNetwork<M> {
    fn clone(&self) -> Self {
        Self {
            links: Arc::clone(&self.links),
        }
    }
}

impl<M> std::fmt::Debug for MemNetwork<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links = self.lock();
        f.debug_struct("MemNetwork")
            .field("nodes", &links.inboxes.keys().collect::<Vec<_>>())
            .field("cut", &links.cut)
            .finish_non_exhaustive()
    }
}

impl<M> MemNetwork<M> {
    /// A network without nodes; `seed` drives message loss.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            links: Arc::new(Mutex::new(Links {
                inboxes: BTreeMap::new(),
                cut: BTreeSet::new(),
                loss_per_million: 0,
                rng: StdRng::seed_from_u64(seed),
                delivered: 0,
                lost: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Links<M>> {
        // A panicking test thread must not hide the network from others.
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attaches node `id`'s inbox (replacing an earlier one: a restart).
    pub fn attach(&self, id: NodeId, inbox: Inbox<M>) {
        self.lock().inboxes.insert(id, inbox);
    }

    /// Detaches node `id`: messages to it are dropped (a crash).
    pub fn detach(&self, id: NodeId) {
        self.lock().inboxes.remove(&id);
    }

    /// The transport node `id` sends through.
    #[must_use]
    pub fn transport(&self, id: NodeId) -> MemTransport<M> {
        MemTransport {
            from: id,
            network: self.clone(),
        }
    }

    /// Cuts both directions between every node of `a` and every node of `b`.
    pub fn partition(&self, a: &[NodeId], b: &[NodeId]) {
        let mut links = self.lock();
        for &x in a {
            for &y in b {
                links.cut.insert((x, y));
                links.cut.insert((y, x));
            }
        }
    }

    /// Cuts every link to and from `id`.
    pub fn isolate(&self, id: NodeId) {
        let others: Vec<NodeId> = self.lock().inboxes.keys().copied().collect();
        self.partition(&[id], &others);
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.lock().cut.clear();
    }

    /// Drops each message with probability `per_million` / 1,000,000.
    pub fn set_loss(&self, per_million: u32) {
        self.lock().loss_per_million = per_million.min(1_000_000);
    }

    /// (delivered, lost) message counts so far.
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        let links = self.lock();
        (links.delivered, links.lost)
    }
}

/// One node's way out onto a [`MemNetwork`].
pub struct MemTransport<M> {
    from: NodeId,
    network: MemNetwork<M>,
}

impl<M> std::fmt::Debug for MemTransport<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemTransport")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl<M: Send + 'static> Transport<M> for MemTransport<M> {
    fn send(&self, to: NodeId, message: M) {
        let mut links = self.network.lock();
        let lost = links.cut.contains(&(self.from, to))
            || (links.loss_per_million > 0
                && links.rng.random_range(0..1_000_000u32) < links.loss_per_million);
        let delivered = !lost
            && links
                .inboxes
                .get(&to)
                .is_some_and(|inbox| inbox.deliver(message));
        if delivered {
            links.delivered += 1;
        } else {
            links.lost += 1;
        }
    }
}
