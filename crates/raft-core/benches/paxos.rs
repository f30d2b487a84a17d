//! synod-paxos-core on the same workload, driven only through
//! synod-protocol's `Protocol` trait: node 1 campaigns and leads, each
//! cycle every node writes what it hands out into its storage, sends,
//! reports the write durable and applies.

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::{Config, Message, PaxosNode, Role};
use synod_protocol::{MemStorage, Payload, Protocol};

use crate::{Cluster, Mailbox, handle_all};

type Node = PaxosNode<MemStorage, StdRng>;

/// synod-paxos-core on the workload.
#[derive(Debug)]
pub struct PaxosCluster {
    nodes: Vec<Node>,
    mail: Mailbox<Message>,
}

impl PaxosCluster {
    fn handle_ready(
        node: &mut Node,
        queue: &mut Vec<Message>,
        payload_check: &mut dyn FnMut(&[u8]),
    ) -> usize {
        if !node.has_ready() {
            return 0;
        }
        let mut ready = Protocol::ready(node).expect("memory storage reads succeed");
        queue.append(&mut ready.messages);
        node.reuse_messages(ready.messages);
        node.storage_mut()
            .apply_write(ready.write)
            .expect("a write handed out applies");
        let mut done = ready.after_write.written();
        queue.append(&mut done.messages);
        node.reuse_messages(done.messages);
        node.on_written(done.receipt);
        let mut applied = 0;
        let mut last = None;
        for entry in &ready.committed {
            if let Payload::Command(data) = &entry.payload {
                payload_check(data);
                applied += 1;
            }
            last = Some(entry.index);
        }
        if let Some(index) = last {
            node.on_applied(index);
        }
        node.reuse_entries(ready.committed);
        applied
    }
}

impl Cluster for PaxosCluster {
    const NAME: &'static str = "synod-paxos-core";

    fn start(n: u64) -> Self {
        let voters: Vec<u64> = (1..=n).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let config = Config {
                    max_inflight_entries: 1 << 16,
                    ..Config::new(id)
                };
                PaxosNode::new(
                    config,
                    MemStorage::with_voters(&voters),
                    StdRng::seed_from_u64(id),
                )
                .expect("valid config")
            })
            .collect();
        let mut cluster = Self {
            nodes,
            mail: Mailbox::default(),
        };
        cluster.nodes[0].campaign();
        for _ in 0..50 {
            cluster.cycle(&mut |_| {});
        }
        assert_eq!(cluster.nodes[0].role(), Role::Leader, "node 1 leads");
        cluster
    }

    fn propose(&mut self, data: Vec<u8>) {
        self.nodes[0]
            .propose(data.into())
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
            let applied = Protocol::status(node).applied;
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
