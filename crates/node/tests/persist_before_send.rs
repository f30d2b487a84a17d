//! Persist before send, audited from outside the driver: every
//! acknowledgement of entries and every granted vote a node sends must be
//! backed by a sync of its log that already happened.

use crate::support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Journal, converge, leader, raft_options, tokio_ticks, write};
use synod_node::memory::{MemNetwork, MemTransport};
use synod_node::{Driver, Inline, LogStorage, NodeOptions, Transport};
use synod_protocol::{
    HardState, Index, MemStorage, NodeId, Protocol, Storage, StorageError, Write,
};
use synod_raft_core::{AppendResult, Message, MessageBody, RaftNode};

/// What each node's last sync made durable.
#[derive(Debug, Default)]
struct Audit {
    durable: BTreeMap<NodeId, (Index, HardState)>,
    checked: u64,
    violations: Vec<String>,
}

type Shared = Arc<Mutex<Audit>>;

fn lock(a: &Shared) -> std::sync::MutexGuard<'_, Audit> {
    a.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
struct AuditedDisk {
    id: NodeId,
    log: MemStorage,
    audit: Shared,
}

delegate_storage!(AuditedDisk, log);

impl LogStorage for AuditedDisk {
    fn write(&mut self, write: Write) -> Result<(), StorageError> {
        self.log.write(write)
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        let last = self.log.last_index()?;
        lock(&self.audit)
            .durable
            .insert(self.id, (last, self.log.hard_state()));
        Ok(())
    }
    delegate_compaction!(log);
}

struct AuditedTransport {
    id: NodeId,
    inner: MemTransport<Message>,
    audit: Shared,
}

impl Transport<Message> for AuditedTransport {
    fn send(&self, to: NodeId, message: Message) {
        {
            let mut audit = lock(&self.audit);
            let (last, hs) = audit.durable.get(&self.id).copied().unwrap_or_default();
            match &message.body {
                MessageBody::AppendResponse(AppendResult::Accepted { match_index }) => {
                    audit.checked += 1;
                    if *match_index > last {
                        let v = format!(
                            "node {} acknowledged {match_index} with only {last} synced",
                            self.id
                        );
                        audit.violations.push(v);
                    }
                }
                MessageBody::VoteResponse {
                    pre_vote: false,
                    granted: true,
                } => {
                    audit.checked += 1;
                    if hs.term != message.term || hs.vote != Some(to) {
                        let v = format!(
                            "node {} granted {to} its vote in term {} with {hs:?} synced",
                            self.id, message.term
                        );
                        audit.violations.push(v);
                    }
                }
                _ => {}
            }
        }
        self.inner.send(to, message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledgement_or_vote_leaves_before_its_sync() {
    let net = MemNetwork::new(21);
    let audit: Shared = Arc::default();
    let mut clients = Vec::new();
    for id in [1u64, 2, 3] {
        let disk = AuditedDisk {
            id,
            log: MemStorage::bootstrap(&[1, 2, 3]),
            audit: Arc::clone(&audit),
        };
        let node = <RaftNode<AuditedDisk, StdRng> as Protocol>::start(
            id,
            &raft_options(),
            disk,
            StdRng::seed_from_u64(id),
        )
        .expect("starts");
        let transport = AuditedTransport {
            id,
            inner: net.transport(id),
            audit: Arc::clone(&audit),
        };
        let (client, inbox, driver) = Driver::new(
            node,
            Journal::default(),
            transport,
            Inline,
            NodeOptions::default(),
        )
        .expect("driver");
        net.attach(id, inbox);
        tokio::spawn(driver.run(tokio_ticks()));
        clients.push((id, client));
    }
    for i in 0..30u32 {
        write(&clients, Bytes::from(format!("a{i}"))).await;
    }
    // Force a second election: more votes to audit.
    let l = leader(&clients).await;
    net.isolate(l);
    let rest: Vec<_> = clients.iter().filter(|(id, _)| *id != l).cloned().collect();
    for i in 0..30u32 {
        write(&rest, Bytes::from(format!("b{i}"))).await;
    }
    net.heal();
    converge(&clients, 60).await;
    let audit = lock(&audit);
    assert!(audit.violations.is_empty(), "{:#?}", audit.violations);
    assert!(
        audit.checked > 60,
        "only {} messages audited",
        audit.checked
    );
}
