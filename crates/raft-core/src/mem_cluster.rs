//! A whole Raft cluster in one process, for tests and prototypes
//! (feature `mem-cluster`).
//!
//! Every node runs the crate's call loop over a [`MemStorage`]; messages
//! travel through one FIFO queue, so a run is a pure function of the seed
//! and the calls made. Links can be cut (one way or both), nodes crashed
//! (what they persisted is kept, nothing else) and restarted, and the
//! cluster watches two Raft invariants as it goes: at most one leader per
//! term, and every node applying the same entry at the same index. For
//! faults beyond that (loss, reordering, torn writes, linearizability of
//! client histories) use `synod-sim`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;
use rand::rngs::StdRng;

use crate::{
    ConfChange, Config, Entry, Error, Index, MemStorage, Message, NodeId, Payload, Persist,
    Proposal, RaftNode, ReadState, Role, Snapshot, Storage as _, Term,
};

/// A node of a [`MemCluster`].
pub type MemNode = RaftNode<MemStorage, StdRng>;

/// What a [`MemCluster`] call refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemClusterError {
    /// No node has this id.
    #[error("node {0} is not in the cluster")]
    UnknownNode(NodeId),
    /// The node is crashed; restart it first.
    #[error("node {0} is down")]
    NodeDown(NodeId),
    /// The node is running; crash it first.
    #[error("node {0} is running")]
    NodeUp(NodeId),
    /// A node with this id already exists.
    #[error("node {0} already exists")]
    NodeExists(NodeId),
    /// The node refused (a proposal to a follower, a bad configuration).
    #[error(transparent)]
    Raft(#[from] Error),
}

/// A Raft invariant the cluster saw broken.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetyViolation {
    /// Election safety: two nodes led the same term.
    #[error("two leaders in term {term}: nodes {first} and {second}")]
    TwoLeaders {
        /// The term.
        term: Term,
        /// The node seen leading it first.
        first: NodeId,
        /// The other.
        second: NodeId,
    },
    /// State-machine safety: two nodes applied different entries at one
    /// index.
    #[error("node {node} applied a different entry at index {index} than node {first}")]
    Diverged {
        /// The index.
        index: Index,
        /// The node that applied it first.
        first: NodeId,
        /// The node that applied something else.
        node: NodeId,
    },
}

/// One node: the running Raft node or, while crashed, what it persisted.
#[derive(Debug)]
struct Member {
    config: Config,
    node: Option<MemNode>,
    /// The storage of a crashed node.
    stored: Option<MemStorage>,
    /// Entries applied since the node started or installed a snapshot.
    applied: Vec<Entry>,
    /// The snapshot its state machine was last loaded from.
    snapshot: Option<Snapshot>,
    read_states: Vec<ReadState>,
    starts: u64,
}

/// A Raft cluster in memory: nodes, a FIFO network and the call loop,
/// deterministic by seed.
///
/// ```
/// use synod_raft_core::mem_cluster::MemCluster;
/// let mut cluster = MemCluster::new(&[1, 2, 3], 7).unwrap();
/// let leader = cluster.elect(100).expect("a leader within 100 ticks");
/// cluster.propose(leader, b"x=1".to_vec()).unwrap();
/// cluster.settle();
/// for id in [1, 2, 3] {
///     assert_eq!(cluster.commands(id), [&b"x=1"[..]]);
/// }
/// // The leader is cut off; the other two elect a new one and go on.
/// cluster.isolate(leader);
/// let next = cluster.elect(100).unwrap();
/// assert_ne!(next, leader);
/// cluster.propose(next, b"x=2".to_vec()).unwrap();
/// cluster.heal();
/// cluster.ticks(20);
/// assert_eq!(cluster.commands(leader).len(), 2, "the old leader caught up");
/// cluster.check_safety().unwrap();
/// ```
#[derive(Debug)]
pub struct MemCluster {
    members: BTreeMap<NodeId, Member>,
    network: VecDeque<Message>,
    /// Directed links that drop everything: (from, to).
    cut: BTreeSet<(NodeId, NodeId)>,
    seed: u64,
    /// Who led each term, as seen.
    leaders: BTreeMap<Term, NodeId>,
    /// The first entry applied at each index, and by whom.
    applied_at: BTreeMap<Index, (Entry, NodeId)>,
    violation: Option<SafetyViolation>,
    delivered: u64,
    dropped: u64,
}

/// A bound on deliveries per [`MemCluster::settle`]: a correct cluster
/// settles far sooner; this only keeps a broken one from spinning forever.
const MAX_DELIVERIES_PER_SETTLE: u64 = 1_000_000;

