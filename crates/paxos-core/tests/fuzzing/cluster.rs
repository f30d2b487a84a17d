//! Fuzz interpreter: a Multi-Paxos cluster of 3 to 5 nodes driven by the
//! input's bytes (which node ticks, which message is delivered, dropped,
//! duplicated or replaced by a stale one, which node syncs its disk or
//! crashes losing unsynced writes, possibly tearing them, proposals,
//! reads, compactions, campaigns, transfers, membership changes and
//! stop-signs), with flexible quorums, leases and leader priorities drawn
//! from the input. After every step:
//! - decided entries never change, and every node applies them once each,
//!   in order, without a gap;
//! - one leader per ballot, and a leader of a later ballot holds every
//!   entry decided before it (leader completeness);
//! - where two logs hold an entry of the same index and ballot, they agree
//!   on every entry before it;
//! - no read is answered below an index decided anywhere when it was
//!   issued, and a read the leader confirms without a round (its lease,
//!   or alone a phase-2 quorum) finds no leader of a later ballot;
//! - persist-before-send: a promise or an acceptance leaves only when the
//!   sender's disk holds that promise (and, for an acceptance, the entries
//!   it acknowledges), and its disk's promise never goes back (a restarted
//!   acceptor never forgets what it promised);
//! - what a leader decides in its ballot is on the disks of a phase-2
//!   quorum (and of a majority of the outgoing voters of a joint
//!   configuration, which for a stop-sign this interpreter derives itself)
//!   and stays there;
//! - with leases, an acceptor that acknowledged a lease round promises no
//!   other ballot for an election timeout from when the round reached it.
//!
//! Replacement messages carry a ballot below the receiver's promise:
//! forged promises or acceptances at a current ballot break any Paxos and
//! are left to the `step` interpreter. Shared by
//! `fuzz/fuzz_targets/paxos_cluster.rs` and the crate's `fuzz_inputs`
//! test.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::{
    Ballot, Body, ConfChange, ConfChangeKind, Config, Index, MemStorage, Message, NodeId,
    PaxosNode, Payload, ReadId, Receipt, Role, StopSign, Storage, Term, Write,
};

#[path = "../../../raft-core/tests/fuzzing/schedule.rs"]
mod schedule;

use schedule::{Counted, Quorum, Step, snapshot_data};

type Node = PaxosNode<MemStorage, StdRng>;

struct Machine {
    node: Node,
    config: Config,
    /// What survives a crash.
    durable: MemStorage,
    /// Handed to the disk, not yet synced.
    pending: Vec<Write>,
    /// Messages waiting for the pending writes.
    held: Vec<Message>,
    receipts: Vec<Receipt>,
    /// The state machine: the commands applied, in order.
    applied: Vec<(Index, Vec<u8>)>,
    /// The last index handed out to apply (the snapshot's after a restart
    /// or an install).
    handed: Index,
    restarts: u64,
    led_ballot: Term,
    /// The decided index and the voters (incoming, outgoing) as of the
    /// last step, to check what a leader decides in the next.
    seen_decided: Index,
    view: Quorum,
    /// The voters as of the last step whose log held no stop-sign beyond
    /// the decided index: the outgoing voters a stop-sign's joint
    /// configuration must count, derived here rather than from the node.
    settled: Vec<NodeId>,
}

struct Cluster {
    machines: BTreeMap<NodeId, Machine>,
    net: Vec<Message>,
    /// Every decided entry any node applied: index -> (ballot, payload,
    /// an upper bound of the ballot it was decided in).
    decided: BTreeMap<Index, (Term, Payload, Term)>,
    leaders: BTreeMap<Term, NodeId>,
    /// Entries a leader was seen deciding: index -> (ballot, the quorum
    /// that must keep holding it).
    counted: Counted,
    /// State machines as of each snapshot index.
    snapshots: BTreeMap<Index, Vec<(Index, Vec<u8>)>>,
    /// The highest decided index any node has known so far.
    max_decided: Index,
    /// Reads issued: (node, id) -> the floor their answer must reach.
    reads: BTreeMap<(NodeId, ReadId), Index>,
    proposals: u64,
    lease: bool,
    /// With leases, the ticks every node has taken (they tick together).
    clock: u64,
    /// Lease rounds delivered: (acceptor, ballot, round) -> the first tick
    /// one reached the acceptor.
    rounds: BTreeMap<(NodeId, Term, u64), u64>,
    /// The lease each acceptor granted by acknowledging a round: its
    /// ballot, and the tick before which it promises no other.
    grants: BTreeMap<NodeId, (Term, u64)>,
    stats: Stats,
}

