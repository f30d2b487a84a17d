//! A three-node cluster of raft-core replicas over the in-process network,
//! and a state machine that remembers every command it applied.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, Driver, Error, Inline, NodeOptions, StateMachine};
use synod_protocol::{MemStorage, Protocol};
use synod_raft_core::{Config, Message, RaftNode};

pub type Node = RaftNode<MemStorage, StdRng>;

/// Every command applied, in order.
#[derive(Debug, Default)]
pub struct Journal {
    pub applied: Vec<Bytes>,
}

/// Questions for a [`Journal`].
#[derive(Debug, Clone)]
pub enum Ask {
    Len,
    All,
}

impl StateMachine for Journal {
    /// The command's position in the journal (1-based).
    type Response = usize;
    type Query = Ask;
    type Answer = Vec<Bytes>;

    fn apply(&mut self, _index: u64, command: &Bytes) -> usize {
        self.applied.push(command.clone());
        self.applied.len()
    }

    /// A stop-sign joins the journal as a line of its own, so replicas
    /// can be compared on where they saw it.
    fn stop_sign(&mut self, index: u64, stop: &synod_protocol::StopSign) {
        let line = format!(
            "stop-sign at {index}: voters {:?}, {}",
            stop.voters,
            String::from_utf8_lossy(&stop.metadata)
        );
        self.applied.push(Bytes::from(line));
    }

    fn query(&self, query: &Ask) -> Vec<Bytes> {
        match query {
            Ask::Len => vec![Bytes::from(self.applied.len().to_string())],
            Ask::All => self.applied.clone(),
        }
    }

    fn snapshot(&self) -> Bytes {
        let mut out = Vec::new();
        for c in &self.applied {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(c);
        }
        Bytes::from(out)
    }

    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String> {
        let mut applied = Vec::new();
        let mut rest = &snapshot[..];
        while !rest.is_empty() {
            let (len, tail) = rest.split_at_checked(4).ok_or("a truncated length")?;
            let len = u32::from_le_bytes(len.try_into().map_err(|_| "a length")?) as usize;
            let (c, tail) = tail.split_at_checked(len).ok_or("a truncated command")?;
            applied.push(Bytes::copy_from_slice(c));
            rest = tail;
        }
        self.applied = applied;
        Ok(())
    }
}

/// Ticks every millisecond on tokio's clock.
pub fn tokio_ticks() -> impl Stream<Item = ()> + Unpin + Send {
    let interval = tokio::time::interval(Duration::from_millis(1));
    Box::pin(futures::stream::unfold(interval, |mut i| async move {
        i.tick().await;
        Some(((), i))
    }))
}

pub fn raft_options() -> Config {
    Config {
        election_timeout_ticks: 10,
        heartbeat_ticks: 1,
        ..Config::new(1)
    }
}

/// One running node's handles.
pub struct Running {
    pub client: Client<Journal>,
    pub task: tokio::task::JoinHandle<Result<Node, Error>>,
}

/// Starts node `id` over `storage` on tokio, attached to `net`.
pub fn start(
    id: u64,
    storage: MemStorage,
    net: &MemNetwork<Message>,
    options: NodeOptions,
) -> Running {
    let node = <Node as Protocol>::start(id, &raft_options(), storage, StdRng::seed_from_u64(id))
        .expect("the replica starts");
    let (client, inbox, driver) =
        Driver::new(node, Journal::default(), net.transport(id), Inline, options)
            .expect("the driver starts");
    net.attach(id, inbox);
    let task = tokio::spawn(driver.run(tokio_ticks()));
    Running { client, task }
}

/// Starts nodes 1, 2 and 3 over bootstrapped logs.
pub fn cluster(net: &MemNetwork<Message>, options: NodeOptions) -> Vec<Running> {
    [1, 2, 3]
        .iter()
        .map(|&id| start(id, MemStorage::bootstrap(&[1, 2, 3]), net, options.clone()))
        .collect()
}

/// Each running node's id and client.
pub fn clients(nodes: &[Running]) -> Vec<(u64, Client<Journal>)> {
    nodes
        .iter()
        .zip(1..)
        .map(|(n, id)| (id, n.client.clone()))
        .collect()
}

