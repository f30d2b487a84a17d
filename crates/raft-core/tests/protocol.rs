//! raft-core driven only through synod-protocol's `Protocol` trait: what a
//! generic driver (synod-node, synod-sim) relies on.

use std::collections::{BTreeMap, VecDeque};

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_protocol::{Bytes, MemStorage, Payload, Proposed, Protocol, Refusal, Role};
use synod_raft_core::{Config, RaftNode};

type Node = RaftNode<MemStorage, StdRng>;

/// A tiny generic driver: every replica's work is done at once, messages
/// are delivered in order, and what each replica applied is recorded.
struct Cluster<P: Protocol<Storage = MemStorage>> {
    nodes: BTreeMap<u64, P>,
    inflight: VecDeque<P::Message>,
    applied: BTreeMap<u64, Vec<Bytes>>,
    /// Messages released by a write, checked against the write's own
    /// durability: (node, whether its storage held the write).
    released_after_durable: usize,
}

impl<P: Protocol<Storage = MemStorage>> Cluster<P> {
    fn new(ids: &[u64], options: &P::Options, rng: impl Fn(u64) -> P::Rng) -> Self {
        let nodes = ids
            .iter()
            .map(|&id| {
                let node =
                    P::start(id, options, MemStorage::bootstrap(ids), rng(id)).expect("starts");
                (id, node)
            })
            .collect();
        Self {
            nodes,
            inflight: VecDeque::new(),
            applied: BTreeMap::new(),
            released_after_durable: 0,
        }
    }

    fn process(&mut self, id: u64) {
        let node = self.nodes.get_mut(&id).expect("a node");
        while node.has_ready() {
            let ready = node.ready().expect("ready");
            self.inflight.extend(ready.messages);
            let write = ready.write;
            let last = write.entries.last().map(|e| (e.index, e.term));
            node.storage_mut().apply_write(write).expect("the write");
            // Only now, with the write in storage, may the held messages go.
            if let Some((index, term)) = last {
                assert_eq!(node.storage().entries_at(index), Some(term));
            }
            let written = ready.after_write.written();
            self.released_after_durable += written.messages.len();
            self.inflight.extend(written.messages);
            node.on_written(written.receipt);
            for entry in ready.committed {
                if let Payload::Command(data) = entry.payload {
                    self.applied.entry(id).or_default().push(data);
                }
                node.on_applied(entry.index);
            }
        }
    }

    fn settle(&mut self) {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for _ in 0..10_000 {
            for &id in &ids {
                self.process(id);
            }
            let Some(msg) = self.inflight.pop_front() else {
                return;
            };
            let to = P::addressee(&msg);
            if let Some(node) = self.nodes.get_mut(&to) {
                // Refusals are informational: a generic driver ignores them.
                let _ = node.step(msg);
            }
        }
        panic!("the cluster did not settle");
    }

    fn elect(&mut self) -> u64 {
        for _ in 0..200 {
            for node in self.nodes.values_mut() {
                node.tick();
            }
            self.settle();
            if let Some((&id, _)) = self
                .nodes
                .iter()
                .find(|(_, n)| n.status().role == Role::Leader)
            {
                return id;
            }
        }
        panic!("no leader after 200 ticks");
    }
}

/// `MemStorage` has no direct term lookup by index in its inherent API
/// through the trait object; this reads it via `Storage::term`.
trait TermAt {
    fn entries_at(&self, index: u64) -> Option<u64>;
}

impl TermAt for MemStorage {
    fn entries_at(&self, index: u64) -> Option<u64> {
        synod_protocol::Storage::term(self, index).ok()
    }
}

fn raft_cluster() -> Cluster<Node> {
    Cluster::<Node>::new(&[1, 2, 3], &Config::new(1), StdRng::seed_from_u64)
}

#[test]
fn a_cluster_driven_through_the_trait_elects_commits_and_applies() {
    let mut c = raft_cluster();
    let leader = c.elect();
    let status = Protocol::status(&c.nodes[&leader]);
    assert_eq!(status.leader, Some(leader));
    assert_eq!(status.id, leader);
    for i in 0..20u8 {
        let got = c
            .nodes
            .get_mut(&leader)
            .map(|n| Protocol::propose(n, Bytes::from(vec![i; 3])))
            .expect("leader")
            .expect("the leader takes it");
        assert!(matches!(got, Proposed::Appended { .. }), "{got:?}");
    }
    c.settle();
    let want: Vec<Bytes> = (0..20u8).map(|i| Bytes::from(vec![i; 3])).collect();
    for id in [1, 2, 3] {
        assert_eq!(c.applied.get(&id), Some(&want), "node {id} applied");
        let s = Protocol::status(&c.nodes[&id]);
        assert_eq!(s.applied, s.committed, "node {id}");
        assert_eq!(s.leader, Some(leader), "node {id}");
    }
    assert!(
        c.released_after_durable > 0,
        "acknowledgements travel only through after_write"
    );
}

#[test]
fn a_follower_refuses_with_the_leader_it_knows() {
    let mut c = raft_cluster();
    let leader = c.elect();
    let follower = [1, 2, 3].into_iter().find(|&id| id != leader).expect("one");
    let node = c.nodes.get_mut(&follower).expect("follower");
    assert_eq!(Protocol::status(node).role, Role::Follower);
    assert_eq!(
        Protocol::propose(node, Bytes::from_static(b"x")),
        Err(Refusal::NotLeader {
            leader: Some(leader)
        })
    );
    assert_eq!(
        Protocol::change_membership(
            node,
            synod_protocol::ConfChange::single(synod_protocol::ConfChangeKind::AddVoter, 4)
        ),
        Err(Refusal::NotLeader {
            leader: Some(leader)
        })
    );
    let l = c.nodes.get_mut(&leader).expect("leader");
    assert_eq!(Protocol::propose(l, Bytes::new()), Err(Refusal::Empty));
    assert!(matches!(
        Protocol::transfer_leadership(l, 99),
        Err(Refusal::Membership(_))
    ));
}

#[test]
fn a_read_comes_back_with_an_index_at_or_past_the_commit() {
    let mut c = raft_cluster();
    let leader = c.elect();
    let node = c.nodes.get_mut(&leader).expect("leader");
    Protocol::propose(node, Bytes::from_static(b"w")).expect("taken");
    let committed_before = Protocol::status(node).committed;
    let id = Protocol::read(node).expect("a read starts");
    let mut seen = None;
    for _ in 0..100 {
        let node = c.nodes.get_mut(&leader).expect("leader");
        if Protocol::has_ready(node) {
            let ready = Protocol::ready(node).expect("ready");
            if let Some(r) = ready.reads.iter().find(|r| r.id == id) {
                seen = Some(r.index);
            }
            c.inflight.extend(ready.messages);
            Protocol::storage_mut(node)
                .apply_write(ready.write)
                .expect("the write");
            let w = ready.after_write.written();
            c.inflight.extend(w.messages);
            Protocol::on_written(node, w.receipt);
            for e in ready.committed {
                Protocol::on_applied(node, e.index);
            }
        }
        if seen.is_some() {
            break;
        }
        if let Some(msg) = c.inflight.pop_front() {
            let to = Node::addressee(&msg);
            let _ = c.nodes.get_mut(&to).map(|n| Protocol::step(n, msg));
        }
        for id in [1, 2, 3] {
            if id != leader {
                c.process(id);
            }
        }
    }
    let index = seen.expect("the read was confirmed");
    assert!(index >= committed_before, "{index} < {committed_before}");
}