/// What a run reached, so tests can check the interpreter goes deep.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Ballots in which some node led.
    pub leaders: u64,
    /// The highest decided index any node knew.
    pub max_decided: u64,
    /// Reads answered.
    pub reads: u64,
    /// Crashes.
    pub crashes: u64,
    /// Reads a leader answered without a round (by its lease, or alone a
    /// quorum), each checked against a later leader.
    pub reads_without_round: u64,
    /// Snapshots installed from a leader.
    pub installs: u64,
    /// Entries a leader was seen deciding, each checked durable on its
    /// quorum then and after.
    pub decisions: u64,
}

/// Whether `msg` vouches for its sender's promise of its ballot: it may
/// leave only once that promise is on the sender's disk.
fn vouches_for_promise(msg: &Message) -> bool {
    matches!(msg.body, Body::Promise { .. } | Body::Accepted { .. })
}

impl Cluster {
    fn new(u: &mut Unstructured<'_>, tweak: &dyn Fn(&mut Config)) -> arbitrary::Result<Self> {
        let n: u64 = u.int_in_range(3..=5)?;
        let nodes = n as usize;
        // Flexible quorums: any phase-2 quorum with a phase-1 quorum that
        // meets it; `None` for majorities.
        let quorums = if u.arbitrary()? {
            let q2 = u.int_in_range(1..=nodes)?;
            let q1 = u.int_in_range(nodes - q2 + 1..=nodes)?;
            Some((q1, q2))
        } else {
            None
        };
        let lease = u.arbitrary()?;
        let max_size_per_msg_bytes = u.int_in_range(1..=256)?;
        let max_inflight_entries = u.int_in_range(1..=16)?;
        let ids: Vec<NodeId> = (1..=n).collect();
        let mut machines = BTreeMap::new();
        for &id in &ids {
            let mut config = Config::new(id);
            config.election_timeout_ticks = 5;
            config.max_size_per_msg_bytes = max_size_per_msg_bytes;
            config.max_inflight_entries = max_inflight_entries;
            // Snapshots travel whole or in 1- to 16-byte pieces.
            config.snapshot_chunk_bytes = max_size_per_msg_bytes % 16 + 1;
            config.priority = u.int_in_range(0..=2)?;
            if let Some((q1, q2)) = quorums {
                config.phase1_quorum = Some(q1);
                config.phase2_quorum = Some(q2);
            }
            // Leases assume clocks in step: with them on, every tick ticks
            // every node.
            config.lease_reads = lease;
            tweak(&mut config);
            let q2 = config.phase2_quorum.unwrap_or(nodes / 2 + 1);
            let mut durable = MemStorage::bootstrap(&ids);
            // Odd-numbered nodes stage a leader's snapshot piece by piece.
            durable.set_stages_snapshots(id % 2 == 1);
            let node = Node::new(config.clone(), durable.clone(), StdRng::seed_from_u64(id))
                .expect("a valid start");
            machines.insert(
                id,
                Machine {
                    node,
                    config,
                    durable,
                    pending: Vec::new(),
                    held: Vec::new(),
                    receipts: Vec::new(),
                    applied: Vec::new(),
                    handed: 0,
                    restarts: 0,
                    led_ballot: 0,
                    seen_decided: 0,
                    view: Quorum {
                        voters: ids.clone(),
                        outgoing: Vec::new(),
                        q2,
                    },
                    settled: ids.clone(),
                },
            );
        }
        Ok(Self {
            machines,
            net: Vec::new(),
            decided: BTreeMap::new(),
            leaders: BTreeMap::new(),
            counted: Counted::default(),
            snapshots: BTreeMap::new(),
            max_decided: 0,
            reads: BTreeMap::new(),
            proposals: 0,
            lease,
            clock: 0,
            rounds: BTreeMap::new(),
            grants: BTreeMap::new(),
            stats: Stats::default(),
        })
    }