impl MemCluster {
    /// A cluster of `voters` with [`Config::new`] defaults, bootstrapped
    /// with [`MemStorage::bootstrap`] (so nodes can be added later).
    /// Node `id` draws its randomness from `seed` mixed with `id`.
    ///
    /// # Errors
    /// [`MemClusterError::Raft`] for no voters or node 0.
    pub fn new(voters: &[NodeId], seed: u64) -> Result<Self, MemClusterError> {
        Self::with_config(voters, seed, Config::new)
    }

    /// As [`MemCluster::new`] with each node's configuration from
    /// `config(id)` (its `id` field is set to `id` whatever it says).
    ///
    /// # Errors
    /// As [`MemCluster::new`], or the configuration's error.
    pub fn with_config(
        voters: &[NodeId],
        seed: u64,
        config: impl Fn(NodeId) -> Config,
    ) -> Result<Self, MemClusterError> {
        let mut cluster = Self {
            members: BTreeMap::new(),
            network: VecDeque::new(),
            cut: BTreeSet::new(),
            seed,
            leaders: BTreeMap::new(),
            applied_at: BTreeMap::new(),
            violation: None,
            delivered: 0,
            dropped: 0,
        };
        if voters.is_empty() {
            return Err(Error::InvalidMembership("no voters").into());
        }
        for &id in voters {
            let mut c = config(id);
            c.id = id;
            cluster.start(id, c, MemStorage::bootstrap(voters))?;
        }
        Ok(cluster)
    }

    /// Adds a node that starts empty and waits to be added to the
    /// configuration ([`Config::joining`]); propose the change with
    /// [`MemCluster::propose_conf_change`].
    ///
    /// # Errors
    /// [`MemClusterError::NodeExists`], or the configuration's error.
    pub fn add_joining(&mut self, id: NodeId, config: Config) -> Result<(), MemClusterError> {
        if self.members.contains_key(&id) {
            return Err(MemClusterError::NodeExists(id));
        }
        let mut c = config;
        c.id = id;
        c.joining = true;
        self.start(id, c, MemStorage::new())
    }

    fn start(
        &mut self,
        id: NodeId,
        config: Config,
        storage: MemStorage,
    ) -> Result<(), MemClusterError> {
        let starts = self.members.get(&id).map_or(0, |m| m.starts);
        // A fresh stream per start: read ids must not repeat.
        let seed = self.seed ^ id.rotate_left(32) ^ starts.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let snapshot = storage.snapshot(0).ok().filter(|s| s.meta.index > 0);
        let node = RaftNode::with_seed(config.clone(), storage, seed)?;
        self.members.insert(
            id,
            Member {
                config,
                node: Some(node),
                stored: None,
                applied: Vec::new(),
                snapshot,
                read_states: Vec::new(),
                starts: starts + 1,
            },
        );
        Ok(())
    }

    /// The node ids, sorted.
    pub fn ids(&self) -> Vec<NodeId> {
        self.members.keys().copied().collect()
    }

    /// A running node.
    pub fn node(&self, id: NodeId) -> Option<&MemNode> {
        self.members.get(&id)?.node.as_ref()
    }

    /// A running node, to call it directly (then [`MemCluster::settle`]).
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut MemNode> {
        self.members.get_mut(&id)?.node.as_mut()
    }