/// Waits until some node reports itself leader; returns its id.
pub async fn leader(clients: &[(u64, Client<Journal>)]) -> u64 {
    for _ in 0..2000 {
        for (id, c) in clients {
            if let Ok(s) = c.status().await
                && s.protocol.leader == Some(*id)
                && s.protocol.role == synod_protocol::Role::Leader
            {
                return *id;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("no leader within 4 s");
}

/// Asks whichever node leads, again while the answer is `NotLeader` or
/// `Lost` (neither took effect: refused before it was appended, or its
/// entry replaced by another leader's): leadership can move between
/// finding the leader and asking it, which a loaded machine makes common.
/// Returns the node that answered and its answer.
pub async fn on_leader<T, F, Fut>(
    clients: &[(u64, Client<Journal>)],
    mut ask: F,
) -> (u64, Result<T, Error>)
where
    F: FnMut(Client<Journal>) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for _ in 0..500 {
        let l = leader(clients).await;
        let (_, c) = clients
            .iter()
            .find(|(id, _)| *id == l)
            .expect("the leader is among the clients");
        match ask(c.clone()).await {
            Err(Error::NotLeader { .. } | Error::Lost) => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            answer => return (l, answer),
        }
    }
    panic!("no leader held on long enough to answer");
}

/// Proposes through whichever node leads, following `NotLeader` hints and
/// retrying `Lost`; returns the journal position.
pub async fn write(clients: &[(u64, Client<Journal>)], command: Bytes) -> usize {
    let mut at = 0;
    for _ in 0..4000 {
        let (_, c) = &clients[at % clients.len()];
        match c.propose(command.clone()).await {
            Ok(pos) => return pos,
            Err(Error::NotLeader { leader: Some(l) }) => {
                at = clients
                    .iter()
                    .position(|(id, _)| *id == l)
                    .unwrap_or(at + 1);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(_) => {
                at += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    panic!("no node took {command:?}");
}

/// Every node's journal, read stale (locally).
pub async fn journals(clients: &[(u64, Client<Journal>)]) -> Vec<(u64, Vec<Bytes>)> {
    let mut out = Vec::new();
    for (id, c) in clients {
        out.push((
            *id,
            c.read(Ask::All, Consistency::Stale).await.expect("a read"),
        ));
    }
    out
}

/// Waits until every node's journal equals the longest one and holds at
/// least `len` commands; returns it.
pub async fn converge(clients: &[(u64, Client<Journal>)], len: usize) -> Vec<Bytes> {
    for _ in 0..3000 {
        let all = journals(clients).await;
        let first = &all[0].1;
        if first.len() >= len && all.iter().all(|(_, j)| j == first) {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let all = journals(clients).await;
    let lens: Vec<(u64, usize)> = all.iter().map(|(id, j)| (*id, j.len())).collect();
    panic!("the journals did not converge to {len}: {lens:?}");
}

/// Implements `synod_protocol::Storage` for a test log that wraps a
/// `MemStorage` in field `$field`, reading through to it.
#[macro_export]
macro_rules! delegate_storage {
    ($ty:ty, $field:ident) => {
        impl synod_protocol::Storage for $ty {
            fn initial_state(
                &self,
            ) -> Result<synod_protocol::InitialState, synod_protocol::StorageError> {
                self.$field.initial_state()
            }
            fn entries(
                &self,
                lo: u64,
                hi: u64,
                max_bytes: u64,
            ) -> Result<Vec<synod_protocol::Entry>, synod_protocol::StorageError> {
                self.$field.entries(lo, hi, max_bytes)
            }
            fn term(&self, index: u64) -> Result<u64, synod_protocol::StorageError> {
                self.$field.term(index)
            }
            fn first_index(&self) -> Result<u64, synod_protocol::StorageError> {
                self.$field.first_index()
            }
            fn last_index(&self) -> Result<u64, synod_protocol::StorageError> {
                self.$field.last_index()
            }
            fn snapshot(
                &self,
                request_index: u64,
            ) -> Result<synod_protocol::Snapshot, synod_protocol::StorageError> {
                self.$field.snapshot(request_index)
            }
        }
    };
}

/// `LogStorage::snapshot_and_compact` for a test log that wraps a
/// `MemStorage` in field `$field`: invoked inside the wrapper's
/// `impl LogStorage`.
#[macro_export]
macro_rules! delegate_compaction {
    ($field:ident) => {
        fn snapshot_and_compact(
            &mut self,
            index: synod_protocol::Index,
            conf_state: synod_protocol::ConfState,
            data: bytes::Bytes,
            compact_through: synod_protocol::Index,
        ) -> Result<(), synod_protocol::StorageError> {
            self.$field
                .snapshot_and_compact(index, conf_state, data, compact_through)
        }
    };
}