    fn ids(&self) -> Vec<NodeId> {
        self.machines.keys().copied().collect()
    }

    fn pick(&self, u: &mut Unstructured<'_>) -> NodeId {
        let ids = self.ids();
        ids[u.choose_index(ids.len()).unwrap_or(0)]
    }

    /// With leases: an acceptor that acknowledged a lease round of ballot
    /// `b` promises no other ballot for an election timeout from when the
    /// round reached it (lease.rs); a promise breaking that is caught as
    /// it leaves, without waiting for the stale read it allows.
    fn check_grants(&mut self, from: NodeId, msg: &Message) {
        if !self.lease {
            return;
        }
        match msg.body {
            Body::ReadAck { seq } => {
                let ballot = msg.ballot.0;
                if let Some(&at) = self.rounds.get(&(from, ballot, seq)) {
                    let ticks = u64::from(self.machines[&from].config.election_timeout_ticks);
                    let until = at + ticks;
                    let grant = self.grants.entry(from).or_insert((ballot, until));
                    if grant.0 != ballot || grant.1 < until {
                        *grant = (ballot, until);
                    }
                }
            }
            Body::Promise { .. } => {
                if let Some(&(ballot, until)) = self.grants.get(&from) {
                    assert!(
                        msg.ballot.0 == ballot || self.clock >= until,
                        "node {from} promised ballot {} at tick {} while its lease to ballot {} \
                         lasts until {until}",
                        msg.ballot,
                        self.clock,
                        Ballot(ballot)
                    );
                }
            }
            _ => {}
        }
    }

    /// Puts messages on the network, checking persist-before-send.
    fn send(&mut self, from: NodeId, messages: Vec<Message>) {
        for msg in &messages {
            self.check_grants(from, msg);
        }
        let disk = &self.machines[&from].durable;
        let promised = disk.hard_state().term;
        let last = disk.last_index().expect("in-memory");
        for msg in &messages {
            if vouches_for_promise(msg) {
                assert!(
                    promised >= msg.ballot.0,
                    "node {from} sent {:?} for ballot {} while its disk promised only {}",
                    msg.body,
                    msg.ballot,
                    Ballot(promised)
                );
            }
            if let Body::Accepted { last_index } = msg.body {
                assert!(
                    last >= last_index,
                    "node {from} acknowledged entries through {last_index} while its disk \
                     held them through {last}"
                );
            }
        }
        self.net.extend(messages);
    }

    /// Runs a node's ready loop: sends, writes to its disk (unsynced),
    /// applies decided entries and checks read answers.
    fn drive(&mut self, id: NodeId) {
        let mut rounds = 0;
        loop {
            let m = self.machines.get_mut(&id).expect("node");
            if !m.node.has_ready() {
                break;
            }
            rounds += 1;
            assert!(rounds < 10_000, "has_ready never settles");
            let ready = m.node.ready().expect("ready with in-memory storage");
            let write = ready.write;
            m.node
                .storage_mut()
                .apply_write(write.clone())
                .expect("a write handed out applies to the node's log");
            let installed = write.installs().map(|index| {
                let s = m
                    .node
                    .storage()
                    .snapshot(index)
                    .expect("an installed snapshot is readable");
                assert_eq!(s.meta.index, index, "node {id} installed another snapshot");
                s
            });
            if let Some(s) = &installed {
                assert_eq!(
                    s.data,
                    snapshot_data(s.meta.index),
                    "node {id} installed a snapshot whose bytes differ from the one taken"
                );
                self.stats.installs += 1;
                m.applied = self
                    .snapshots
                    .get(&s.meta.index)
                    .cloned()
                    .unwrap_or_default();
                m.handed = s.meta.index;
            }
            m.pending.push(write);
            let done = ready.after_write.written();
            m.held.extend(done.messages);
            m.receipts.push(done.receipt);
            self.send(id, ready.messages);
            for r in ready.reads {
                let floor = self.reads.get(&(id, r.id)).copied();
                let floor = floor
                    .unwrap_or_else(|| panic!("node {id} answered read {} it never issued", r.id));
                self.stats.reads += 1;
                assert!(
                    r.index >= floor,
                    "stale read on node {id}: answered at {} below {floor}, decided before it was issued",
                    r.index
                );
            }
            for e in ready.committed {
                self.apply(id, e);
            }
        }
        self.observe(id);
    }

