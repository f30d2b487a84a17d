//! The replication workload the raft-core benchmarks run, identical for
//! every library, and synod-raft-core's driver for it.
//!
//! A cluster of 3 (or 5) nodes lives in one process on one thread, with
//! in-memory storage; messages go from node to node in memory, never
//! serialized. A *cycle* is: every node handles its ready once (persist,
//! send, apply, report back), then every queued message is delivered. The
//! leader is elected before any measurement. Each cycle the client proposes
//! `proposals_per_cycle` commands on the leader (each its own log entry),
//! or in packed mode one entry carrying `commands_per_entry` commands. The
//! log is compacted every [`COMPACT_EVERY_CYCLES`] cycles. Measured:
//! commands committed and applied on the leader, messages delivered, and
//! the latency of each command in cycles, from the cycle it was proposed
//! to the cycle the leader applied it.
//!
//! The peers' drivers live in `peers.rs` (their crates are dev-dependencies
//! of this package only, never of synod-raft-core).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::VecDeque;

mod paxos;
pub use paxos::PaxosCluster;

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::{Config, MemStorage, Message, Payload, Persist, RaftNode, Role};

/// The log is compacted (snapshot and drop) every this many cycles.
pub const COMPACT_EVERY_CYCLES: u64 = 1024;

/// One point of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Nodes in the cluster.
    pub nodes: u64,
    /// Entries proposed per cycle.
    pub proposals_per_cycle: usize,
    /// Commands in each entry: 1, or 64 in packed mode.
    pub commands_per_entry: usize,
    /// Bytes per command.
    pub command_bytes: usize,
}

impl Workload {
    /// Commands proposed per cycle.
    #[must_use]
    pub fn commands_per_cycle(&self) -> usize {
        self.proposals_per_cycle * self.commands_per_entry
    }

    /// A short name for reports: `3n 16B x64`, `3n 1KiB packed64`.
    #[must_use]
    pub fn name(&self) -> String {
        let size = if self.command_bytes >= 1024 {
            format!("{}KiB", self.command_bytes / 1024)
        } else {
            format!("{}B", self.command_bytes)
        };
        let mode = if self.commands_per_entry > 1 {
            format!("packed{}", self.commands_per_entry)
        } else {
            format!("x{}", self.proposals_per_cycle)
        };
        format!("{}n {size} {mode}", self.nodes)
    }

    /// 16-byte commands, 64 proposals a cycle, each its own entry, on
    /// `nodes` nodes: the point the allocation guard and the driver's
    /// cost measure.
    #[must_use]
    pub fn small_x64(nodes: u64) -> Workload {
        Workload {
            nodes,
            proposals_per_cycle: 64,
            commands_per_entry: 1,
            command_bytes: 16,
        }
    }

    /// The points the issue names: 16 B and 1 KiB commands, 1 and 64
    /// proposals per cycle, and 64 commands packed in one entry.
    #[must_use]
    pub fn standard(nodes: u64) -> Vec<Workload> {
        let mut out = Vec::new();
        for command_bytes in [16, 1024] {
            for (proposals_per_cycle, commands_per_entry) in [(1, 1), (64, 1), (1, 64)] {
                out.push(Workload {
                    nodes,
                    proposals_per_cycle,
                    commands_per_entry,
                    command_bytes,
                });
            }
        }
        out
    }

    /// The payload of one entry, as the application hands it over: a fresh
    /// buffer (the one allocation and the one copy the caller makes).
    #[must_use]
    pub fn payload(&self, seq: u64) -> Vec<u8> {
        let mut data = vec![0u8; self.command_bytes * self.commands_per_entry];
        // Distinct payloads, so no library can dedupe them.
        let tag = seq.to_le_bytes();
        let n = tag.len().min(data.len());
        data[..n].copy_from_slice(&tag[..n]);
        data
    }
}

/// A library driven through the workload.
pub trait Cluster {
    /// The library's name in reports.
    const NAME: &'static str;

    /// A cluster of `nodes` (ids 1..=nodes) with node 1 elected leader.
    fn start(nodes: u64) -> Self;

    /// Proposes one entry on the leader.
    fn propose(&mut self, data: Vec<u8>);

