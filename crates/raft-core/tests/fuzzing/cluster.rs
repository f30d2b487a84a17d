//! Fuzz interpreter: a cluster of 3 to 5 nodes driven by the input's bytes
//! (which node ticks, which message is delivered, dropped, duplicated or
//! replaced, which node syncs its disk or crashes losing unsynced writes,
//! possibly tearing them, proposals, reads, compactions, transfers and
//! membership changes). After every step: election safety, log matching,
//! leader completeness, committed entries never change (and what a leader
//! commits is on a majority's disks and stays there), no read is
//! answered below a commit index known anywhere when it was issued, and
//! no leader answers a read without a round (by its lease, or alone)
//! while another leads a later term; with lease reads, a node that heard
//! its leader less than an election timeout before ignores vote requests
//! for a later term (unless a transfer).
//! Replacement messages are stale (an older term than the receiver's),
//! requests any member may send, or (without lease reads) a `TimeoutNow`:
//! forged votes, acknowledgements and leaders break any Raft and are left
//! to the `step` interpreter, and a `TimeoutNow` forged in a leader's name
//! voids a lease that leader cannot know about. Shared
//! by `fuzz/fuzz_targets/raft_cluster.rs` and the crate's `fuzz_inputs`
//! test.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::{
    ConfChange, ConfChangeKind, Config, Entry, HardState, Index, MemStorage, Message, MessageBody,
    NodeId, Payload, PersistReceipt, RaftNode, ReadId, ReadMode, Role, Snapshot, SnapshotMeta,
    SnapshotPiece, Storage, Term,
};

#[path = "schedule.rs"]
mod schedule;

use schedule::{Counted, Quorum, Step, snapshot_data};

type Node = RaftNode<MemStorage, StdRng>;

/// One batch handed to the disk and not yet synced.
#[derive(Clone)]
struct Write {
    snapshot: Option<Snapshot>,
    pieces: Vec<SnapshotPiece>,
    staged: Option<SnapshotMeta>,
    entries: Vec<Entry>,
    hard_state: Option<HardState>,
}

impl Write {
    /// The documented order: snapshot pieces, snapshot (whole or staged),
    /// entries, hard state.
    fn apply(&self, disk: &mut MemStorage) {
        for piece in &self.pieces {
            disk.stage_piece(piece.clone())
                .expect("pieces continue the staged bytes");
        }
        if let Some(s) = &self.snapshot {
            let _ = disk.apply_snapshot(s.clone());
        }
        if let Some(meta) = &self.staged {
            let _ = disk.install_staged(meta);
        }
        disk.append(&*self.entries)
            .expect("entries continue the disk's log");
        if let Some(hs) = self.hard_state {
            disk.set_hard_state(hs);
        }
    }
}

struct Machine {
    node: Node,
    config: Config,
    durable: MemStorage,
    pending: Vec<Write>,
    held: Vec<Message>,
    receipts: Vec<PersistReceipt>,
    /// The state machine: the commands applied, in order.
    applied: Vec<(Index, Vec<u8>)>,
    restarts: u64,
    led_term: Term,
    /// The commit index and the voters as of the last step, to check
    /// what a leader commits in the next.
    seen_commit: Index,
    view: Quorum,
}

struct Cluster {
    machines: BTreeMap<NodeId, Machine>,
    net: Vec<Message>,
    /// Every committed entry any node applied: index -> (term, payload,
    /// the applying node's term, an upper bound of the commit's term).
    committed: BTreeMap<Index, (Term, Payload, Term)>,
    /// Entries a leader was seen committing: index -> (term, the quorum
    /// that must keep holding it).
    counted: Counted,
    leaders: BTreeMap<Term, NodeId>,
    /// State machines as of each snapshot index.
    snapshots: BTreeMap<Index, Vec<(Index, Vec<u8>)>>,
    /// The highest commit index any node has known so far.
    max_commit: Index,
    /// Reads issued: (node, id) -> the floor their answer must reach.
    reads: BTreeMap<(NodeId, ReadId), Index>,
    /// A read issued on a leader in this step: answered within the step,
    /// it had no round of heartbeats behind it.
    issued_now: Option<(NodeId, ReadId)>,
    proposals: u64,
    lease: bool,
    /// With lease reads, the ticks every node has taken (they tick
    /// together).
    clock: u64,
    /// With lease reads: the term, leader and tick each node last heard
    /// its leader at, from which it refuses votes for an election timeout.
    heard: BTreeMap<NodeId, (Term, NodeId, u64)>,
    stats: Stats,
}