    fn apply(&mut self, id: NodeId, e: synod_paxos_core::Entry) {
        let m = self.machines.get_mut(&id).expect("node");
        assert_eq!(
            e.index,
            m.handed + 1,
            "node {id} was handed entry {} to apply after {}",
            e.index,
            m.handed
        );
        m.handed = e.index;
        let seen_in = m.node.promised().0.max(e.term);
        match self.decided.get(&e.index) {
            Some((t, p, _)) => assert!(
                *t == e.term && *p == e.payload,
                "decided entry {} changed: node {id} applied {:?} of ballot {} where {p:?} of \
                 ballot {} was applied",
                e.index,
                e.payload,
                Ballot(e.term),
                Ballot(*t)
            ),
            None => {
                self.decided
                    .insert(e.index, (e.term, e.payload.clone(), seen_in));
            }
        }
        if let Payload::Command(data) = &e.payload {
            m.applied.push((e.index, data.to_vec()));
        }
        m.node.on_applied(e.index);
    }

    /// One leader per ballot and leader completeness, for a node that
    /// leads; what a leader decides is on a quorum's disks.
    fn observe(&mut self, id: NodeId) {
        self.check_decisions(id);
        let m = self.machines.get_mut(&id).expect("node");
        self.max_decided = self.max_decided.max(m.node.decided());
        if m.node.role() != Role::Leader {
            return;
        }
        let ballot = m.node.leader_ballot().0;
        assert_eq!(
            Ballot(ballot).node(),
            id,
            "node {id} leads a ballot it does not own"
        );
        let first = *self.leaders.entry(ballot).or_insert(id);
        self.stats.leaders = self.leaders.len() as u64;
        assert_eq!(
            first, id,
            "two leaders of ballot {ballot}: {first} and {id}"
        );
        if m.led_ballot == ballot {
            return;
        }
        m.led_ballot = ballot;
        let log = m.node.storage();
        let from = log.first_index().expect("in-memory");
        for (&index, (t, _, seen_in)) in self.decided.range(from..) {
            if ballot > *seen_in {
                assert_eq!(
                    log.term(index).ok(),
                    Some(*t),
                    "leader {id} of ballot {} lacks entry {index} decided by ballot {}",
                    Ballot(ballot),
                    Ballot(*seen_in)
                );
            }
        }
    }