    /// One cycle: every node handles its ready, then every queued message
    /// is delivered. Returns the entries (with a payload) the leader
    /// applied in this cycle; `payload_check` sees each applied payload on
    /// every node.
    fn cycle(&mut self, payload_check: &mut dyn FnMut(&[u8])) -> usize;

    /// Compacts every node's log up to what it applied.
    fn compact(&mut self);

    /// Messages delivered so far.
    fn messages(&self) -> u64;
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Cycles run.
    pub cycles: u64,
    /// Commands committed and applied on the leader.
    pub commands: u64,
    /// Entries committed and applied on the leader.
    pub entries: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Latency of each entry in cycles, sorted.
    pub latency_cycles: Vec<u64>,
}

impl Report {
    /// The `q`-quantile of the latency (0.5 for the median), in cycles.
    #[must_use]
    pub fn latency_quantile(&self, q: f64) -> u64 {
        if self.latency_cycles.is_empty() {
            return 0;
        }
        let rank = ((self.latency_cycles.len() - 1) as f64 * q).round() as usize;
        self.latency_cycles[rank]
    }

    /// Messages delivered per applied entry.
    #[must_use]
    pub fn messages_per_entry(&self) -> f64 {
        self.messages as f64 / self.entries.max(1) as f64
    }
}

/// A cluster under the workload, with the cycle count that paces its
/// compaction across runs.
#[derive(Debug)]
pub struct Harness<C> {
    /// The cluster.
    pub cluster: C,
    /// Cycles run since the start.
    cycle: u64,
}

impl<C: Cluster> Harness<C> {
    /// Starts a cluster of `nodes` with its leader elected.
    #[must_use]
    pub fn start(nodes: u64) -> Self {
        Self {
            cluster: C::start(nodes),
            cycle: 0,
        }
    }

    /// Runs `cycles` cycles of `workload`, then drains (cycles without
    /// proposals) until every proposal is applied.
    ///
    /// # Panics
    /// If the cluster stops applying: a broken driver, not a slow library.
    pub fn run(&mut self, workload: Workload, cycles: u64) -> Report {
        let mut proposed_at: VecDeque<u64> = VecDeque::new();
        let mut latency_cycles = Vec::new();
        let mut entries = 0u64;
        let base_messages = self.cluster.messages();
        let mut seq = self.cycle << 8;
        let mut ignore = |_: &[u8]| {};
        let mut k = 0u64;
        while k < cycles || !proposed_at.is_empty() {
            if k < cycles {
                for _ in 0..workload.proposals_per_cycle {
                    self.cluster.propose(workload.payload(seq));
                    seq += 1;
                    proposed_at.push_back(k);
                }
            }
            let applied = self.cluster.cycle(&mut ignore);
            for _ in 0..applied {
                let at = proposed_at.pop_front().expect("applied more than proposed");
                latency_cycles.push(k - at);
            }
            entries += applied as u64;
            k += 1;
            self.cycle += 1;
            if self.cycle.is_multiple_of(COMPACT_EVERY_CYCLES) {
                self.cluster.compact();
            }
            assert!(
                k < cycles + 10_000,
                "{}: {} entries never applied",
                C::NAME,
                proposed_at.len()
            );
        }
        latency_cycles.sort_unstable();
        Report {
            cycles,
            commands: entries * workload.commands_per_entry as u64,
            entries,
            messages: self.cluster.messages() - base_messages,
            latency_cycles,
        }
    }
}

/// The in-memory network of a driver: messages queued during a cycle,
/// delivered all at once at its end.
#[derive(Debug)]
pub struct Mailbox<M> {
    /// Messages sent in this cycle.
    pub queue: Vec<M>,
    delivering: Vec<M>,
    delivered: u64,
}

impl<M> Default for Mailbox<M> {
    fn default() -> Self {
        Self {
            queue: Vec::new(),
            delivering: Vec::new(),
            delivered: 0,
        }
    }
}

impl<M> Mailbox<M> {
    /// Delivers every queued message: `step(k, msg)` for the node at
    /// position `k = addressee(msg) - 1`.
    pub fn deliver(&mut self, addressee: impl Fn(&M) -> u64, mut step: impl FnMut(usize, M)) {
        std::mem::swap(&mut self.queue, &mut self.delivering);
        for msg in self.delivering.drain(..) {
            self.delivered += 1;
            let k = (addressee(&msg) - 1) as usize;
            step(k, msg);
        }
    }