/// What a run reached, so tests can check the interpreter goes deep.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Terms in which some node led.
    pub leaders: u64,
    /// The highest commit index any node knew.
    pub max_commit: u64,
    /// Reads answered.
    pub reads: u64,
    /// Crashes.
    pub crashes: u64,
    /// Entries a leader was seen committing, each checked durable on its
    /// quorum then and after.
    pub commits: u64,
    /// Vote requests that reached a node within its leader's lease, each
    /// checked refused.
    pub sticky_refusals: u64,
    /// Reads a leader answered without a round (by its lease, or alone a
    /// quorum), each checked against a later leader.
    pub reads_without_round: u64,
}

impl Cluster {
    fn new(u: &mut Unstructured<'_>, tweak: &dyn Fn(&mut Config)) -> arbitrary::Result<Self> {
        let n: u64 = u.int_in_range(3..=5)?;
        let pre_vote = u.arbitrary()?;
        let check_quorum = u.arbitrary()?;
        // Lease reads assume clocks in step: with them on, every tick
        // ticks every node.
        let lease = check_quorum && u.arbitrary()?;
        let max_size_per_msg_bytes = u.int_in_range(1..=256)?;
        let ids: Vec<NodeId> = (1..=n).collect();
        let mut machines = BTreeMap::new();
        for &id in &ids {
            let mut config = Config::new(id);
            config.pre_vote = pre_vote;
            config.check_quorum = check_quorum;
            config.max_size_per_msg_bytes = max_size_per_msg_bytes;
            config.election_timeout_ticks = 5;
            // Derived from a drawn value so the committed corpus keeps its
            // meaning: snapshots travel in 1- to 16-byte pieces with a
            // window of 1 to 3.
            config.snapshot_chunk_bytes = max_size_per_msg_bytes % 16 + 1;
            config.snapshot_chunks_in_flight = (max_size_per_msg_bytes % 3 + 1) as u32;
            if lease {
                config.read_mode = ReadMode::Lease;
            }
            tweak(&mut config);
            let mut durable = MemStorage::bootstrap(&ids);
            // Odd-numbered nodes stage a leader's snapshot piece by piece.
            durable.set_stages_snapshots(id % 2 == 1);
            let node = RaftNode::new(config.clone(), durable.clone(), StdRng::seed_from_u64(id))
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
                    restarts: 0,
                    led_term: 0,
                    seen_commit: 0,
                    view: Quorum {
                        voters: ids.clone(),
                        outgoing: Vec::new(),
                        q2: ids.len() / 2 + 1,
                    },
                },
            );
        }
        Ok(Self {
            machines,
            net: Vec::new(),
            committed: BTreeMap::new(),
            counted: Counted::default(),
            leaders: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            max_commit: 0,
            reads: BTreeMap::new(),
            clock: 0,
            heard: BTreeMap::new(),
            issued_now: None,
            proposals: 0,
            lease,
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

    /// Runs a node's ready loop: sends, writes to its disk (unsynced),
    /// applies committed entries and checks read answers.
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
            self.net.extend(ready.messages);
            let persist = ready.persist;
            let write = Write {
                snapshot: persist.snapshot.clone(),
                pieces: persist.snapshot_pieces.clone(),
                staged: persist.staged_snapshot.clone(),
                entries: persist.entries.clone(),
                hard_state: persist.hard_state,
            };
            write.apply(m.node.storage_mut());
            let installed = write.snapshot.clone().or_else(|| {
                let meta = write.staged.as_ref()?;
                let s = m.node.log().storage().snapshot(meta.index).ok()?;
                assert_eq!(&s.meta, meta, "node {id} installed another staged snapshot");
                Some(s)
            });
            if let Some(s) = &installed {
                assert_eq!(
                    s.data,
                    snapshot_data(s.meta.index),
                    "node {id} installed a snapshot whose bytes differ from the one taken"
                );
                m.applied = self
                    .snapshots
                    .get(&s.meta.index)
                    .cloned()
                    .unwrap_or_default();
            }
            m.pending.push(write);
            let done = persist.persisted();
            m.held.extend(done.messages);
            m.receipts.push(done.receipt);
            for r in ready.read_states {
                let floor = self.reads.get(&(id, r.id)).copied();
                let floor = floor
                    .unwrap_or_else(|| panic!("node {id} answered read {} it never issued", r.id));
                self.stats.reads += 1;
                assert!(
                    r.index >= floor,
                    "stale read on node {id}: answered at {} below {floor}, committed before it was issued",
                    r.index
                );
                if self.issued_now == Some((id, r.id)) {
                    self.stats.reads_without_round += 1;
                    self.check_no_later_leader(id);
                }
            }
            for e in ready.committed_entries {
                self.apply(id, e);
            }
        }
        self.observe(id);
    }

    fn apply(&mut self, id: NodeId, e: Entry) {
        let m = self.machines.get_mut(&id).expect("node");
        let seen_in = m.node.term().max(e.term);
        match self.committed.get(&e.index) {
            Some((t, p, _)) => assert!(
                *t == e.term && *p == e.payload,
                "committed entry {} changed: node {id} applied term {} where term {t} was applied",
                e.index,
                e.term
            ),
            None => {
                self.committed
                    .insert(e.index, (e.term, e.payload.clone(), seen_in));
            }
        }
        if let Payload::Command(data) = &e.payload {
            m.applied.push((e.index, data.to_vec()));
        }
        m.node.on_applied(e.index);
    }

    /// Election safety and leader completeness for a node that leads;
    /// what a leader commits is on a quorum's disks.
    fn observe(&mut self, id: NodeId) {
        self.check_commits(id);
        let m = self.machines.get_mut(&id).expect("node");
        self.max_commit = self.max_commit.max(m.node.log().committed());
        if m.node.role() != Role::Leader {
            return;
        }
        let term = m.node.term();
        let first = *self.leaders.entry(term).or_insert(id);
        self.stats.leaders = self.leaders.len() as u64;
        assert_eq!(first, id, "two leaders in term {term}: {first} and {id}");
        if m.led_term == term {
            return;
        }
        m.led_term = term;
        let log = m.node.log();
        let from = log.first_index().expect("in-memory");
        for (&index, (t, _, seen_in)) in self.committed.range(from..) {
            if term > *seen_in {
                assert!(
                    log.match_term(index, *t),
                    "leader {id} of term {term} lacks entry {index} committed by term {seen_in}"
                );
            }
        }
    }

    /// What a leader committed in its term since the last step is durable
    /// (that entry, or a snapshot past it) on a majority of its voters (and
    /// of the outgoing ones in a joint configuration), under its
    /// membership before the step or after it (a committed change takes
    /// effect when handed out, within the step).
    fn check_commits(&mut self, id: NodeId) {
        let m = &self.machines[&id];
        let (commit, term) = (m.node.log().committed(), m.node.term());
        let conf = m.node.conf_state();
        let now = Quorum {
            q2: conf.voters.len() / 2 + 1,
            voters: conf.voters,
            outgoing: conf.voters_outgoing,
        };
        let leading = m.node.role() == Role::Leader && m.led_term == term;
        let mut counted = Vec::new();
        if leading {
            for index in m.seen_commit + 1..=commit {
                let Ok(t) = m.node.log().term(index) else {
                    continue;
                };
                let holds = |n: &NodeId| self.holds(*n, index, t);
                let quorum = [&m.view, &now].into_iter().find(|q| q.met(holds));
                let quorum = quorum.unwrap_or_else(|| {
                    panic!(
                        "leader {id} of term {term} committed entry {index} of term {t}, which \
                         is durable on too few of its voters: {now:?}"
                    )
                });
                counted.push((index, (t, quorum.clone())));
            }
        }
        self.stats.commits += counted.len() as u64;
        for (index, (term, quorum)) in counted {
            self.counted.insert(index, term, quorum);
        }
        let m = self.machines.get_mut(&id).expect("node");
        m.seen_commit = commit;
        m.view = now;
    }

    /// Whether node `n`'s disk holds entry `index` of term `term`, or a
    /// snapshot past it.
    fn holds(&self, n: NodeId, index: Index, term: Term) -> bool {
        self.machines.get(&n).is_some_and(|o| {
            o.durable.term(index).ok() == Some(term)
                || o.durable.snapshot(0).is_ok_and(|s| s.meta.index >= index)
        })
    }

    /// Raft §5.3: where two logs hold an entry with the same index and
    /// term, they agree on every entry before it.
    fn check_log_matching(&self) {
        let logs: Vec<(NodeId, BTreeMap<Index, Term>)> = self
            .machines
            .iter()
            .map(|(&id, m)| {
                let log = m.node.log();
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
        for w in m.pending.drain(..) {
            w.apply(&mut m.durable);
        }
        self.net.append(&mut m.held);
        for r in m.receipts.drain(..) {
            m.node.on_persisted(r);
        }
        self.counted
            .check_held(|n, index, term| self.holds(n, index, term));
        self.drive(id);
    }

    /// The node crashes: unsynced writes are lost (or a prefix of their
    /// entries reaches the disk), and it restarts from its disk.
    fn crash(&mut self, id: NodeId, torn: usize) {
        let m = self.machines.get_mut(&id).expect("node");
        let entries: Vec<Entry> = m
            .pending
            .iter()
            .take_while(|w| w.snapshot.is_none() && w.staged.is_none())
            .flat_map(|w| w.entries.iter().cloned())
            .take(torn)
            .collect();
        let _ = m.durable.append(&*entries);
        self.counted
            .check_held(|n, index, term| self.holds(n, index, term));
        let m = self.machines.get_mut(&id).expect("node");
        m.pending.clear();
        m.held.clear();
        m.receipts.clear();
        m.restarts += 1;
        self.stats.crashes += 1;
        let snap = m.durable.snapshot(0).map_or(0, |s| s.meta.index);
        m.applied = self.snapshots.get(&snap).cloned().unwrap_or_default();
        let config = Config {
            applied: snap,
            ..m.config.clone()
        };
        let rng = StdRng::seed_from_u64((m.restarts << 8) | id);
        m.node =
            RaftNode::new(config, m.durable.clone(), rng).expect("a node restarts from its disk");
        m.led_term = 0;
        m.seen_commit = m.node.log().committed();
        self.drive(id);
    }

    /// Snapshots the node's state machine and compacts its log.
    fn compact(&mut self, id: NodeId, keep: u64) {
        let m = self.machines.get_mut(&id).expect("node");
        let applied = m.node.log().applied();
        // Only what is durable may be compacted: applied entries are synced.
        let taken = m.durable.snapshot(0).map_or(0, |s| s.meta.index);
        if applied <= taken {
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

    /// A message replaced by one no correct node could be harmed by: a
    /// stale one, or a request any member may send.
    fn replacement(&self, u: &mut Unstructured<'_>, old: &Message) -> Option<Message> {
        let receiver_term = self.machines.get(&old.to)?.node.term();
        let mut m = old.clone();
        match u.int_in_range(0..=3u8).ok()? {
            0 if receiver_term > 0 => {
                m.body = MessageBody::arbitrary(u).ok()?;
                m.term = u.int_in_range(0..=receiver_term - 1).ok()?;
            }
            1 => {
                m.body = MessageBody::Propose {
                    data: vec![0xEE; 1 + u.int_in_range(0..=32usize).ok()?].into(),
                }
            }
            2 => {
                m.body = MessageBody::ReadIndex {
                    id: u.arbitrary().ok()?,
                }
            }
            // Only a leader sends `TimeoutNow`, and one that has sent it
            // answers no read from its lease for the rest of the term; one
            // forged in its name would void a lease it cannot know about.
            _ if self.lease => return None,
            _ => m.body = MessageBody::TimeoutNow,
        }
        Some(m)
    }

    fn step(&mut self, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
        self.issued_now = None;
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
                let node = &mut self.machines.get_mut(&id).expect("node").node;
                let _ = node.propose(self.proposals.to_le_bytes().to_vec());
                if u.arbitrary()? {
                    self.read(id);
                }
                self.drive(id);
            }
            Step::Other(id) => {
                match u.int_in_range(0..=3u8)? {
                    0 => self.compact(id, u.int_in_range(0..=3)?),
                    1 => {
                        let to = self.pick(u);
                        let _ = self
                            .machines
                            .get_mut(&id)
                            .expect("node")
                            .node
                            .transfer_leader(to);
                    }
                    2 => {
                        let node = self.pick(u);
                        let n = &mut self.machines.get_mut(&id).expect("node").node;
                        let conf = n.conf_state();
                        // Down to a lone voter, whose own vote elects it;
                        // a removed node may come back as a learner.
                        let kind = if conf.voters.contains(&node) {
                            ConfChangeKind::Remove
                        } else if !conf.learners.contains(&node) && u.arbitrary()? {
                            ConfChangeKind::AddLearner
                        } else {
                            ConfChangeKind::AddVoter
                        };
                        if kind != ConfChangeKind::Remove || conf.voters.len() > 1 {
                            let _ = n.propose_conf_change(ConfChange::single(kind, node));
                        }
                    }
                    _ => self.read(id),
                }
                self.drive(id);
            }
        }
        Ok(())
    }

    /// A linearizable read on `id`, which must be answered at the commit
    /// index known anywhere now or later.
    fn read(&mut self, id: NodeId) {
        let floor = self.max_commit;
        let node = &mut self.machines.get_mut(&id).expect("node").node;
        let leads = node.role() == Role::Leader;
        if let Ok(read) = node.read_index() {
            self.reads.insert((id, read), floor);
            if leads {
                self.issued_now = Some((id, read));
            }
        }
    }

    /// A leader answered a read without a round of heartbeats (its lease,
    /// or alone a quorum): that stands on there being no leader of a later
    /// term, which every voter the lease's quorum holds refuses to elect
    /// until it runs out.
    fn check_no_later_leader(&self, id: NodeId) {
        let term = self.machines[&id].node.term();
        for (&other, m) in &self.machines {
            assert!(
                m.node.role() != Role::Leader || m.node.term() <= term,
                "leader {id} of term {term} answered a read without a round while node \
                 {other} leads the later term {}",
                m.node.term()
            );
        }
    }

    fn deliver(&mut self, msg: Message) {
        let (to, from, term) = (msg.to, msg.from, msg.term);
        let Some(m) = self.machines.get_mut(&to) else {
            return;
        };
        // The voters' half of a lease (check-quorum's leader stickiness): a
        // node that heard its leader less than an election timeout ago
        // ignores a vote request for a later term, unless the leader
        // handed over to the candidate.
        let before = (m.node.term(), m.node.leader());
        let timeout = u64::from(m.config.election_timeout_ticks);
        let sticky = self.lease
            && term > before.0
            && matches!(
                msg.body,
                MessageBody::VoteRequest {
                    pre_vote: false,
                    transfer: false,
                    ..
                }
            )
            && self.heard.get(&to).is_some_and(|&(t, leader, at)| {
                t == before.0 && before.1 == Some(leader) && self.clock < at + timeout
            });
        let from_leader = matches!(
            msg.body,
            MessageBody::Append { .. } | MessageBody::Heartbeat { .. }
        );
        let _ = m.node.step(msg);
        self.stats.sticky_refusals += u64::from(sticky);
        assert!(
            !sticky || m.node.term() == before.0,
            "node {to} took node {from}'s vote request for term {term} at tick {} while it \
             heard its leader of term {} less than an election timeout before",
            self.clock,
            before.0
        );
        if self.lease && from_leader && m.node.leader() == Some(from) && m.node.term() == term {
            self.heard.insert(to, (term, from, self.clock));
        }
        self.drive(to);
    }
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
    c.stats.max_commit = c.max_commit;
    c.stats
}