    /// What a leader decided in its ballot since the last step is durable
    /// (that entry, or a snapshot past it) on a phase-2 quorum of its
    /// voters, and on a majority of the outgoing ones while a joint
    /// configuration is in force, under its membership both before the
    /// step and after it (a stop-sign it decides ends the joint
    /// configuration within the step: what decided it counted both).
    fn check_decisions(&mut self, id: NodeId) {
        let m = &self.machines[&id];
        let (decided, ballot) = (m.node.decided(), m.node.leader_ballot().0);
        let voters = m.node.voters().to_vec();
        let now = Quorum {
            q2: m.config.phase2_quorum.unwrap_or(voters.len() / 2 + 1),
            voters,
            outgoing: m.node.voters_outgoing().to_vec(),
        };
        let leading = m.node.role() == Role::Leader && m.led_ballot == ballot;
        // A stop-sign not decided when the step began: until it is, what
        // the leader decides needs the voters before it too.
        let outgoing = stop_sign_after(&m.node, m.seen_decided)
            .filter(|voters| *voters != m.settled)
            .map(|_| Quorum {
                q2: m.settled.len() / 2 + 1,
                voters: m.settled.clone(),
                outgoing: Vec::new(),
            });
        let mut counted = Vec::new();
        if leading {
            for index in m.seen_decided + 1..=decided {
                let Ok(term) = m.node.storage().term(index) else {
                    continue;
                };
                let holds = |n: &NodeId| self.holds(*n, index, term);
                for quorum in [Some(&m.view), Some(&now), outgoing.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        quorum.met(holds),
                        "leader {id} of ballot {} decided entry {index} of ballot {}, which \
                         is durable on too few of its voters: {quorum:?}",
                        Ballot(ballot),
                        Ballot(term),
                    );
                }
                counted.push((index, (term, now.clone())));
            }
        }
        self.stats.decisions += counted.len() as u64;
        for (index, (term, quorum)) in counted {
            self.counted.insert(index, term, quorum);
        }
        let settles = now.outgoing.is_empty() && stop_sign_after(&m.node, decided).is_none();
        let m = self.machines.get_mut(&id).expect("node");
        if settles {
            m.settled = now.voters.clone();
        }
        m.seen_decided = decided;
        m.view = now;
    }

    /// Whether node `n`'s disk holds entry `index` of ballot `term`, or a
    /// snapshot past it.
    fn holds(&self, n: NodeId, index: Index, term: Term) -> bool {
        self.machines.get(&n).is_some_and(|o| {
            o.durable.term(index).ok() == Some(term)
                || o.durable.snapshot(0).is_ok_and(|s| s.meta.index >= index)
        })
    }

    /// Where two logs hold an entry with the same index and ballot, they
    /// agree on every entry before it.
    fn check_log_matching(&self) {
        let logs: Vec<(NodeId, BTreeMap<Index, Term>)> = self
            .machines
            .iter()
            .map(|(&id, m)| {
                let log = m.node.storage();
                let (first, last) = (log.first_index().unwrap(), log.last_index().unwrap());
                let terms = (first..=last).filter_map(|i| Some((i, log.term(i).ok()?)));
                (id, terms.collect())
            })
            .collect();
        schedule::check_log_matching(&logs);
    }

    /// The disk syncs: pending writes become durable, held messages go.
    fn sync(&mut self, id: NodeId) {
        let m = self.machines.get_mut(&id).expect("node");
        let promised = m.durable.hard_state().term;
        for w in m.pending.drain(..) {
            m.durable
                .apply_write(w)
                .expect("a synced write applies to the disk");
        }
        let now = m.durable.hard_state().term;
        assert!(
            now >= promised,
            "node {id}'s disk promise went back from {} to {}",
            Ballot(promised),
            Ballot(now)
        );
        let held = std::mem::take(&mut m.held);
        for r in m.receipts.drain(..) {
            m.node.on_written(r);
        }
        self.counted
            .check_held(|n, index, term| self.holds(n, index, term));
        self.send(id, held);
        self.drive(id);
    }

    /// The node crashes: unsynced writes are lost (or a prefix of their
    /// entries reaches the disk), and it restarts from its disk.
    fn crash(&mut self, id: NodeId, torn: usize) {
        let m = self.machines.get_mut(&id).expect("node");
        // Entries after a snapshot the crash lost would follow a log the
        // disk never held: only those before the first install can tear.
        let entries: Vec<_> = m
            .pending
            .iter()
            .take_while(|w| w.installs().is_none())
            .flat_map(|w| w.entries.iter().cloned())
            .take(torn)
            .collect();
        let _ = m.durable.append(entries);
        m.pending.clear();
        self.counted
            .check_held(|n, index, term| self.holds(n, index, term));
        let m = self.machines.get_mut(&id).expect("node");
        m.held.clear();
        m.receipts.clear();
        m.restarts += 1;
        self.stats.crashes += 1;
        let snap = m.durable.snapshot(0).map_or(0, |s| s.meta.index);
        m.applied = self.snapshots.get(&snap).cloned().unwrap_or_default();
        m.handed = snap;
        let config = Config {
            applied: snap,
            ..m.config.clone()
        };
        let rng = StdRng::seed_from_u64((m.restarts << 8) | id);
        m.node = Node::new(config, m.durable.clone(), rng).expect("a node restarts from its disk");
        assert!(
            m.node.promised().0 >= m.durable.hard_state().term,
            "node {id} restarted below the promise on its disk"
        );
        m.led_ballot = 0;
        m.seen_decided = m.node.decided();
        self.drive(id);
    }

    /// Snapshots the node's state machine and compacts its log, keeping
    /// `keep` entries.
    fn compact(&mut self, id: NodeId, keep: u64) {
        let m = self.machines.get_mut(&id).expect("node");
        let applied = m.handed;
        // Only what is durable may be compacted: applied entries are
        // synced; a snapshot handed over but not yet synced is not.
        let taken = m.durable.snapshot(0).map_or(0, |s| s.meta.index);
        let installed = m.node.storage().snapshot(0).map_or(0, |s| s.meta.index);
        if applied <= taken || installed > taken || m.durable.last_index().unwrap_or(0) < applied {
            return;
        }
        self.snapshots.insert(applied, m.applied.clone());
        let conf = m.node.conf_state();
        for disk in [&mut m.durable, m.node.storage_mut()] {
            if disk
                .create_snapshot(applied, conf.clone(), snapshot_data(applied))
                .is_ok()
            {
                let first = disk.first_index().unwrap_or(1);
                if applied.saturating_sub(keep) >= first {
                    let _ = disk.compact(applied - keep);
                }
            }
        }
    }

    /// A message replaced by one with a ballot below the receiver's
    /// promise: whatever it says, a correct acceptor or leader ignores it.
    fn replacement(&self, u: &mut Unstructured<'_>, old: &Message) -> Option<Message> {
        let promised = self.machines.get(&old.to)?.node.promised().0;
        if promised == 0 {
            return None;
        }
        let mut m = old.clone();
        m.body = Body::arbitrary(u).ok()?;
        m.ballot = Ballot(u.int_in_range(0..=promised - 1).ok()?);
        Some(m)
    }

    fn step(&mut self, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
        match schedule::next(u, &self.ids(), &mut self.net)? {
            Step::Tick(id) => {
                if self.lease {
                    self.clock += 1;
                    for m in self.machines.values_mut() {
                        m.node.tick();
                    }
                    for id in self.ids() {
                        self.drive(id);
                    }
                } else {
                    self.machines.get_mut(&id).expect("node").node.tick();
                    self.drive(id);
                }
            }
            Step::Deliver(msg) => self.deliver(msg),
            Step::Replace(old) => {
                if let Some(msg) = self.replacement(u, &old) {
                    self.deliver(msg);
                }
            }
            Step::Done => {}
            Step::Sync(id) => self.sync(id),
            Step::Crash(id, torn) => self.crash(id, torn),
            Step::Propose(id) => {
                self.proposals += 1;
                let command = Bytes::from(self.proposals.to_le_bytes().to_vec());
                let floor = self.max_decided;
                let node = &mut self.machines.get_mut(&id).expect("node").node;
                let _ = node.propose(command);
                if u.arbitrary()? {
                    self.read(id, floor);
                }
                self.drive(id);
            }
            Step::Other(id) => {
                self.misc(u, id)?;
                self.drive(id);
            }
        }
        Ok(())
    }

    /// The rarer inputs: compaction, campaigns, transfers, membership
    /// changes, stop-signs and reads.
    fn misc(&mut self, u: &mut Unstructured<'_>, id: NodeId) -> arbitrary::Result<()> {
        match u.int_in_range(0..=5u8)? {
            0 => self.compact(id, u.int_in_range(0..=3)?),
            1 => self.machines.get_mut(&id).expect("node").node.campaign(),
            2 => {
                let to = self.pick(u);
                let node = &mut self.machines.get_mut(&id).expect("node").node;
                let _ = node.transfer_leadership(to);
            }
            3 => {
                let other = self.pick(u);
                let node = &mut self.machines.get_mut(&id).expect("node").node;
                let voters = node.voters().to_vec();
                let cc = if voters.contains(&other) {
                    ConfChange::single(ConfChangeKind::Remove, other)
                } else {
                    ConfChange::single(ConfChangeKind::AddVoter, other)
                };
                if cc.changes[0].kind != ConfChangeKind::Remove || voters.len() > 3 {
                    let _ = node.change_membership(cc);
                }
            }
            4 => {
                // The next configuration: at least three of the nodes.
                let mask: u8 = u.arbitrary()?;
                let all = self.ids();
                let mut voters: Vec<NodeId> = all
                    .iter()
                    .copied()
                    .filter(|&i| mask >> (i - 1) & 1 == 1)
                    .collect();
                if voters.len() < 3 {
                    voters = all.clone();
                }
                let learners = all.into_iter().filter(|i| !voters.contains(i)).collect();
                let stop = StopSign {
                    voters,
                    learners,
                    metadata: Bytes::from_static(b"fuzz"),
                };
                let node = &mut self.machines.get_mut(&id).expect("node").node;
                let _ = node.propose_stop_sign(stop);
            }
            _ => self.read(id, self.max_decided),
        }
        Ok(())
    }

    /// A linearizable read on `id`, which must be answered at `floor` or
    /// later. A read the leader confirms without a round (its lease, or
    /// alone a phase-2 quorum) stands on there being no later leader:
    /// every phase-1 quorum of a later ballot holds an acceptor that
    /// acknowledged this leader's lease (and refuses until it runs out) or
    /// the leader itself (which would have stepped down).
    fn read(&mut self, id: NodeId, floor: Index) {
        let node = &mut self.machines.get_mut(&id).expect("node").node;
        let Some(read) = node.read_index() else {
            return;
        };
        self.reads.insert((id, read), floor);
        if node.pending_reads() > 0 {
            return;
        }
        let ballot = node.leader_ballot();
        self.stats.reads_without_round += 1;
        for (&other, m) in &self.machines {
            assert!(
                m.node.role() != Role::Leader || m.node.leader_ballot() <= ballot,
                "node {id} of ballot {ballot} confirmed a read without a round while node \
                 {other} leads the later ballot {}",
                m.node.leader_ballot()
            );
        }
    }

    fn deliver(&mut self, msg: Message) {
        let to = msg.to;
        if let Body::Read { seq } = msg.body {
            self.rounds
                .entry((to, msg.ballot.0, seq))
                .or_insert(self.clock);
        }
        let Some(m) = self.machines.get_mut(&to) else {
            return;
        };
        let _ = m.node.step(msg);
        self.drive(to);
    }
}

