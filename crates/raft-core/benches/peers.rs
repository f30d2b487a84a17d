//! The peers on the same workload as synod-raft-core (see `workload.rs`):
//! tikv's `raft` 0.7 and `omnipaxos` 0.2.4 with `omnipaxos_storage`'s
//! memory storage. Each is driven the way its own documentation and
//! examples show, with its in-memory storage and without serialization.
//! Included by the benches and tests with `#[path]`, because the peers are
//! dev-dependencies of this package.

use bytes::Bytes;
use omnipaxos::messages::Message as OpMessage;
use omnipaxos::storage::{Entry as OpEntry, NoSnapshot};
use omnipaxos::util::LogEntry;
use omnipaxos::{ClusterConfig, OmniPaxos, ServerConfig};
use omnipaxos_storage::memory_storage::MemoryStorage as OpStorage;
use raft::prelude::{ConfState, Config as RsConfig, Message as RsMessage, RawNode};
use raft::storage::MemStorage as RsStorage;
use synod_raft_core_bench::{Cluster, Mailbox, handle_all};

/// tikv's raft-rs: `RawNode` with its `MemStorage`, the ready / advance /
/// light-ready loop of its `single_mem_node` example.
pub(crate) struct RaftRsCluster {
    nodes: Vec<RawNode<RsStorage>>,
    mail: Mailbox<RsMessage>,
}

impl RaftRsCluster {
    fn handle_ready(
        node: &mut RawNode<RsStorage>,
        queue: &mut Vec<RsMessage>,
        payload_check: &mut dyn FnMut(&[u8]),
    ) -> usize {
        if !node.has_ready() {
            return 0;
        }
        let store = node.raft.raft_log.store.clone();
        let mut ready = node.ready();
        queue.extend(ready.take_messages());
        if !ready.snapshot().is_empty() {
            store
                .wl()
                .apply_snapshot(ready.snapshot().clone())
                .expect("snapshot");
        }
        let mut applied = apply(ready.take_committed_entries(), payload_check);
        if !ready.entries().is_empty() {
            store.wl().append(ready.entries()).expect("append");
        }
        if let Some(hs) = ready.hs() {
            store.wl().set_hardstate(hs.clone());
        }
        queue.extend(ready.take_persisted_messages());
        let mut light = node.advance(ready);
        if let Some(commit) = light.commit_index() {
            store.wl().mut_hard_state().set_commit(commit);
        }
        queue.extend(light.take_messages());
        applied += apply(light.take_committed_entries(), payload_check);
        node.advance_apply();
        applied
    }
}

/// Applies raft-rs entries: counts those with data (not the leader's
/// empty entry).
fn apply(entries: Vec<raft::prelude::Entry>, payload_check: &mut dyn FnMut(&[u8])) -> usize {
    let mut n = 0;
    for e in entries {
        if !e.data.is_empty() {
            payload_check(&e.data);
            n += 1;
        }
    }
    n
}

impl Cluster for RaftRsCluster {
    const NAME: &'static str = "raft-rs 0.7";

    fn start(n: u64) -> Self {
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let voters: Vec<u64> = (1..=n).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let config = RsConfig {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 3,
                    max_size_per_msg: 1024 * 1024,
                    max_inflight_msgs: 256,
                    ..Default::default()
                };
                let storage =
                    RsStorage::new_with_conf_state(ConfState::from((voters.clone(), vec![])));
                RawNode::new(&config, storage, &logger).expect("valid config")
            })
            .collect();
        let mut cluster = Self {
            nodes,
            mail: Mailbox::default(),
        };
        cluster.nodes[0].campaign().expect("campaign");
        for _ in 0..50 {
            cluster.cycle(&mut |_| {});
        }
        assert_eq!(
            cluster.nodes[0].raft.state,
            raft::StateRole::Leader,
            "node 1 leads"
        );
        cluster
    }

    fn propose(&mut self, data: Vec<u8>) {
        self.nodes[0]
            .propose(Vec::new(), data)
            .expect("the leader accepts");
    }

    fn cycle(&mut self, payload_check: &mut dyn FnMut(&[u8])) -> usize {
        let queue = &mut self.mail.queue;
        let applied_on_leader = handle_all(&mut self.nodes, |node| {
            Self::handle_ready(node, queue, payload_check)
        });
        let nodes = &mut self.nodes;
        self.mail.deliver(|m| m.to, |k, m| drop(nodes[k].step(m)));
        applied_on_leader
    }

    fn compact(&mut self) {
        for node in &mut self.nodes {
            let applied = node.raft.raft_log.applied;
            // raft-rs drops the entries before the index it is given.
            let store = node.raft.raft_log.store.clone();
            store.wl().compact(applied).expect("compact");
        }
    }

    fn messages(&self) -> u64 {
        self.mail.delivered()
    }
}