    /// Messages delivered so far.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.delivered
    }
}

/// Runs `handle` (one node's ready) on every node in order; returns what
/// the leader, node 1 at position 0, applied.
pub fn handle_all<N>(nodes: &mut [N], mut handle: impl FnMut(&mut N) -> usize) -> usize {
    let mut applied_on_leader = 0;
    for (k, node) in nodes.iter_mut().enumerate() {
        let applied = handle(node);
        if k == 0 {
            applied_on_leader = applied;
        }
    }
    applied_on_leader
}

type Node = RaftNode<MemStorage, StdRng>;

/// synod-raft-core on the workload, driven the way the crate docs show:
/// messages sent, the persist batch moved into storage, committed entries
/// applied and reported.
#[derive(Debug)]
pub struct SynodCluster {
    nodes: Vec<Node>,
    mail: Mailbox<Message>,
}

impl SynodCluster {
    fn leader(&mut self) -> &mut Node {
        &mut self.nodes[0]
    }

    /// The node with id `id`.
    #[must_use]
    pub fn node(&self, id: u64) -> &Node {
        &self.nodes[(id - 1) as usize]
    }

    fn handle_ready(
        node: &mut Node,
        queue: &mut Vec<Message>,
        payload_check: &mut dyn FnMut(&[u8]),
    ) -> usize {
        if !node.has_ready() {
            return 0;
        }
        let mut ready = node.ready().expect("memory storage reads succeed");
        queue.append(&mut ready.messages);
        node.reuse_messages(ready.messages);
        let Persist {
            hard_state,
            snapshot,
            entries,
            after,
            ..
        } = ready.persist;
        let storage = node.storage_mut();
        if let Some(snapshot) = snapshot {
            storage.apply_snapshot(snapshot).expect("newer snapshot");
        }
        storage.append(entries).expect("contiguous entries");
        if let Some(hs) = hard_state {
            storage.set_hard_state(hs);
        }
        let mut done = after.persisted();
        queue.append(&mut done.messages);
        node.reuse_messages(done.messages);
        node.on_persisted(done.receipt);
        let mut applied = 0;
        let mut last = None;
        for entry in &ready.committed_entries {
            if let Payload::Command(data) = &entry.payload {
                payload_check(data);
                applied += 1;
            }
            last = Some(entry.index);
        }
        if let Some(index) = last {
            node.on_applied(index);
        }
        node.reuse_entries(ready.committed_entries);
        applied
    }
}

impl Cluster for SynodCluster {
    const NAME: &'static str = "synod-raft-core";

    fn start(n: u64) -> Self {
        let voters: Vec<u64> = (1..=n).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let config = Config {
                    max_inflight_msgs: 256,
                    ..Config::new(id)
                };
                let storage = MemStorage::with_voters(&voters);
                RaftNode::new(config, storage, StdRng::seed_from_u64(id)).expect("valid config")
            })
            .collect();
        let mut cluster = Self {
            nodes,
            mail: Mailbox::default(),
        };
        cluster.leader().campaign();
        for _ in 0..50 {
            cluster.cycle(&mut |_| {});
        }
        assert_eq!(cluster.leader().role(), Role::Leader, "node 1 leads");
        cluster
    }

    fn propose(&mut self, data: Vec<u8>) {
        self.leader().propose(data).expect("the leader accepts");
    }

    fn cycle(&mut self, payload_check: &mut dyn FnMut(&[u8])) -> usize {
        let queue = &mut self.mail.queue;
        let applied_on_leader = handle_all(&mut self.nodes, |node| {
            Self::handle_ready(node, queue, payload_check)
        });
        let nodes = &mut self.nodes;
        // A refusal is the node's to make; the workload never forges.
        self.mail.deliver(|m| m.to, |k, m| drop(nodes[k].step(m)));
        applied_on_leader
    }

    fn compact(&mut self) {
        for node in &mut self.nodes {
            let applied = node.log().applied();
            let conf_state = node.conf_state();
            let storage = node.storage_mut();
            if storage
                .create_snapshot(applied, conf_state, Vec::new())
                .is_ok()
            {
                storage.compact(applied).expect("snapshotted");
            }
        }
    }

    fn messages(&self) -> u64 {
        self.mail.delivered()
    }
}
