//! Three Raft nodes in one process: an in-memory network, `MemStorage`, and
//! a tiny key-value state machine. Shows the call loop, an election, writes,
//! a linearizable read through a follower and a leadership transfer.
//!
//! Run: `cargo run --example raft_three_nodes`

use std::collections::{BTreeMap, VecDeque};

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::{Config, MemStorage, Message, Payload, Persist, RaftNode, ReadState, Role};

type Node = RaftNode<MemStorage, StdRng>;

/// A node with its state machine: `key=value` commands set keys.
struct Server {
    node: Node,
    kv: BTreeMap<String, String>,
    applied: u64,
    reads: Vec<ReadState>,
}

impl Server {
    /// One pass of the call loop: send, persist, send what waited, apply.
    fn drive(&mut self, network: &mut VecDeque<Message>) {
        while self.node.has_ready() {
            let ready = self.node.ready().expect("storage reads succeed in memory");
            network.extend(ready.messages);
            // The batch's parts move into storage; `after` releases the
            // messages that waited for the write.
            let Persist {
                hard_state,
                snapshot,
                entries,
                after,
                ..
            } = ready.persist;
            // Snapshot, entries, then hard state: a crash between any two
            // writes leaves a state the node restarts from.
            if let Some(snapshot) = snapshot {
                self.node
                    .storage_mut()
                    .apply_snapshot(snapshot)
                    .expect("newer snapshot");
            }
            self.node
                .storage_mut()
                .append(entries)
                .expect("contiguous entries");
            if let Some(hs) = hard_state {
                self.node.storage_mut().set_hard_state(hs);
            }
            let done = after.persisted();
            network.extend(done.messages);
            self.node.on_persisted(done.receipt);
            for entry in ready.committed_entries {
                if let Payload::Command(cmd) = &entry.payload {
                    let text = String::from_utf8_lossy(cmd);
                    if let Some((k, v)) = text.split_once('=') {
                        self.kv.insert(k.to_string(), v.to_string());
                    }
                }
                self.applied = entry.index;
                self.node.on_applied(entry.index);
            }
            self.reads.extend(ready.read_states);
        }
    }
}

struct Cluster {
    servers: BTreeMap<u64, Server>,
    network: VecDeque<Message>,
}

impl Cluster {
    fn new() -> Self {
        let servers = (1..=3)
            .map(|id| {
                let node = RaftNode::new(
                    Config::new(id),
                    MemStorage::bootstrap(&[1, 2, 3]),
                    StdRng::seed_from_u64(id),
                )
                .expect("valid configuration");
                (
                    id,
                    Server {
                        node,
                        kv: BTreeMap::new(),
                        applied: 0,
                        reads: Vec::new(),
                    },
                )
            })
            .collect();
        Self {
            servers,
            network: VecDeque::new(),
        }
    }

    /// Delivers every message, and what it causes, until the network is quiet.
    fn settle(&mut self) {
        loop {
            for s in self.servers.values_mut() {
                s.drive(&mut self.network);
            }
            let Some(msg) = self.network.pop_front() else {
                return;
            };
            if let Some(s) = self.servers.get_mut(&msg.to) {
                let _ = s.node.step(msg);
            }
        }
    }

    fn tick(&mut self, n: usize) {
        for _ in 0..n {
            for s in self.servers.values_mut() {
                s.node.tick();
            }
            self.settle();
        }
    }

    fn leader(&self) -> u64 {
        self.servers
            .values()
            .find(|s| s.node.role() == Role::Leader)
            .map(|s| s.node.id())
            .expect("a leader")
    }
}

fn main() {
    let mut c = Cluster::new();
    c.tick(30);
    let leader = c.leader();
    println!(
        "elected: node {leader} in term {}",
        c.servers[&leader].node.term()
    );

    for cmd in ["color=blue", "size=large", "color=green"] {
        c.servers
            .get_mut(&leader)
            .unwrap()
            .node
            .propose(cmd.as_bytes().to_vec())
            .expect("leader accepts");
    }
    c.tick(2);
    for (id, s) in &c.servers {
        println!("node {id}: applied {} -> {:?}", s.applied, s.kv);
    }

    // A linearizable read through a follower: serve it once the returned
    // index is applied there.
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let id = c
        .servers
        .get_mut(&follower)
        .unwrap()
        .node
        .read_index()
        .expect("leader known");
    c.tick(1);
    let s = &c.servers[&follower];
    let read = s.reads.iter().find(|r| r.id == id).expect("read answered");
    assert!(s.applied >= read.index);
    println!(
        "read via node {follower}: color = {} (read index {})",
        s.kv["color"], read.index
    );

    c.servers
        .get_mut(&leader)
        .unwrap()
        .node
        .transfer_leader(follower)
        .expect("voter");
    c.tick(2);
    println!(
        "leadership moved to node {} in term {}",
        c.leader(),
        c.servers[&c.leader()].node.term()
    );
}