/// An OmniPaxos log entry: the command's bytes, shared like ours (the
/// strongest setup for OmniPaxos: cloning an entry copies no payload).
#[derive(Clone, Debug)]
pub(crate) struct Command(pub(crate) Bytes);

impl OpEntry for Command {
    type Snapshot = NoSnapshot;
}

type OpNode = OmniPaxos<Command, OpStorage<Command>>;

/// OmniPaxos: `append`, `take_outgoing_messages`, `handle_incoming`, and
/// the decided suffix read to apply, as its documentation shows.
pub(crate) struct OmniPaxosCluster {
    nodes: Vec<OpNode>,
    /// Per node: entries up to here were applied.
    applied: Vec<usize>,
    leader: usize,
    mail: Mailbox<OpMessage<Command>>,
}

impl OmniPaxosCluster {
    fn deliver(&mut self) {
        let nodes = &mut self.nodes;
        self.mail
            .deliver(|m| m.get_receiver(), |k, m| nodes[k].handle_incoming(m));
    }
}

impl Cluster for OmniPaxosCluster {
    const NAME: &'static str = "omnipaxos 0.2.4";

    fn start(n: u64) -> Self {
        let cluster_config = ClusterConfig {
            configuration_id: 1,
            nodes: (1..=n).collect(),
            ..Default::default()
        };
        let nodes = (1..=n)
            .map(|pid| {
                let server_config = ServerConfig {
                    pid,
                    // Node 1 wins the first election.
                    leader_priority: if pid == 1 { 10 } else { 0 },
                    ..Default::default()
                };
                cluster_config
                    .clone()
                    .build_for_server(server_config, OpStorage::default())
                    .expect("valid config")
            })
            .collect();
        let mut cluster = Self {
            nodes,
            applied: vec![0; n as usize],
            leader: 0,
            mail: Mailbox::default(),
        };
        for _ in 0..500 {
            for node in &mut cluster.nodes {
                node.tick();
                node.take_outgoing_messages(&mut cluster.mail.queue);
            }
            cluster.deliver();
            if let Some((pid, true)) = cluster.nodes[0].get_current_leader()
                && cluster.nodes[(pid - 1) as usize].get_current_leader() == Some((pid, true))
            {
                cluster.leader = (pid - 1) as usize;
                break;
            }
        }
        assert!(
            cluster.nodes[cluster.leader].get_current_leader()
                == Some((cluster.leader as u64 + 1, true)),
            "a leader in the accept phase"
        );
        cluster
    }

    fn propose(&mut self, data: Vec<u8>) {
        let leader = self.leader;
        self.nodes[leader]
            .append(Command(Bytes::from(data)))
            .expect("the leader accepts");
    }

    fn cycle(&mut self, payload_check: &mut dyn FnMut(&[u8])) -> usize {
        let mut applied_on_leader = 0;
        for (k, node) in self.nodes.iter_mut().enumerate() {
            node.take_outgoing_messages(&mut self.mail.queue);
            let decided = node.get_decided_idx();
            if decided <= self.applied[k] {
                continue;
            }
            let mut applied = 0;
            if let Some(entries) = node.read_decided_suffix(self.applied[k]) {
                for e in entries {
                    if let LogEntry::Decided(Command(data)) = e {
                        payload_check(&data);
                        applied += 1;
                    }
                }
            }
            self.applied[k] = decided;
            if k == self.leader {
                applied_on_leader = applied;
            }
        }
        self.deliver();
        applied_on_leader
    }

    fn compact(&mut self) {
        // Trimming on the leader trims every node; only what every node
        // has applied may go.
        let leader = self.leader;
        let applied = self.applied.iter().copied().min().unwrap_or(0);
        let _ = self.nodes[leader].trim(Some(applied));
    }

    fn messages(&self) -> u64 {
        self.mail.delivered()
    }
}
