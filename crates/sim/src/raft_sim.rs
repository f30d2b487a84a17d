//! The cluster simulator for synod-raft-core: nodes with in-memory disks
//! that lose unsynced writes on a crash, a faulty network, key-value
//! clients that time out and retry, invariant checks after every step and a
//! linearizability check of the history at the end.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt, SeedableRng};
use synod_raft_core::{
    Config, DropReason, Entry, Error as RaftError, HardState, MemStorage, Message, Payload,
    PersistReceipt, Proposal, RaftNode, Role, Snapshot, Storage,
};

use crate::error::SimError;
use crate::fault::FaultConfig;
use crate::history::{History, Input, OpId, Output};
use crate::kv::{Command, Kv};
use crate::linearizability::{Verdict, check};
use crate::network::Network;
use crate::partition::{self, PartitionKind};

/// What a run simulates.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Nodes in the cluster.
    pub nodes: u64,
    /// The seed: the same seed replays the same run.
    pub seed: u64,
    /// Ticks with faults.
    pub ticks: u64,
    /// Ticks after every fault heals, in which the cluster must make
    /// progress (the liveness mode); 0 for safety only.
    pub heal_ticks: u64,
    /// Concurrent clients.
    pub clients: u64,
    /// Operations the clients invoke during `ticks`.
    pub ops: u64,
    /// Operations each client may invoke after healing (liveness mode),
    /// in thousands: every client must complete at least one within
    /// `heal_ticks`.
    pub heal_ops: u64,
    /// Keys the operations touch.
    pub keys: u64,
    /// Ticks a client waits for an answer before giving up on an operation.
    pub client_timeout_ticks: u64,
    /// The faults injected during `ticks`.
    pub faults: FaultConfig,
    /// Search steps the linearizability check may spend.
    pub check_budget: u64,
    /// Per node per tick: the disk syncs pending writes (lower means more
    /// writes at risk when a node crashes).
    pub sync_probability: f64,
    /// The nodes' `max_size_per_msg_bytes`: 1 sends one entry per append,
    /// so acknowledgements cover fewer entries and more interleavings occur.
    pub max_size_per_msg_bytes: u64,
    /// Run the nodes with pre-vote.
    pub pre_vote: bool,
    /// Run the nodes with check-quorum.
    pub check_quorum: bool,
    /// Per tick: the leader proposes a membership change (removing a voter
    /// while at least 4 remain, or adding a removed node back).
    pub reconfigure: f64,
    /// Per node per tick: the node snapshots its state machine and compacts
    /// its log (keeping a short tail), so lagging nodes need snapshots.
    pub compact: f64,
    /// Record a readable event trace (faults, leader changes, client
    /// operations) in the report, for replaying a failing seed.
    pub record_events: bool,
    /// Test-only: run a deliberately broken protocol variant.
    #[cfg(feature = "mutations")]
    pub mutation: Option<synod_raft_core::mutation::Mutation>,
}

impl SimConfig {
    /// The safety profile: 5 nodes, 2,000 ticks of every fault, 200
    /// operations; pre-vote and check-quorum on or off depending on the
    /// seed.
    #[must_use]
    pub fn safety(seed: u64) -> Self {
        Self {
            nodes: 5,
            seed,
            ticks: 2_000,
            heal_ticks: 0,
            clients: 4,
            ops: 200,
            heal_ops: 0,
            keys: 4,
            client_timeout_ticks: 60,
            faults: FaultConfig::safety(),
            check_budget: 5_000_000,
            compact: 0.01,
            reconfigure: 0.005,
            record_events: false,
            // Seeds cover all four protocol variants: classic Raft (where
            // split votes are common) and each optimisation.
            sync_probability: 0.5,
            max_size_per_msg_bytes: 1 << 20,
            pre_vote: seed.is_multiple_of(2),
            check_quorum: seed % 4 < 2,
            #[cfg(feature = "mutations")]
            mutation: None,
        }
    }

    /// The liveness profile: as safety, then 300 ticks healed in which
    /// operations must complete.
    #[must_use]
    pub fn liveness(seed: u64) -> Self {
        Self {
            heal_ticks: 300,
            heal_ops: 1,
            ..Self::safety(seed)
        }
    }

    /// The chaos profile: classic Raft (no pre-vote, no check-quorum) on
    /// 3 or 5 nodes under [`FaultConfig::chaos`]; the seed picks how slow
    /// the disks are and whether appends carry one entry or many.
    #[must_use]
    pub fn chaos(seed: u64) -> Self {
        Self {
            nodes: if seed.is_multiple_of(2) { 3 } else { 5 },
            keys: 8,
            client_timeout_ticks: 60,
            faults: FaultConfig::chaos(),
            // No compaction: the vote-before-persist bug needs long logs of
            // unsynced votes, and the safety profile covers snapshots.
            compact: 0.0,
            // Seeds vary how slow the disk is and how big appends are:
            // different bugs need different interleavings.
            sync_probability: [0.5, 0.15, 0.05][(seed % 3) as usize],
            max_size_per_msg_bytes: if (seed / 3).is_multiple_of(2) {
                1
            } else {
                1 << 20
            },
            pre_vote: false,
            check_quorum: false,
            ..Self::safety(seed)
        }
    }

    fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if !(0.0..=1.0).contains(&self.reconfigure) {
            return Err(SimError::InvalidProbability {
                field: "reconfigure",
                value: self.reconfigure,
            });
        }
        if !(0.0..=1.0).contains(&self.compact) {
            return Err(SimError::InvalidProbability {
                field: "compact",
                value: self.compact,
            });
        }
        if !(0.0..=1.0).contains(&self.sync_probability) {
            return Err(SimError::InvalidProbability {
                field: "sync_probability",
                value: self.sync_probability,
            });
        }
        self.faults.validate()
    }
}

/// What a run exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Distinct terms in which some node led.
    pub terms_with_leader: u64,
    /// Times the leader observed by the simulator changed.
    pub leader_changes: u64,
    /// Partitions started.
    pub partitions: u64,
    /// Partitions started, by shape.
    pub partition_kinds: BTreeMap<PartitionKind, u64>,
    /// Node crashes.
    pub crashes: u64,
    /// Crashes that lost writes not yet synced.
    pub lost_writes: u64,
    /// Crashes that left a torn write (a prefix of it) on disk.
    pub torn_writes: u64,
    /// Snapshots taken (with log compaction) and installed from a leader.
    pub snapshots: (u64, u64),
    /// Membership changes proposed and accepted by a leader.
    pub conf_changes: u64,
    /// Node pauses.
    pub pauses: u64,
    /// Ticks skipped by slow clocks.
    pub skewed_ticks: u64,
    /// Messages sent, dropped and duplicated.
    pub messages: (u64, u64, u64),
    /// Operations that completed, and that ended unknown (timed out).
    pub ops: (u64, u64),
    /// The highest commit index any node reached.
    pub committed: u64,
}

impl Summary {
    /// Adds another run's counts to these.
    pub fn add(&mut self, other: &Summary) {
        self.terms_with_leader += other.terms_with_leader;
        self.leader_changes += other.leader_changes;
        self.partitions += other.partitions;
        for (kind, n) in &other.partition_kinds {
            *self.partition_kinds.entry(*kind).or_default() += n;
        }
        self.crashes += other.crashes;
        self.lost_writes += other.lost_writes;
        self.torn_writes += other.torn_writes;
        self.snapshots.0 += other.snapshots.0;
        self.snapshots.1 += other.snapshots.1;
        self.conf_changes += other.conf_changes;
        self.pauses += other.pauses;
        self.skewed_ticks += other.skewed_ticks;
        self.messages.0 += other.messages.0;
        self.messages.1 += other.messages.1;
        self.messages.2 += other.messages.2;
        self.ops.0 += other.ops.0;
        self.ops.1 += other.ops.1;
        self.committed = self.committed.max(other.committed);
    }
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Two leaders in one term (Raft §5.2, election safety).
    TwoLeaders {
        /// The term.
        term: u64,
        /// The first leader seen.
        first: u64,
        /// The second.
        second: u64,
    },
    /// A node applied a different entry at an index already committed
    /// (state-machine safety, Raft §5.4.3).
    CommittedEntryChanged {
        /// The index.
        index: u64,
        /// The node.
        node: u64,
    },
    /// Two logs hold an entry with the same index and term but differ
    /// before it (log matching, Raft §5.3).
    LogMismatch {
        /// One node.
        a: u64,
        /// The other.
        b: u64,
        /// The index where they differ.
        index: u64,
    },
    /// A new leader lacks a committed entry (leader completeness, §5.4).
    LeaderIncomplete {
        /// The leader.
        node: u64,
        /// The missing index.
        index: u64,
    },
    /// The history is not linearizable.
    NotLinearizable(String),
    /// The node asked its disk for an impossible write (a gap in the log,
    /// an older snapshot) or could not read it back: a protocol bug.
    BadWrite {
        /// The node.
        node: u64,
        /// What storage said.
        error: String,
    },
    /// After healing, some client completed no operation within the bound.
    NoProgress {
        /// Operations that completed after healing.
        completed: u64,
        /// Clients that completed none.
        clients_without_progress: u64,
    },
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// What was exercised.
    pub summary: Summary,
    /// The first broken invariant, if any.
    pub violation: Option<Violation>,
    /// The client history.
    pub history: History,
    /// A hash of every event, in order: two runs of one seed must agree.
    pub trace_hash: u64,
    /// With `record_events`: the run's events, one line each.
    pub events: Vec<String>,
    /// Whether the linearizability check ran out of budget.
    pub check_unknown: bool,
}

