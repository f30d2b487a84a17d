//! A small scripted cluster of Multi-Paxos nodes for the rule tests that
//! need several nodes: per-node configurations, links cut and restored,
//! every message delivered one tick after it is sent.

#![allow(dead_code)] // each test file uses part of it

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::{Config, Message, PaxosNode, ReadId, Role};
use synod_protocol::{MemStorage, NodeId, Storage};

pub(crate) type Node = PaxosNode<MemStorage, StdRng>;

pub(crate) struct Cluster {
    pub(crate) nodes: BTreeMap<NodeId, Node>,
    /// Directed links that are cut.
    pub(crate) cut: BTreeSet<(NodeId, NodeId)>,
    pub(crate) in_flight: Vec<Message>,
    /// Reads answered: (node, id, tick).
    pub(crate) answered: Vec<(NodeId, ReadId, u64)>,
    pub(crate) now: u64,
}

impl Cluster {
    /// Nodes 1..=n, node `id` configured by `config(id)`.
    pub(crate) fn new(n: u64, seed: u64, config: impl Fn(NodeId) -> Config) -> Self {
        let ids: Vec<NodeId> = (1..=n).collect();
        Self::with_voters(n, &ids, seed, config)
    }

    /// Nodes 1..=n started from a log whose voters are `voters` (the others
    /// wait to be added).
    pub(crate) fn with_voters(
        n: u64,
        voters: &[NodeId],
        seed: u64,
        config: impl Fn(NodeId) -> Config,
    ) -> Self {
        let nodes = (1..=n)
            .map(|id| {
                let rng = StdRng::seed_from_u64(seed * 1000 + id);
                let node = PaxosNode::new(config(id), MemStorage::bootstrap(voters), rng).unwrap();
                (id, node)
            })
            .collect();
        Self {
            nodes,
            cut: BTreeSet::new(),
            in_flight: Vec::new(),
            answered: Vec::new(),
            now: 0,
        }
    }

    /// Cuts every link to and from `id`.
    pub(crate) fn isolate(&mut self, id: NodeId) {
        for &other in self.nodes.keys() {
            if other != id {
                self.cut.insert((id, other));
                self.cut.insert((other, id));
            }
        }
    }

    pub(crate) fn heal(&mut self) {
        self.cut.clear();
    }

    /// Write, send, apply, until the node has nothing to do.
    pub(crate) fn drive(&mut self, id: NodeId) {
        let now = self.now;
        let node = self.nodes.get_mut(&id).unwrap();
        while node.has_ready() {
            let ready = node.ready().unwrap();
            node.storage_mut().apply_write(ready.write.clone()).unwrap();
            self.in_flight.extend(ready.messages);
            let written = ready.after_write.written();
            self.in_flight.extend(written.messages);
            node.on_written(written.receipt);
            if let Some(last) = ready.committed.last() {
                node.on_applied(last.index);
            }
            for r in ready.reads {
                self.answered.push((id, r.id, now));
            }
        }
    }

    /// One tick everywhere, then every message sent before it arrives.
    pub(crate) fn tick(&mut self) {
        self.now += 1;
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for &id in &ids {
            self.nodes.get_mut(&id).unwrap().tick();
            self.drive(id);
        }
        self.deliver();
    }

    /// One tick everywhere, then what is in flight delivered in rounds
    /// (at most 20) within the tick. Messages to `watched` on links that are
    /// not cut are recorded in `seen`, and lost when `drop` picks them.
    pub(crate) fn tick_watching(
        &mut self,
        watched: NodeId,
        seen: &mut Vec<Message>,
        drop: &mut impl FnMut(&Message) -> bool,
    ) {
        self.now += 1;
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for i in ids {
            self.nodes.get_mut(&i).unwrap().tick();
            self.drive(i);
        }
        for _ in 0..20 {
            let flight = std::mem::take(&mut self.in_flight);
            if flight.is_empty() {
                break;
            }
            for m in flight {
                if self.cut.contains(&(m.from, m.to)) {
                    continue;
                }
                if m.to == watched {
                    seen.push(m.clone());
                    if drop(&m) {
                        continue;
                    }
                }
                let to = m.to;
                let _ = self.nodes.get_mut(&to).unwrap().step(m);
                self.drive(to);
            }
        }
    }

    /// Delivers what is in flight (no tick); what that sends waits.
    pub(crate) fn deliver(&mut self) {
        for m in std::mem::take(&mut self.in_flight) {
            if self.cut.contains(&(m.from, m.to)) {
                continue;
            }
            let to = m.to;
            if let Some(node) = self.nodes.get_mut(&to) {
                let _ = node.step(m);
                self.drive(to);
            }
        }
    }

    /// Delivers until nothing is in flight (at most 100 rounds).
    pub(crate) fn stabilize(&mut self) {
        for _ in 0..100 {
            if self.in_flight.is_empty() {
                return;
            }
            self.deliver();
        }
    }

    pub(crate) fn ticks(&mut self, n: u64) {
        for _ in 0..n {
            self.tick();
        }
    }

    /// The leader of the highest ballot, if any.
    pub(crate) fn leader(&self) -> Option<NodeId> {
        self.nodes
            .values()
            .filter(|n| n.role() == Role::Leader)
            .max_by_key(|n| n.promised())
            .map(Node::id)
    }

    /// Ticks until some node leads (at most `budget`).
    pub(crate) fn until_leader(&mut self, budget: u64) -> NodeId {
        for _ in 0..budget {
            if let Some(l) = self.leader() {
                return l;
            }
            self.tick();
        }
        panic!("no leader within {budget} ticks");
    }

    /// Proposes through node `id` and drives it.
    pub(crate) fn propose(&mut self, id: NodeId, data: &'static [u8]) -> bool {
        let ok = self
            .nodes
            .get_mut(&id)
            .unwrap()
            .propose(Bytes::from_static(data))
            .is_ok();
        self.drive(id);
        ok
    }

    /// Starts a read on node `id`; whether it was answered at once (in
    /// the same hand-off, with no round trip).
    pub(crate) fn read_at_once(&mut self, id: NodeId) -> Option<bool> {
        let rid = self.nodes.get_mut(&id).unwrap().read_index()?;
        self.drive(id);
        Some(self.answered.iter().any(|&(n, r, _)| n == id && r == rid))
    }

    /// Node `id`'s log term at `index`, if held.
    pub(crate) fn term(&self, id: NodeId, index: u64) -> Option<u64> {
        self.nodes[&id].storage().term(index).ok()
    }
}
