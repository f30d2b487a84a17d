//! The partial-connectivity scenarios of the OmniPaxos paper (EuroSys '23,
//! §2): quorum loss, a constrained election, and a chain. Each runs the
//! same scripted links on synod-paxos-core and on synod-raft-core (pre-vote
//! and check-quorum on), both driven only through synod-protocol's
//! `Protocol` trait, and measures the ticks from the cut until a proposal
//! made after it is committed. Multi-Paxos must recover in each; raft's
//! outcome is reported beside it (`--nocapture` prints the table that
//! docs/paxos.md quotes). The synod-raft-core-bench binary `paxos_recovery`
//! includes this file to draw the same figures as docs/paxos-recovery.png.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_protocol::{MemStorage, NodeId, Proposed, Protocol, Role, Storage};

pub(crate) type Paxos = synod_paxos_core::PaxosNode<MemStorage, StdRng>;
pub(crate) type Raft = synod_raft_core::RaftNode<MemStorage, StdRng>;

/// Ticks allowed for recovery after the cut.
pub(crate) const BUDGET: u64 = 400;

struct Cluster<P: Protocol> {
    nodes: BTreeMap<NodeId, P>,
    /// Undirected links that carry messages.
    links: BTreeSet<(NodeId, NodeId)>,
    /// Messages delivered at the next tick.
    in_flight: Vec<P::Message>,
}

impl<P> Cluster<P>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    fn new(n: u64, options: &P::Options, seed: u64) -> Self {
        let ids: Vec<NodeId> = (1..=n).collect();
        let nodes = ids
            .iter()
            .map(|&id| {
                let rng = StdRng::seed_from_u64(seed * 100 + id);
                let node = P::start(id, options, MemStorage::bootstrap(&ids), rng).unwrap();
                (id, node)
            })
            .collect();
        let mut c = Self {
            nodes,
            links: BTreeSet::new(),
            in_flight: Vec::new(),
        };
        c.connect_all();
        c
    }

    fn connect_all(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        self.links.clear();
        for &a in &ids {
            for &b in &ids {
                if a < b {
                    self.links.insert((a, b));
                }
            }
        }
    }

    fn only(&mut self, links: &[(NodeId, NodeId)]) {
        self.links = links.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    }

    fn linked(&self, a: NodeId, b: NodeId) -> bool {
        self.links.contains(&(a.min(b), a.max(b)))
    }

    /// Runs a node's hand-off loop: write, send, apply.
    fn drive(&mut self, id: NodeId) {
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
        }
    }

    fn tick(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for &id in &ids {
            self.nodes.get_mut(&id).unwrap().tick();
            self.drive(id);
        }
        // Everything sent by the end of the last tick arrives now, over
        // the links that are up; what that sends waits for the next tick.
        for m in std::mem::take(&mut self.in_flight) {
            let (from, to) = (P::sender(&m), P::addressee(&m));
            if !self.linked(from, to) {
                continue;
            }
            if let Some(node) = self.nodes.get_mut(&to) {
                let _ = node.step(m);
                self.drive(to);
            }
        }
    }

    fn leader(&self) -> Option<NodeId> {
        self.nodes
            .values()
            .map(Protocol::status)
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.term)
            .map(|s| s.id)
    }

    /// Whether `index` holds `term` and is committed on node `id`.
    fn committed(&self, id: NodeId, index: u64, term: u64) -> bool {
        let n = &self.nodes[&id];
        n.status().committed >= index && n.storage().term(index) == Ok(term)
    }

    /// Ticks until a proposal made after now commits, proposing through
    /// whichever node leads each tick; `None` past the budget.
    fn recovery(&mut self) -> Option<u64> {
        let mut pending: Vec<(NodeId, u64, u64)> = Vec::new();
        for t in 1..=BUDGET {
            if let Some(l) = self.leader()
                && let Ok(Proposed::Appended { index, term }) = self
                    .nodes
                    .get_mut(&l)
                    .unwrap()
                    .propose(Bytes::from(format!("after-{t}")))
            {
                pending.push((l, index, term));
                self.drive(l);
            }
            self.tick();
            if pending
                .iter()
                .any(|&(id, index, term)| self.committed(id, index, term))
            {
                return Some(t);
            }
        }
        None
    }

    /// Full connectivity until a leader commits a first proposal.
    fn warm_up(&mut self) -> NodeId {
        for _ in 0..200 {
            self.tick();
        }
        self.recovery().expect("a healthy cluster commits");
        self.leader().expect("a leader")
    }
}