impl RunReport {
    /// The command that replays this run.
    #[must_use]
    pub fn replay_command(&self, profile: &str) -> String {
        format!(
            "cargo run --release --example simulate -- --start {} --seeds 1 --faults {profile} --verbose",
            self.seed
        )
    }
}

/// Writes handed to a node's disk and not yet synced.
#[derive(Debug, Clone)]
struct PendingWrite {
    snapshot: Option<Snapshot>,
    hard_state: Option<HardState>,
    entries: Vec<Entry>,
}

impl PendingWrite {
    /// Applies the write to a disk: snapshot, then hard state, then entries.
    fn write_to(&self, disk: &mut MemStorage) -> Result<(), synod_raft_core::StorageError> {
        if let Some(snap) = &self.snapshot {
            disk.apply_snapshot(snap.clone())?;
        }
        if let Some(hs) = self.hard_state {
            disk.set_hard_state(hs);
        }
        disk.append(&self.entries)
    }
}

type Node = RaftNode<MemStorage, StdRng>;

#[derive(Debug)]
struct SimNode {
    node: Option<Node>,
    /// What survives a crash.
    durable: MemStorage,
    pending: Vec<PendingWrite>,
    held: Vec<Message>,
    receipts: Vec<PersistReceipt>,
    kv: Kv,
    down_until: u64,
    paused_until: u64,
    restarts: u64,
    /// Requests this node appended as leader: (client, request) -> op.
    serving: BTreeMap<(u64, u64), ()>,
    was_leader_in: u64,
}

#[derive(Debug, Default)]
struct Client {
    /// The outstanding operation, its request number and when it expires.
    current: Option<(OpId, u64, u64)>,
    next_request: u64,
    target: u64,
}

/// A message on the simulated network: between nodes, or to and from
/// clients (client ids are offset past node ids).
#[derive(Debug, Clone)]
enum Wire {
    Raft(Message),
    Request(Command),
    Reply {
        request: u64,
        result: Result<Output, Option<u64>>,
    },
}

const CLIENT_BASE: u64 = 1 << 32;

struct Sim {
    cfg: SimConfig,
    faults: FaultConfig,
    rng: StdRng,
    now: u64,
    nodes: BTreeMap<u64, SimNode>,
    net: Network<Wire>,
    clients: BTreeMap<u64, Client>,
    history: History,
    invoked: u64,
    committed: BTreeMap<u64, (u64, Payload)>,
    leaders: BTreeMap<u64, u64>,
    last_leader: Option<u64>,
    partition_until: u64,
    /// A swizzle in progress: the order nodes are clogged in, how many are
    /// clogged, whether it is still spreading, and when it moves next.
    swizzle: Option<(Vec<u64>, usize, bool, u64)>,
    summary: Summary,
    trace: u64,
    violation: Option<Violation>,
    events: Vec<String>,
    completed_after_heal: u64,
    clients_done_after_heal: std::collections::BTreeSet<u64>,
}