    /// The running node that leads the highest term, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.members
            .values()
            .filter_map(|m| m.node.as_ref())
            .filter(|n| n.role() == Role::Leader)
            .max_by_key(|n| n.term())
            .map(|n| n.id())
    }

    /// Ticks until some leader is followed, in its term, by a majority of
    /// the voters it can reach (itself included), at most `max_ticks`
    /// times. A leader cut off from the rest does not count, though it
    /// may still believe it leads.
    pub fn elect(&mut self, max_ticks: u32) -> Option<NodeId> {
        for _ in 0..=max_ticks {
            self.settle();
            if let Some(leader) = self.effective_leader() {
                return Some(leader);
            }
            self.tick();
        }
        None
    }

    /// A leader followed by a majority of its voters it can reach.
    fn effective_leader(&self) -> Option<NodeId> {
        self.members
            .values()
            .filter_map(|m| m.node.as_ref())
            .filter(|n| n.role() == Role::Leader)
            .find(|l| {
                let voters = l.conf_state().voters;
                let following = voters
                    .iter()
                    .filter(|&&v| self.reachable(l.id(), v))
                    .filter_map(|v| self.node(*v))
                    .filter(|n| n.leader() == Some(l.id()) && n.term() == l.term())
                    .count();
                following * 2 > voters.len()
            })
            .map(|l| l.id())
    }

    fn reachable(&self, a: NodeId, b: NodeId) -> bool {
        a == b || (!self.cut.contains(&(a, b)) && !self.cut.contains(&(b, a)))
    }

    /// One tick on every running node, then [`MemCluster::settle`].
    pub fn tick(&mut self) {
        for m in self.members.values_mut() {
            if let Some(node) = &mut m.node {
                node.tick();
            }
        }
        self.settle();
    }

    /// `n` ticks.
    pub fn ticks(&mut self, n: u32) {
        for _ in 0..n {
            self.tick();
        }
    }

    /// Runs every node's call loop and delivers messages until nothing is
    /// left to do. Returns the number of messages delivered.
    pub fn settle(&mut self) -> u64 {
        let mut delivered = 0;
        // Members change only between calls, never while settling.
        let ids: Vec<NodeId> = self.members.keys().copied().collect();
        loop {
            for &id in &ids {
                self.drive(id);
            }
            let Some(msg) = self.network.pop_front() else {
                return delivered;
            };
            if delivered >= MAX_DELIVERIES_PER_SETTLE {
                self.network.push_front(msg);
                return delivered;
            }
            delivered += 1;
            self.deliver(msg);
        }
    }

    fn deliver(&mut self, msg: Message) {
        if self.cut.contains(&(msg.from, msg.to)) {
            self.dropped += 1;
            return;
        }
        match self.members.get_mut(&msg.to).and_then(|m| m.node.as_mut()) {
            // A refused message (stale, unknown sender) changes nothing:
            // it counts as dropped, not delivered.
            Some(node) => match node.step(msg) {
                Ok(()) => self.delivered += 1,
                Err(_) => self.dropped += 1,
            },
            None => self.dropped += 1,
        }
    }

    /// One node's call loop until it has nothing ready.
    fn drive(&mut self, id: NodeId) {
        let Some(member) = self.members.get_mut(&id) else {
            return;
        };
        let Some(node) = member.node.as_mut() else {
            return;
        };
        while node.has_ready() {
            let Ok(ready) = node.ready() else {
                return; // MemStorage reads do not fail
            };
            self.network.extend(ready.messages);
            let Persist {
                hard_state,
                snapshot,
                snapshot_pieces,
                staged_snapshot,
                entries,
                after,
                ..
            } = ready.persist;
            for piece in snapshot_pieces {
                if node.storage_mut().stage_piece(piece).is_err() {
                    return;
                }
            }
            if let Some(snapshot) = snapshot {
                if node.storage_mut().apply_snapshot(snapshot.clone()).is_err() {
                    return;
                }
                member.applied.clear();
                member.snapshot = Some(snapshot);
            }
            if let Some(meta) = staged_snapshot {
                if node.storage_mut().install_staged(&meta).is_err() {
                    return;
                }
                let Ok(installed) = node.log().storage().snapshot(meta.index) else {
                    return;
                };
                member.applied.clear();
                member.snapshot = Some(installed);
            }
            if node.storage_mut().append(entries).is_err() {
                return;
            }
            if let Some(hs) = hard_state {
                node.storage_mut().set_hard_state(hs);
            }
            let done = after.persisted();
            self.network.extend(done.messages);
            node.on_persisted(done.receipt);
            for entry in ready.committed_entries {
                let index = entry.index;
                match self.applied_at.get(&index) {
                    Some((first, by)) if *first != entry => {
                        self.violation.get_or_insert(SafetyViolation::Diverged {
                            index,
                            first: *by,
                            node: id,
                        });
                    }
                    Some(_) => {}
                    None => {
                        self.applied_at.insert(index, (entry.clone(), id));
                    }
                }
                member.applied.push(entry);
                node.on_applied(index);
            }
            member.read_states.extend(ready.read_states);
        }
        if node.role() == Role::Leader {
            let term = node.term();
            match self.leaders.get(&term) {
                Some(&first) if first != id => {
                    self.violation.get_or_insert(SafetyViolation::TwoLeaders {
                        term,
                        first,
                        second: id,
                    });
                }
                Some(_) => {}
                None => {
                    self.leaders.insert(term, id);
                }
            }
        }
    }

    fn running(&mut self, id: NodeId) -> Result<&mut MemNode, MemClusterError> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(MemClusterError::UnknownNode(id))?;
        member.node.as_mut().ok_or(MemClusterError::NodeDown(id))
    }

    /// Proposes `data` at node `id` (call [`MemCluster::settle`] or tick
    /// to replicate it).
    ///
    /// # Errors
    /// [`MemClusterError::UnknownNode`], [`MemClusterError::NodeDown`], or
    /// the node's refusal (not the leader, ...).
    pub fn propose(
        &mut self,
        id: NodeId,
        data: impl Into<Bytes>,
    ) -> Result<Proposal, MemClusterError> {
        Ok(self.running(id)?.propose(data)?)
    }

    /// Proposes a membership change at node `id`.
    ///
    /// # Errors
    /// As [`MemCluster::propose`].
    pub fn propose_conf_change(
        &mut self,
        id: NodeId,
        change: ConfChange,
    ) -> Result<Index, MemClusterError> {
        Ok(self.running(id)?.propose_conf_change(change)?)
    }

    /// Entries node `id` applied since it started or installed a
    /// snapshot (commands, no-ops and configuration changes).
    pub fn applied(&self, id: NodeId) -> &[Entry] {
        self.members.get(&id).map_or(&[], |m| &m.applied)
    }

    /// The commands node `id` applied since it started or installed a
    /// snapshot, in order.
    pub fn commands(&self, id: NodeId) -> Vec<Bytes> {
        self.applied(id)
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::Command(data) => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    /// The snapshot node `id`'s state machine was last loaded from (one a
    /// leader sent, or its own on restart).
    pub fn loaded_snapshot(&self, id: NodeId) -> Option<&Snapshot> {
        self.members.get(&id)?.snapshot.as_ref()
    }

    /// Takes the reads node `id` can now serve (from
    /// [`RaftNode::read_index`]).
    pub fn take_read_states(&mut self, id: NodeId) -> Vec<ReadState> {
        self.members
            .get_mut(&id)
            .map(|m| std::mem::take(&mut m.read_states))
            .unwrap_or_default()
    }

    /// Snapshots node `id`'s state at its applied index with `data` (the
    /// application's state) and compacts its log up to there, so a
    /// follower that falls behind is sent the snapshot. Returns the index.
    ///
    /// # Errors
    /// [`MemClusterError::UnknownNode`], [`MemClusterError::NodeDown`], or
    /// a storage error (nothing applied since the last snapshot).
    pub fn snapshot_and_compact(
        &mut self,
        id: NodeId,
        data: impl Into<Bytes>,
    ) -> Result<Index, MemClusterError> {
        let node = self.running(id)?;
        let index = node.status().applied;
        let conf_state = node.conf_state();
        let storage = node.storage_mut();
        storage
            .create_snapshot(index, conf_state, data)
            .map_err(Error::from)?;
        storage.compact(index).map_err(Error::from)?;
        Ok(index)
    }

    /// Drops every message from `from` to `to` until healed.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    /// Cuts node `id` off from every other node, both ways.
    pub fn isolate(&mut self, id: NodeId) {
        let others: Vec<NodeId> = self.members.keys().copied().filter(|&o| o != id).collect();
        for other in others {
            self.cut.insert((id, other));
            self.cut.insert((other, id));
        }
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Crashes node `id`: what it persisted stays, everything else (its
    /// volatile state, its messages in flight) is lost.
    ///
    /// # Errors
    /// [`MemClusterError::UnknownNode`] or [`MemClusterError::NodeDown`].
    pub fn crash(&mut self, id: NodeId) -> Result<(), MemClusterError> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(MemClusterError::UnknownNode(id))?;
        let mut node = member.node.take().ok_or(MemClusterError::NodeDown(id))?;
        member.stored = Some(std::mem::take(node.storage_mut()));
        self.network.retain(|m| m.from != id && m.to != id);
        Ok(())
    }

    /// Restarts a crashed node from its storage; it applies the committed
    /// entries again from its snapshot on.
    ///
    /// # Errors
    /// [`MemClusterError::UnknownNode`], [`MemClusterError::NodeUp`], or
    /// the node's refusal to start.
    pub fn restart(&mut self, id: NodeId) -> Result<(), MemClusterError> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(MemClusterError::UnknownNode(id))?;
        if member.node.is_some() {
            return Err(MemClusterError::NodeUp(id));
        }
        let storage = member.stored.take().unwrap_or_default();
        let config = member.config.clone();
        if let Err(e) = self.start(id, config.clone(), storage.clone()) {
            // Keep the storage for another try.
            if let Some(m) = self.members.get_mut(&id) {
                m.stored = Some(storage);
            }
            return Err(e);
        }
        Ok(())
    }

    /// The first Raft invariant the cluster saw broken, if any: two
    /// leaders in one term, or two different entries applied at one index
    /// (across crashes and restarts too).
    ///
    /// # Errors
    /// The [`SafetyViolation`].
    pub fn check_safety(&self) -> Result<(), SafetyViolation> {
        self.violation.clone().map_or(Ok(()), Err)
    }

    /// Messages delivered, and messages dropped (cut links, crashed or
    /// unknown addressees, refused by the node), since the start.
    pub fn message_counts(&self) -> (u64, u64) {
        (self.delivered, self.dropped)
    }
}
