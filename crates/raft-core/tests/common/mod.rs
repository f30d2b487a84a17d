//! A small deterministic cluster for node-level tests: in-memory storage,
//! a seeded network that can drop messages and cut links, and checkers for
//! election safety and state-machine safety. (The full simulator with
//! crash-restarts, reordering and linearizability checks is synod-sim.)
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use synod_raft_core::*;

pub type Node = RaftNode<MemStorage, StdRng>;

pub struct Cluster {
    pub nodes: BTreeMap<NodeId, Node>,
    /// Commands each node applied, in order.
    pub applied: BTreeMap<NodeId, Vec<(Index, Vec<u8>)>>,
    pub network: VecDeque<Message>,
    /// Directed links that drop everything.
    pub cut: BTreeSet<(NodeId, NodeId)>,
    /// Probability of dropping any message.
    pub drop_rate: f64,
    /// Probability of delivering a message twice.
    pub dup_rate: f64,
    /// Probability of moving a message behind the next one (reordering).
    pub reorder_rate: f64,
    rng: StdRng,
    /// Election safety: the one leader seen for each term.
    pub leaders_by_term: BTreeMap<Term, NodeId>,
    pub seed: u64,
    /// The state machine as of each snapshot index (the snapshot's data
    /// stands for it), so a node that installs one has the same history.
    pub snapshots: BTreeMap<Index, Vec<(Index, Vec<u8>)>>,
    /// Snapshots installed, per node.
    pub installed: BTreeMap<NodeId, usize>,
    /// Snapshot pieces each node handed its storage to stage: (offset,
    /// length), in order.
    pub staged: BTreeMap<NodeId, Vec<(u64, usize)>>,
    /// Read states each node received, in order.
    pub reads: BTreeMap<NodeId, Vec<ReadState>>,
    /// Each node's configuration, to restart it.
    configs: BTreeMap<NodeId, Config>,
    pub restarts: u64,
}

impl Cluster {
    pub fn new(n: u64, seed: u64) -> Self {
        Self::with_config(n, seed, Config::new)
    }

    pub fn with_config(n: u64, seed: u64, config: impl Fn(NodeId) -> Config) -> Self {
        Self::build(n, seed, config, MemStorage::with_voters)
    }

    /// A cluster whose configuration is in the log (entry 1), so nodes can
    /// join later.
    pub fn bootstrapped(n: u64, seed: u64) -> Self {
        Self::build(n, seed, Config::new, MemStorage::bootstrap)
    }