/// The voters of the first stop-sign in `node`'s log after `index`, sorted.
fn stop_sign_after(node: &Node, index: Index) -> Option<Vec<NodeId>> {
    let log = node.storage();
    let last = log.last_index().ok()?;
    let entries = log.entries(index + 1, last + 1, u64::MAX).ok()?;
    entries.into_iter().find_map(|e| match e.payload {
        Payload::StopSign(ss) => {
            let mut voters = ss.voters;
            voters.sort_unstable();
            voters.dedup();
            Some(voters)
        }
        _ => None,
    })
}

/// Runs one input.
pub fn run(data: &[u8]) {
    run_with_stats(data);
}

/// Runs one input and says what it reached.
pub fn run_with_stats(data: &[u8]) -> Stats {
    run_configured(data, &|_| {})
}

/// Runs one input with every node's configuration passed through `tweak`
/// (a planted mutation, for the check that the properties have teeth).
pub fn run_configured(data: &[u8], tweak: &dyn Fn(&mut Config)) -> Stats {
    let mut u = Unstructured::new(data);
    let Ok(mut c) = Cluster::new(&mut u, tweak) else {
        return Stats::default();
    };
    schedule::run(&mut u, &mut c, Cluster::step, Cluster::check_log_matching);
    c.stats.max_decided = c.max_decided;
    c.stats
}