/// Quorum loss: the leader keeps one link, to C; C is linked to everyone;
/// no other link works. Only C is quorum-connected.
pub(crate) fn quorum_loss<P>(options: &P::Options, seed: u64) -> Option<u64>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    let mut c = Cluster::<P>::new(5, options, seed);
    let l = c.warm_up();
    let hub = (1..=5).find(|&id| id != l).unwrap();
    let links: Vec<(NodeId, NodeId)> = (1..=5)
        .filter(|&id| id != hub)
        .map(|id| (hub, id))
        .collect();
    c.only(&links);
    c.recovery()
}

/// Constrained election: C misses the latest entries, then the leader is
/// cut off from everyone and C is the only quorum-connected node.
pub(crate) fn constrained_election<P>(options: &P::Options, seed: u64) -> Option<u64>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    let mut c = Cluster::<P>::new(5, options, seed);
    let l = c.warm_up();
    let hub = (1..=5).find(|&id| id != l).unwrap();
    let others: Vec<NodeId> = (1..=5).filter(|&id| id != hub).collect();
    let mut links = Vec::new();
    for &a in &others {
        for &b in &others {
            if a < b {
                links.push((a, b));
            }
        }
    }
    c.only(&links);
    // The rest commit entries C never sees.
    c.recovery().expect("the majority without C commits");
    c.recovery().expect("the majority without C commits");
    let links: Vec<(NodeId, NodeId)> = others
        .iter()
        .filter(|&&id| id != l)
        .map(|&id| (hub, id))
        .collect();
    c.only(&links);
    c.recovery()
}

/// A chain: the leader and C are each linked only to B.
pub(crate) fn chained<P>(options: &P::Options, seed: u64) -> Option<u64>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    let mut c = Cluster::<P>::new(3, options, seed);
    let l = c.warm_up();
    let mut rest = (1..=3).filter(|&id| id != l);
    let (b, other) = (rest.next().unwrap(), rest.next().unwrap());
    c.only(&[(l, b), (b, other)]);
    // Long enough for C to time out many times: progress must continue.
    for _ in 0..100 {
        c.tick();
    }
    c.recovery()
}

pub(crate) fn paxos_options() -> synod_paxos_core::Config {
    synod_paxos_core::Config::new(1)
}

pub(crate) fn raft_options() -> synod_raft_core::Config {
    synod_raft_core::Config::new(1)
}

type Scenario<P> = fn(&<P as Protocol>::Options, u64) -> Option<u64>;

fn report<P>(name: &str, scenario: Scenario<P>, options: &P::Options) -> Vec<Option<u64>>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    let outcomes: Vec<Option<u64>> = (1..=5).map(|seed| scenario(options, seed)).collect();
    let shown: Vec<String> = outcomes
        .iter()
        .map(|o| o.map_or("stuck".to_string(), |t| t.to_string()))
        .collect();
    println!("| {name} | {} | {} |", P::NAME, shown.join(", "));
    outcomes
}

#[test]
fn multi_paxos_recovers_from_partial_connectivity_and_raft_is_reported() {
    println!(
        "| scenario | protocol | ticks to commit after the cut (seeds 1-5; {BUDGET}-tick budget) |"
    );
    println!("|---|---|---|");
    let scenarios: [(&str, Scenario<Paxos>, Scenario<Raft>); 3] = [
        ("quorum loss", quorum_loss::<Paxos>, quorum_loss::<Raft>),
        (
            "constrained election",
            constrained_election::<Paxos>,
            constrained_election::<Raft>,
        ),
        ("chained", chained::<Paxos>, chained::<Raft>),
    ];
    for (name, paxos, raft) in scenarios {
        let outcomes = report::<Paxos>(name, paxos, &paxos_options());
        report::<Raft>(name, raft, &raft_options());
        assert!(
            outcomes.iter().all(Option::is_some),
            "Multi-Paxos did not recover from {name}: {outcomes:?}"
        );
    }
}

#[test]
fn a_scenario_replays_bit_for_bit() {
    let a = constrained_election::<Paxos>(&paxos_options(), 7);
    let b = constrained_election::<Paxos>(&paxos_options(), 7);
    assert_eq!(a, b);
}