fn mix(h: u64, x: u64) -> u64 {
    let mut z = h ^ x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs one seeded simulation.
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run(cfg: &SimConfig) -> Result<RunReport, SimError> {
    cfg.validate()?;
    let mut sim = Sim::new(cfg.clone());
    for _ in 0..cfg.ticks {
        sim.tick();
        if sim.violation.is_some() {
            break;
        }
    }
    if sim.violation.is_none() && cfg.heal_ticks > 0 {
        sim.heal();
        for _ in 0..cfg.heal_ticks {
            sim.tick();
            if sim.violation.is_some() {
                break;
            }
        }
        let stuck = sim.clients_done_after_heal.len() < sim.clients.len();
        if sim.violation.is_none() && stuck {
            sim.violation = Some(Violation::NoProgress {
                completed: sim.completed_after_heal,
                clients_without_progress: (sim.clients.len() - sim.clients_done_after_heal.len())
                    as u64,
            });
        }
    }
    let mut check_unknown = false;
    if sim.violation.is_none() {
        match check(&sim.history, cfg.check_budget) {
            Verdict::Linearizable => {}
            Verdict::NotLinearizable(report) => {
                sim.violation = Some(Violation::NotLinearizable(report.describe(&sim.history)));
            }
            Verdict::Unknown => check_unknown = true,
        }
    }
    let (done, unknown) = sim.history.outcome_counts();
    sim.summary.ops = (done as u64, unknown as u64);
    sim.summary.messages = (sim.net.sent, sim.net.dropped, sim.net.duplicated);
    sim.summary.terms_with_leader = sim.leaders.len() as u64;
    Ok(RunReport {
        seed: cfg.seed,
        summary: sim.summary,
        violation: sim.violation,
        history: sim.history,
        trace_hash: sim.trace,
        events: sim.events,
        check_unknown,
    })
}

impl Sim {
    fn new(cfg: SimConfig) -> Self {
        let ids: Vec<u64> = (1..=cfg.nodes).collect();
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut nodes = BTreeMap::new();
        for &id in &ids {
            let durable = MemStorage::bootstrap(&ids);
            let (node, _) = Self::start(id, &durable, &cfg, 0);
            nodes.insert(
                id,
                SimNode {
                    node: Some(node),
                    durable,
                    pending: Vec::new(),
                    held: Vec::new(),
                    receipts: Vec::new(),
                    kv: Kv::default(),
                    down_until: 0,
                    paused_until: 0,
                    restarts: 0,
                    serving: BTreeMap::new(),
                    was_leader_in: 0,
                },
            );
        }
        let clients = (0..cfg.clients)
            .map(|c| {
                let target = 1 + rng.next_u64() % cfg.nodes;
                (
                    c,
                    Client {
                        target,
                        ..Client::default()
                    },
                )
            })
            .collect();
        let mut net = Network::new();
        net.set_link_jitter(&ids, &mut rng, &cfg.faults);
        Self {
            faults: cfg.faults.clone(),
            cfg,
            rng,
            now: 0,
            nodes,
            net,
            clients,
            history: History::new(),
            invoked: 0,
            committed: BTreeMap::new(),
            leaders: BTreeMap::new(),
            last_leader: None,
            partition_until: 0,
            swizzle: None,
            summary: Summary::default(),
            trace: 0,
            violation: None,
            events: Vec::new(),
            completed_after_heal: 0,
            clients_done_after_heal: std::collections::BTreeSet::new(),
        }
    }

    /// Records a trace line when the run records events.
    fn event(&mut self, what: impl FnOnce() -> String) {
        if self.cfg.record_events {
            let line = format!("{:>6} {}", self.now, what());
            self.events.push(line);
        }
    }

    /// Starts a node from its disk; its state machine comes from the disk's
    /// snapshot (empty when there is none).
    fn start(id: u64, durable: &MemStorage, cfg: &SimConfig, restarts: u64) -> (Node, Kv) {
        let rng = StdRng::seed_from_u64(mix(mix(cfg.seed, id), restarts));
        let snapshot = durable.snapshot(0).expect("memory storage has a snapshot");
        let kv = if snapshot.is_empty() {
            Kv::default()
        } else {
            Kv::decode(&snapshot.data).expect("the simulator wrote this snapshot")
        };
        #[allow(unused_mut)]
        let mut config = Config {
            pre_vote: cfg.pre_vote,
            check_quorum: cfg.check_quorum,
            max_size_per_msg_bytes: cfg.max_size_per_msg_bytes,
            applied: snapshot.meta.index,
            ..Config::new(id)
        };
        #[cfg(feature = "mutations")]
        {
            config.mutation = cfg.mutation;
        }
        let node =
            RaftNode::new(config, durable.clone(), rng).expect("a bootstrapped storage is valid");
        (node, kv)
    }

    /// Membership changes happen only while faults are on (the liveness
    /// phase runs with a stable configuration).
    fn faults_reconfigure(&self) -> f64 {
        if self.now > self.cfg.ticks {
            0.0
        } else {
            self.cfg.reconfigure
        }
    }

    /// The leader removes a voter (keeping at least 4) or adds a removed
    /// node back.
    fn reconfigure(&mut self) {
        let Some(leader) = self.last_leader else {
            return;
        };
        let roll = self.rng.next_u64();
        let Some(n) = self.nodes.get_mut(&leader).and_then(|s| s.node.as_mut()) else {
            return;
        };
        if n.role() != Role::Leader {
            return;
        }
        let voters = n.conf_state().voters;
        let all: Vec<u64> = (1..=self.cfg.nodes).collect();
        let outside: Vec<u64> = all
            .iter()
            .copied()
            .filter(|id| !voters.contains(id))
            .collect();
        let change = if !outside.is_empty() && (voters.len() < 4 || roll.is_multiple_of(2)) {
            let node = outside[(roll / 2 % outside.len() as u64) as usize];
            synod_raft_core::ConfChange::single(synod_raft_core::ConfChangeKind::AddVoter, node)
        } else if voters.len() >= 4 {
            let node = voters[(roll / 2 % voters.len() as u64) as usize];
            synod_raft_core::ConfChange::single(synod_raft_core::ConfChangeKind::Remove, node)
        } else {
            return;
        };
        if n.propose_conf_change(change.clone()).is_ok() {
            self.summary.conf_changes += 1;
            self.event(|| format!("node {leader} proposes {:?}", change.changes[0]));
            self.drive(leader);
        }
    }

    /// A node snapshots its state machine at its applied index and compacts
    /// its disk, keeping a tail of 5 entries for nearly caught-up peers.
    fn compact(&mut self, id: u64) {
        let s = self.nodes.get_mut(&id).expect("node");
        let Some(n) = s.node.as_mut() else { return };
        let applied = n.log().applied();
        let taken = s.durable.snapshot(0).map_or(0, |snap| snap.meta.index);
        if applied <= taken + 5 {
            return;
        }
        let (conf, data) = (n.conf_state(), s.kv.encode());
        // Applied entries are synced (the node applies only persisted
        // entries, and the simulator persists at sync), so both disks
        // hold them.
        for disk in [&mut s.durable, n.storage_mut()] {
            if disk
                .create_snapshot(applied, conf.clone(), data.clone())
                .is_ok()
            {
                let first = disk.first_index().unwrap_or(1);
                if applied - 5 >= first {
                    let _ = disk.compact(applied - 5);
                }
            }
        }
        self.summary.snapshots.0 += 1;
    }

    fn tick(&mut self) {
        self.now += 1;
        self.inject_faults();
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for &id in &ids {
            if self.is_running(id) {
                if self.rng.random_bool(self.faults.skew) {
                    self.summary.skewed_ticks += 1;
                } else if let Some(n) = self.nodes.get_mut(&id).and_then(|s| s.node.as_mut()) {
                    n.tick();
                }
            }
        }
        self.clients_act();
        for &id in &ids {
            self.drive(id);
        }
        while let Some((from, to, wire)) = self.net.next_due(self.now) {
            self.deliver(from, to, wire);
        }
        for &id in &ids {
            if self.rng.random_bool(self.cfg.sync_probability) {
                self.sync(id);
            }
        }
        for &id in &ids {
            if self.is_running(id) && self.rng.random_bool(self.cfg.compact) {
                self.compact(id);
            }
        }
        if self.rng.random_bool(self.faults_reconfigure()) {
            self.reconfigure();
        }
        self.observe_leaders();
        if self.now.is_multiple_of(25) {
            self.check_log_matching();
        }
    }

    fn is_running(&self, id: u64) -> bool {
        self.nodes
            .get(&id)
            .is_some_and(|s| s.node.is_some() && s.paused_until <= self.now)
    }

    fn inject_faults(&mut self) {
        let now = self.now;
        self.step_swizzle();
        if self.partition_until > 0 && now >= self.partition_until {
            self.net.cut.clear();
            self.partition_until = 0;
        }
        if self.partition_until == 0 && self.rng.random_bool(self.faults.partition) {
            self.partition();
        }
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            let crash_roll = self.rng.next_u64() as f64 / u64::MAX as f64;
            let pause = self.rng.random_bool(self.faults.pause);
            let s = self.nodes.get_mut(&id).expect("node");
            // A nemesis that aims at fsync windows: a node holding an
            // unsynced vote is 25 times likelier to crash right now.
            let durable_vote = s.durable.hard_state().vote;
            let unsynced_vote = s
                .pending
                .iter()
                .any(|w| w.hard_state.is_some_and(|hs| hs.vote != durable_vote));
            let p = if unsynced_vote {
                (self.faults.crash * 25.0).min(1.0)
            } else {
                self.faults.crash
            };
            let crash = crash_roll < p;
            if s.node.is_none() {
                if now >= s.down_until {
                    s.restarts += 1;
                    let (node, kv) = Self::start(id, &s.durable, &self.cfg, s.restarts);
                    s.node = Some(node);
                    s.kv = kv;
                    s.serving.clear();
                    self.trace = mix(self.trace, 0xBEEF ^ id);
                    if self.cfg.record_events {
                        self.events
                            .push(format!("{now:>6} node {id} restarts from its disk"));
                    }
                }
                continue;
            }
            if crash {
                self.summary.crashes += 1;
                if !s.pending.is_empty() {
                    self.summary.lost_writes += 1;
                    if self.faults.torn_writes {
                        // A torn write: a prefix of the unsynced entries
                        // reached the disk (the hard state did not).
                        let entries: Vec<Entry> =
                            s.pending.iter().flat_map(|w| w.entries.clone()).collect();
                        let keep = (self.rng.next_u64() % (entries.len() as u64 + 1)) as usize;
                        if keep > 0 && s.durable.append(&entries[..keep]).is_ok() {
                            self.summary.torn_writes += 1;
                        }
                    }
                }
                s.node = None;
                s.pending.clear();
                s.held.clear();
                s.receipts.clear();
                let (lo, hi) = self.faults.down_ticks;
                s.down_until = now + lo + self.rng.next_u64() % (hi - lo + 1);
                self.trace = mix(self.trace, 0xDEAD ^ id);
                if self.cfg.record_events {
                    self.events.push(format!("{now:>6} node {id} crashes"));
                }
            } else if pause && s.paused_until <= now {
                self.summary.pauses += 1;
                let (lo, hi) = self.faults.pause_ticks;
                s.paused_until = now + lo + self.rng.next_u64() % (hi - lo + 1);
            }
        }
    }

    /// Starts a partition of a shape drawn from the fault config.
    fn partition(&mut self) {
        let kinds = &self.faults.partition_kinds;
        if kinds.is_empty() {
            return;
        }
        let kind = kinds[(self.rng.next_u64() % kinds.len() as u64) as usize];
        self.summary.partitions += 1;
        *self.summary.partition_kinds.entry(kind).or_default() += 1;
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        self.trace = mix(self.trace, 0xCAFE ^ kind as u64);
        self.event(|| format!("partition {kind:?}"));
        if kind == PartitionKind::Swizzle {
            let mut order = ids.clone();
            for i in (1..order.len()).rev() {
                order.swap(i, (self.rng.next_u64() % (i as u64 + 1)) as usize);
            }
            self.swizzle = Some((order, 0, true, self.now));
            self.partition_until = u64::MAX; // ended by the swizzle itself
            return;
        }
        self.net.cut = partition::cuts(kind, &ids, self.last_leader, &mut self.rng);
        let (lo, hi) = self.faults.partition_ticks;
        self.partition_until = self.now + lo + self.rng.next_u64() % (hi - lo + 1);
    }

    /// Moves a swizzle one step: clog one more node every 5 ticks until a
    /// majority is clogged, then unclog them in reverse order.
    fn step_swizzle(&mut self) {
        let Some((order, clogged, growing, next_at)) = self.swizzle.as_mut() else {
            return;
        };
        if self.now < *next_at {
            return;
        }
        *next_at = self.now + 5;
        if *growing && *clogged < order.len() / 2 + 1 {
            *clogged += 1;
        } else {
            *growing = false;
            *clogged -= 1;
        }
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        let mut cut = std::collections::BTreeSet::new();
        for &node in &order[..*clogged] {
            partition::clog(node, &ids, &mut cut);
        }
        self.net.cut = cut;
        if !*growing && *clogged == 0 {
            self.swizzle = None;
            self.partition_until = 0;
        }
    }

    fn heal(&mut self) {
        // Clients keep working while healed, so each one can show progress
        // (a shared budget could be used up by the others).
        self.cfg.ops = self.invoked + self.cfg.heal_ops.max(1) * 1_000;
        self.faults = FaultConfig::none();
        self.net.cut.clear();
        self.partition_until = 0;
        self.swizzle = None;
        let now = self.now;
        for s in self.nodes.values_mut() {
            s.down_until = s.down_until.min(now);
            s.paused_until = s.paused_until.min(now);
        }
    }

    fn clients_act(&mut self) {
        let now = self.now;
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for c in ids {
            let expired = self.clients[&c]
                .current
                .is_some_and(|(_, _, until)| now >= until);
            if expired {
                // Give up: the operation's outcome stays unknown.
                let client = self.clients.get_mut(&c).expect("client");
                let op = client.current.map_or(0, |(op, _, _)| op);
                client.current = None;
                if self.cfg.record_events {
                    self.events
                        .push(format!("{now:>6} client {c} gives up on #{op}"));
                }
                client.target = 1 + self.rng.next_u64() % self.cfg.nodes;
            }
            if self.clients[&c].current.is_some() || self.invoked >= self.cfg.ops {
                continue;
            }
            let key = self.rng.next_u64() % self.cfg.keys;
            let input = match self.rng.next_u64() % 3 {
                0 => Input::Put(self.rng.next_u64() % 5),
                1 => Input::Get,
                _ => {
                    let expect = self
                        .rng
                        .next_u64()
                        .is_multiple_of(2)
                        .then(|| self.rng.next_u64() % 5);
                    Input::Cas {
                        expect,
                        new: self.rng.next_u64() % 5,
                    }
                }
            };
            self.invoked += 1;
            let op = self.history.invoke(c, key, input, now);
            self.event(|| format!("client {c} invokes #{op}: key {key} {input:?}"));
            let client = self.clients.get_mut(&c).expect("client");
            client.next_request += 1;
            let request = client.next_request;
            client.current = Some((op, request, now + self.cfg.client_timeout_ticks));
            let cmd = Command {
                client: c,
                request,
                key,
                input,
            };
            let to = client.target;
            self.send_request(c, to, cmd);
        }
    }

    fn deliver(&mut self, from: u64, to: u64, wire: Wire) {
        if to >= CLIENT_BASE {
            return self.client_receives(to - CLIENT_BASE, from, wire);
        }
        let now = self.now;
        let Some(s) = self.nodes.get(&to) else { return };
        if s.node.is_none() {
            return; // down: lost
        }
        if s.paused_until > now {
            self.net.defer(now, from, to, wire);
            return;
        }
        match wire {
            Wire::Raft(msg) => {
                self.trace = mix(mix(self.trace, from), (to << 8) ^ msg.term);
                let n = self
                    .nodes
                    .get_mut(&to)
                    .and_then(|s| s.node.as_mut())
                    .expect("running");
                let _ = n.step(msg);
            }
            Wire::Request(cmd) => self.serve(to, from, cmd),
            Wire::Reply { .. } => {}
        }
        self.drive(to);
    }

    /// A node receives a client request: the leader appends it; others
    /// answer with the leader they know.
    fn serve(&mut self, id: u64, from: u64, cmd: Command) {
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        let result = match n.propose(cmd.encode()) {
            Ok(Proposal::Appended { .. }) => {
                s.serving.insert((cmd.client, cmd.request), ());
                return;
            }
            Ok(Proposal::Forwarded { leader }) => Err(Some(leader)),
            Err(RaftError::ProposalDropped(DropReason::NotLeader { leader })) => Err(leader),
            Err(_) => Err(None),
        };
        let reply = Wire::Reply {
            request: cmd.request,
            result,
        };
        self.net
            .send(self.now, id, from, reply, &mut self.rng, &self.faults);
    }

    fn client_receives(&mut self, c: u64, from: u64, wire: Wire) {
        let Wire::Reply { request, result } = wire else {
            return;
        };
        let now = self.now;
        let Some(client) = self.clients.get_mut(&c) else {
            return;
        };
        let Some((op, current, until)) = client.current else {
            return;
        };
        if current != request {
            return; // an answer to an operation given up on
        }
        match result {
            Ok(output) => {
                client.current = None;
                client.target = from;
                self.history
                    .complete(op, now, output)
                    .expect("well-formed completion");
                self.event(|| format!("client {c} completes #{op}: {output:?}"));
                if self.cfg.heal_ticks > 0 && now > self.cfg.ticks {
                    self.completed_after_heal += 1;
                    self.clients_done_after_heal.insert(c);
                }
            }
            Err(hint) => {
                // Not appended anywhere: retry the same request elsewhere.
                client.target = hint.unwrap_or(1 + self.rng.next_u64() % self.cfg.nodes);
                let to = client.target;
                let input = self.history.operations()[op].input;
                let key = self.history.operations()[op].key;
                client.current = Some((op, request, until));
                let cmd = Command {
                    client: c,
                    request,
                    key,
                    input,
                };
                self.send_request(c, to, cmd);
            }
        }
    }

    /// Runs a node's ready loop: sends, writes to its disk (unsynced),
    /// applies committed entries and answers clients.
    fn drive(&mut self, id: u64) {
        if !self.is_running(id) {
            return;
        }
        loop {
            let s = self.nodes.get_mut(&id).expect("node");
            let n = s.node.as_mut().expect("running");
            if !n.has_ready() {
                break;
            }
            let ready = match n.ready() {
                Ok(r) => r,
                Err(e) => return self.bad_write(id, e.to_string()),
            };
            let persist = ready.persist;
            let write = PendingWrite {
                snapshot: persist.snapshot.clone(),
                hard_state: persist.hard_state,
                entries: persist.entries.clone(),
            };
            if let Err(e) = write.write_to(n.storage_mut()) {
                return self.bad_write(id, e.to_string());
            }
            if let Some(snap) = &write.snapshot {
                // Installing a leader's snapshot replaces the state machine.
                let Some(kv) = Kv::decode(&snap.data) else {
                    return self.bad_write(id, "undecodable snapshot".to_string());
                };
                s.kv = kv;
                self.summary.snapshots.1 += 1;
            }
            s.pending.push(write);
            let done = persist.persisted();
            s.held.extend(done.messages);
            s.receipts.push(done.receipt);
            let committed = ready.committed_entries;
            self.send_raft(id, ready.messages);
            for e in committed {
                self.apply(id, e);
            }
        }
    }

    fn apply(&mut self, id: u64, e: Entry) {
        self.trace = mix(mix(self.trace, id), (e.index << 16) ^ e.term);
        self.summary.committed = self.summary.committed.max(e.index);
        match self.committed.get(&e.index) {
            Some((term, payload)) if *term != e.term || *payload != e.payload => {
                self.violation
                    .get_or_insert(Violation::CommittedEntryChanged {
                        index: e.index,
                        node: id,
                    });
            }
            Some(_) => {}
            None => {
                self.committed.insert(e.index, (e.term, e.payload.clone()));
            }
        }
        let s = self.nodes.get_mut(&id).expect("node");
        if let Some(n) = s.node.as_mut() {
            n.on_applied(e.index);
        }
        let Payload::Command(bytes) = &e.payload else {
            return;
        };
        let Some(cmd) = Command::decode(bytes) else {
            return;
        };
        let Some(output) = s.kv.apply_command(&cmd) else {
            return;
        };
        if s.serving.remove(&(cmd.client, cmd.request)).is_some() {
            let reply = Wire::Reply {
                request: cmd.request,
                result: Ok(output),
            };
            self.net.send(
                self.now,
                id,
                CLIENT_BASE + cmd.client,
                reply,
                &mut self.rng,
                &self.faults,
            );
        }
    }

    /// The disk syncs: pending writes become durable, and the messages
    /// that waited for them go out.
    fn sync(&mut self, id: u64) {
        if !self.is_running(id) {
            return;
        }
        let s = self.nodes.get_mut(&id).expect("node");
        for w in std::mem::take(&mut s.pending) {
            if let Err(e) = w.write_to(&mut s.durable) {
                return self.bad_write(id, e.to_string());
            }
        }
        let held: Vec<Message> = s.held.drain(..).collect();
        let receipts: Vec<PersistReceipt> = s.receipts.drain(..).collect();
        let n = s.node.as_mut().expect("running");
        for r in receipts {
            n.on_persisted(r);
        }
        self.send_raft(id, held);
        self.drive(id);
    }

    /// A client sends a request to node `to`.
    fn send_request(&mut self, client: u64, to: u64, cmd: Command) {
        let from = CLIENT_BASE + client;
        self.net.send(
            self.now,
            from,
            to,
            Wire::Request(cmd),
            &mut self.rng,
            &self.faults,
        );
    }

    fn send_raft(&mut self, from: u64, msgs: Vec<Message>) {
        for msg in msgs {
            let to = msg.to;
            let wire = Wire::Raft(msg);
            self.net
                .send(self.now, from, to, wire, &mut self.rng, &self.faults);
        }
    }

    /// Records an impossible disk write and stops the node (the
    /// application would have to stop too).
    fn bad_write(&mut self, id: u64, error: String) {
        self.violation
            .get_or_insert(Violation::BadWrite { node: id, error });
        if let Some(s) = self.nodes.get_mut(&id) {
            s.node = None;
            s.down_until = u64::MAX;
        }
    }

    /// Log matching (Raft §5.3), checked every 25 ticks over every pair of
    /// running nodes: where two logs agree on an entry's term, they agree
    /// on everything before it.
    fn check_log_matching(&mut self) {
        let logs: Vec<(u64, Vec<(u64, u64)>)> = self
            .nodes
            .iter()
            .filter_map(|(&id, s)| {
                let log = s.node.as_ref()?.log();
                let (first, last) = (log.first_index().ok()?, log.last_index().ok()?);
                // Terms only: no entry payloads are cloned.
                let terms = (first..=last).filter_map(|i| Some((i, log.term(i).ok()?)));
                Some((id, terms.collect()))
            })
            .collect();
        for (i, (a, la)) in logs.iter().enumerate() {
            let common: BTreeMap<u64, u64> = la.iter().copied().collect();
            for (b, lb) in &logs[i + 1..] {
                // The highest index both hold with the same term.
                let Some(&(top, _)) = lb.iter().rev().find(|(idx, t)| common.get(idx) == Some(t))
                else {
                    continue;
                };
                for &(idx, t) in lb.iter().filter(|(idx, _)| *idx <= top) {
                    if common.get(&idx).is_some_and(|&ta| ta != t) {
                        self.violation.get_or_insert(Violation::LogMismatch {
                            a: *a,
                            b: *b,
                            index: idx,
                        });
                        return;
                    }
                }
            }
        }
    }

    /// Election safety and leader completeness, checked every tick.
    fn observe_leaders(&mut self) {
        let mut current = None;
        for (&id, s) in &mut self.nodes {
            let Some(n) = s.node.as_ref() else { continue };
            if n.role() != Role::Leader {
                continue;
            }
            let term = n.term();
            let first = *self.leaders.entry(term).or_insert(id);
            if first != id {
                self.violation.get_or_insert(Violation::TwoLeaders {
                    term,
                    first,
                    second: id,
                });
            }
            if s.was_leader_in != term {
                s.was_leader_in = term;
                // A new leader holds every committed entry (Raft §5.4).
                let log = n.log();
                let first_index = log.first_index().unwrap_or(1);
                for (&index, (t, _)) in self.committed.range(first_index..) {
                    if !log.match_term(index, *t) {
                        self.violation
                            .get_or_insert(Violation::LeaderIncomplete { node: id, index });
                        break;
                    }
                }
            }
            if current.is_none_or(|(t, _)| term > t) {
                current = Some((term, id));
            }
        }
        let leader = current.map(|(_, id)| id);
        if leader.is_some() && leader != self.last_leader {
            self.summary.leader_changes += 1;
            self.last_leader = leader;
            if let Some((term, id)) = current {
                self.event(|| format!("node {id} leads term {term}"));
            }
        }
    }
}