    fn build(
        n: u64,
        seed: u64,
        config: impl Fn(NodeId) -> Config,
        storage: fn(&[NodeId]) -> MemStorage,
    ) -> Self {
        let ids: Vec<NodeId> = (1..=n).collect();
        let mut nodes = BTreeMap::new();
        let mut configs = BTreeMap::new();
        for &id in &ids {
            let rng = StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(id));
            let node = RaftNode::new(config(id), storage(&ids), rng).unwrap();
            nodes.insert(id, node);
            configs.insert(id, config(id));
        }
        Self {
            applied: ids.iter().map(|&id| (id, Vec::new())).collect(),
            nodes,
            network: VecDeque::new(),
            cut: BTreeSet::new(),
            drop_rate: 0.0,
            dup_rate: 0.0,
            reorder_rate: 0.0,
            rng: StdRng::seed_from_u64(seed),
            leaders_by_term: BTreeMap::new(),
            seed,
            snapshots: BTreeMap::new(),
            installed: BTreeMap::new(),
            staged: BTreeMap::new(),
            reads: BTreeMap::new(),
            configs,
            restarts: 0,
        }
    }

    /// Runs one node's ready loop until it has nothing more: send what may
    /// go now, persist, send what waited, apply, report back.
    pub fn process(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        while node.has_ready() {
            let ready = node.ready().unwrap();
            self.reads.entry(id).or_default().extend(ready.read_states);
            self.network.extend(ready.messages);
            let persist = ready.persist;
            for piece in &persist.snapshot_pieces {
                assert!(
                    node.log().storage().stages_snapshots(),
                    "pieces to a store that does not stage"
                );
                self.staged
                    .entry(id)
                    .or_default()
                    .push((piece.offset, piece.data.len()));
                node.storage_mut().stage_piece(piece.clone()).unwrap();
            }
            if let Some(snap) = &persist.snapshot {
                node.storage_mut().apply_snapshot(snap.clone()).unwrap();
            }
            if let Some(meta) = &persist.staged_snapshot {
                node.storage_mut().install_staged(meta).unwrap();
            }
            if let Some(index) = persist
                .snapshot
                .as_ref()
                .map(|s| s.meta.index)
                .or(persist.staged_snapshot.as_ref().map(|m| m.index))
            {
                let state = self.snapshots[&index].clone();
                *self.applied.get_mut(&id).unwrap() = state;
                *self.installed.entry(id).or_default() += 1;
            }
            node.storage_mut().append(&*persist.entries).unwrap();
            if let Some(hs) = persist.hard_state {
                node.storage_mut().set_hard_state(hs);
            }
            let done = persist.persisted();
            self.network.extend(done.messages);
            node.on_persisted(done.receipt);
            for e in ready.committed_entries {
                if let Payload::Command(data) = e.payload {
                    self.applied
                        .get_mut(&id)
                        .unwrap()
                        .push((e.index, data.to_vec()));
                }
                node.on_applied(e.index);
            }
        }
        if node.role() == Role::Leader {
            let term = node.term();
            let first = *self.leaders_by_term.entry(term).or_insert(id);
            assert_eq!(
                first, id,
                "seed {}: two leaders in term {term}: {first} and {id}",
                self.seed
            );
        }
    }

    pub fn process_all(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            self.process(id);
        }
    }

    /// Delivers queued messages (and what they cause) until the network is
    /// quiet or `limit` messages went through.
    pub fn deliver(&mut self, limit: usize) {
        self.process_all();
        let mut n = 0;
        while let Some(msg) = self.network.pop_front() {
            n += 1;
            if n > limit {
                break;
            }
            if self.cut.contains(&(msg.from, msg.to)) || self.rng.random_bool(self.drop_rate) {
                continue;
            }
            if self.reorder_rate > 0.0
                && !self.network.is_empty()
                && self.rng.random_bool(self.reorder_rate)
            {
                // Deliver the next message first; this one after it.
                let next = self.network.pop_front().expect("non-empty");
                self.network.push_front(msg);
                self.network.push_front(next);
                continue;
            }
            if self.rng.random_bool(self.dup_rate) {
                self.network.push_back(msg.clone());
            }
            let to = msg.to;
            if let Some(node) = self.nodes.get_mut(&to) {
                let _ = node.step(msg);
                self.process(to);
            }
        }
    }

    pub fn tick_all(&mut self) {
        for node in self.nodes.values_mut() {
            node.tick();
        }
        self.deliver(100_000);
    }

    pub fn run_ticks(&mut self, ticks: usize) {
        for _ in 0..ticks {
            self.tick_all();
        }
    }

    /// The leader of the highest term, if one is currently leading.
    pub fn leader(&self) -> Option<NodeId> {
        self.nodes
            .values()
            .filter(|n| n.role() == Role::Leader)
            .max_by_key(|n| n.term())
            .map(|n| n.id())
    }

    /// Cuts every link between `a` and the rest, both ways.
    pub fn isolate(&mut self, a: NodeId) {
        for &b in self.nodes.keys() {
            if a != b {
                self.cut.insert((a, b));
                self.cut.insert((b, a));
            }
        }
    }

    /// Splits the cluster into two groups that cannot talk.
    pub fn partition(&mut self, group: &[NodeId]) {
        for &a in self.nodes.keys() {
            for &b in self.nodes.keys() {
                if group.contains(&a) != group.contains(&b) {
                    self.cut.insert((a, b));
                }
            }
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Raft §5.4.3 / state-machine safety: every node applied a prefix of
    /// the same sequence, each index at most once, in order.
    pub fn check_applied_prefixes(&self) {
        let longest = self.applied.values().max_by_key(|v| v.len()).unwrap();
        for (id, seq) in &self.applied {
            assert_eq!(
                &longest[..seq.len()],
                &seq[..],
                "seed {}: node {id} applied a different sequence",
                self.seed
            );
            assert!(
                seq.windows(2).all(|w| w[0].0 < w[1].0),
                "seed {}: node {id} applied out of order",
                self.seed
            );
        }
    }

    /// Proposes through the current leader, if any.
    pub fn propose(&mut self, data: &[u8]) -> Option<Index> {
        let leader = self.leader()?;
        let proposal = self
            .nodes
            .get_mut(&leader)
            .unwrap()
            .propose(data.to_vec())
            .ok()?;
        self.deliver(100_000);
        match proposal {
            Proposal::Appended { index, .. } => Some(index),
            Proposal::Forwarded { .. } => None,
        }
    }

    /// Snapshots `id`'s state machine at its applied index and compacts
    /// its log, keeping `keep_tail` entries before that index.
    pub fn compact(&mut self, id: NodeId, keep_tail: u64) {
        let node = self.nodes.get_mut(&id).unwrap();
        let conf = node.conf_state();
        let applied = node.log().applied();
        let snapshotted = node.log().storage().snapshot(0).map_or(0, |s| s.meta.index);
        if applied <= snapshotted {
            return;
        }
        let state = self.applied[&id].clone();
        self.snapshots.insert(applied, state);
        node.storage_mut()
            .create_snapshot(applied, conf, applied.to_le_bytes().to_vec())
            .unwrap();
        let first = node.log().storage().first_index().unwrap();
        let to = applied.saturating_sub(keep_tail);
        if to >= first {
            node.storage_mut().compact(to).unwrap();
        }
    }

    /// Crashes node `id` and starts it again from its storage. Everything
    /// it persisted survives (the harness persists before sending); its
    /// state machine restarts from its latest snapshot.
    pub fn restart(&mut self, id: NodeId) {
        let old = self.nodes.remove(&id).unwrap();
        let storage = old.log().storage().clone();
        let snap = storage.snapshot(0).map_or(0, |s| s.meta.index);
        let state = if snap > 0 {
            self.snapshots[&snap].clone()
        } else {
            Vec::new()
        };
        self.applied.insert(id, state);
        self.restarts += 1;
        let rng = StdRng::seed_from_u64(self.seed ^ (self.restarts << 32) ^ id);
        let config = Config {
            applied: snap,
            ..self.configs[&id].clone()
        };
        self.nodes
            .insert(id, RaftNode::new(config, storage, rng).unwrap());
    }

    /// Starts node `id` with an empty configuration: it joins once the
    /// cluster adds it.
    pub fn add_joining_node(&mut self, id: NodeId) {
        let rng = StdRng::seed_from_u64(self.seed.wrapping_mul(1000).wrapping_add(id));
        let config = Config {
            joining: true,
            ..Config::new(id)
        };
        let node = RaftNode::new(config.clone(), MemStorage::new(), rng).unwrap();
        self.nodes.insert(id, node);
        self.configs.insert(id, config);
        self.applied.insert(id, Vec::new());
    }

    /// Proposes a membership change through the leader and runs until it
    /// (and the automatic leave of a joint configuration) is applied.
    pub fn change(&mut self, cc: ConfChange) -> Result<Index, Error> {
        let leader = self.leader().expect("a leader");
        let index = self.node_mut(leader).propose_conf_change(cc)?;
        self.deliver(100_000);
        self.run_ticks(3);
        Ok(index)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[&id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(&id).unwrap()
    }

    pub fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// A node of a static cluster of `voters`, seeded by its id.
pub fn node(id: NodeId, voters: &[NodeId]) -> Node {
    RaftNode::new(
        Config::new(id),
        MemStorage::with_voters(voters),
        StdRng::seed_from_u64(id),
    )
    .unwrap()
}

/// An empty entry at (`index`, `term`).
pub fn noop(index: Index, term: Term) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Noop,
    }
}

/// A message from `from` to `to` in `term`.
pub fn msg(from: NodeId, to: NodeId, term: Term, body: MessageBody) -> Message {
    Message {
        from,
        to,
        term,
        body,
    }
}

/// Runs one node's ready loop with its own storage, returning every message
/// it sends (immediate and after persistence).
pub fn drain(n: &mut Node) -> Vec<Message> {
    drain_with_reads(n).0
}

/// As [`drain`], also returning the read states handed out.
pub fn drain_with_reads(n: &mut Node) -> (Vec<Message>, Vec<ReadState>) {
    let (mut out, mut reads) = (Vec::new(), Vec::new());
    while n.has_ready() {
        let ready = n.ready().unwrap();
        out.extend(ready.messages);
        reads.extend(ready.read_states);
        let persist = ready.persist;
        for piece in &persist.snapshot_pieces {
            n.storage_mut().stage_piece(piece.clone()).unwrap();
        }
        if let Some(snapshot) = &persist.snapshot {
            n.storage_mut().apply_snapshot(snapshot.clone()).unwrap();
        }
        if let Some(meta) = &persist.staged_snapshot {
            n.storage_mut().install_staged(meta).unwrap();
        }
        n.storage_mut().append(&*persist.entries).unwrap();
        if let Some(hs) = persist.hard_state {
            n.storage_mut().set_hard_state(hs);
        }
        let done = persist.persisted();
        out.extend(done.messages);
        n.on_persisted(done.receipt);
        for e in ready.committed_entries {
            n.on_applied(e.index);
        }
    }
    (out, reads)
}

/// Node 1 of `voters` with a persisted log of no-ops of `terms` (from
/// index 1), hard state (`term`, no vote, `commit`), elected leader of
/// `term + 1` by votes of the smallest majority (pre-vote off); what it
/// sent so far is returned beside it, not delivered.
pub fn elected_with_log(
    voters: &[NodeId],
    terms: &[Term],
    term: Term,
    commit: Index,
) -> (Node, Vec<Message>) {
    let mut storage = MemStorage::with_voters(voters);
    let entries: Vec<Entry> = (1..).zip(terms).map(|(i, &t)| noop(i, t)).collect();
    storage.append(entries).unwrap();
    storage.set_hard_state(HardState {
        term,
        vote: None,
        commit,
    });
    let config = Config {
        pre_vote: false,
        ..Config::new(1)
    };
    let mut n = RaftNode::new(config, storage, StdRng::seed_from_u64(1)).unwrap();
    n.campaign();
    let mut sent = drain(&mut n);
    assert_eq!(n.term(), term + 1);
    let granted = MessageBody::VoteResponse {
        pre_vote: false,
        granted: true,
    };
    for &from in voters.iter().filter(|&&v| v != 1).take(voters.len() / 2) {
        n.step(msg(from, 1, term + 1, granted.clone())).unwrap();
    }
    assert_eq!(n.role(), Role::Leader);
    sent.extend(drain(&mut n));
    (n, sent)
}
