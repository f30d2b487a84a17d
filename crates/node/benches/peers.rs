//! openraft 0.9 on the same shape, in its strongest in-process setup: a
//! lean in-memory log (a `BTreeMap` of entries, flushed at once) and state
//! machine (it records the last applied entry and counts), and a network
//! that calls the target's handlers directly, as openraft's own
//! `cluster_benchmark` does. Written for this benchmark; only the trait
//! shapes follow openraft's documentation.

#![allow(clippy::missing_errors_doc, dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::error::{InstallSnapshotError, RPCError, RaftError, RemoteError};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::storage::{
    LogFlushed, LogState, RaftLogReader, RaftLogStorage, RaftSnapshotBuilder, RaftStateMachine,
    Snapshot,
};
use openraft::{
    Config, Entry, EntryPayload, LogId, OptionalSend, Raft, RaftLogId, SnapshotMeta, StorageError,
    StoredMembership, Vote,
};

/// A command: the same 16 bytes synod-node's clients send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request(pub [u8; 16]);

/// What a write returns: the count of applied commands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response(pub u64);

openraft::declare_raft_types!(
    /// The benchmark's type configuration.
    pub Cfg:
        D = Request,
        R = Response,
        Node = (),
);

type Id = u64;

#[derive(Debug, Default)]
struct Log {
    vote: Option<Vote<Id>>,
    entries: BTreeMap<u64, Entry<Cfg>>,
    purged: Option<LogId<Id>>,
}

/// The in-memory log.
#[derive(Debug, Clone, Default)]
pub struct LogStore(Arc<Mutex<Log>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RaftLogReader<Cfg> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<Cfg>>, StorageError<Id>> {
        Ok(lock(&self.0)
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<Cfg> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<Cfg>, StorageError<Id>> {
        let log = lock(&self.0);
        let last = log.entries.values().next_back().map(|e| *e.get_log_id());
        Ok(LogState {
            last_purged_log_id: log.purged,
            last_log_id: last.or(log.purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<Id>) -> Result<(), StorageError<Id>> {
        lock(&self.0).vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<Id>>, StorageError<Id>> {
        Ok(lock(&self.0).vote)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<Cfg>,
    ) -> Result<(), StorageError<Id>>
    where
        I: IntoIterator<Item = Entry<Cfg>> + OptionalSend,
    {
        {
            let mut log = lock(&self.0);
            for e in entries {
                log.entries.insert(e.get_log_id().index, e);
            }
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<Id>) -> Result<(), StorageError<Id>> {
        lock(&self.0).entries.split_off(&log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<Id>) -> Result<(), StorageError<Id>> {
        let mut log = lock(&self.0);
        log.purged = Some(log_id);
        let keep = log.entries.split_off(&(log_id.index + 1));
        log.entries = keep;
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Machine {
    applied: Option<LogId<Id>>,
    membership: StoredMembership<Id, ()>,
    count: u64,
    snapshot: Option<(SnapshotMeta<Id, ()>, Vec<u8>)>,
}

/// The in-memory state machine.
#[derive(Debug, Clone, Default)]
pub struct MachineStore(Arc<Mutex<Machine>>);

impl RaftSnapshotBuilder<Cfg> for MachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<Cfg>, StorageError<Id>> {
        let mut m = lock(&self.0);
        let data = m.count.to_le_bytes().to_vec();
        let meta = SnapshotMeta {
            last_log_id: m.applied,
            last_membership: m.membership.clone(),
            snapshot_id: format!("{:?}", m.applied.map(|l| l.index)),
        };
        m.snapshot = Some((meta.clone(), data.clone()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<Cfg> for MachineStore {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<Id>>, StoredMembership<Id, ()>), StorageError<Id>> {
        let m = lock(&self.0);
        Ok((m.applied, m.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError<Id>>
    where
        I: IntoIterator<Item = Entry<Cfg>> + OptionalSend,
    {
        let mut m = lock(&self.0);
        let mut out = Vec::new();
        for e in entries {
            m.applied = Some(e.log_id);
            if let EntryPayload::Membership(mem) = e.payload {
                m.membership = StoredMembership::new(Some(e.log_id), mem);
            } else if let EntryPayload::Normal(_) = e.payload {
                m.count += 1;
            }
            out.push(Response(m.count));
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError<Id>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<Id, ()>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<Id>> {
        let data = snapshot.into_inner();
        let mut m = lock(&self.0);
        m.count = data
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes);
        m.applied = meta.last_log_id;
        m.membership = meta.last_membership.clone();
        m.snapshot = Some((meta.clone(), data));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<Cfg>>, StorageError<Id>> {
        Ok(lock(&self.0).snapshot.clone().map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

/// Every node's `Raft`, for the function-call network.
#[derive(Clone, Default)]
pub struct Router(Arc<Mutex<BTreeMap<Id, Raft<Cfg>>>>);

/// A connection to one node: its `Raft` handle.
pub struct Peer {
    target: Id,
    raft: Raft<Cfg>,
}

impl RaftNetworkFactory<Cfg> for Router {
    type Network = Peer;

    async fn new_client(&mut self, target: Id, _node: &()) -> Peer {
        let raft = lock(&self.0)
            .get(&target)
            .cloned()
            .expect("every node is registered");
        Peer { target, raft }
    }
}

impl RaftNetwork<Cfg> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<Cfg>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<Id>, RPCError<Id, (), RaftError<Id>>> {
        self.raft
            .append_entries(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<Cfg>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<Id>, RPCError<Id, (), RaftError<Id, InstallSnapshotError>>>
    {
        self.raft
            .install_snapshot(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<Id>,
        _option: RPCOption,
    ) -> Result<VoteResponse<Id>, RPCError<Id, (), RaftError<Id>>> {
        self.raft
            .vote(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

/// A running openraft cluster: the leader's handle.
pub struct OpenraftCluster {
    /// Node 1, the leader.
    pub leader: Raft<Cfg>,
    /// Every node, kept alive.
    pub nodes: Vec<Raft<Cfg>>,
}

/// Starts `nodes` openraft nodes with node 1 initialized as the leader,
/// configured as openraft's benchmark configures them.
pub async fn start_openraft(nodes: u64) -> OpenraftCluster {
    let config = Arc::new(
        Config {
            election_timeout_min: 200,
            election_timeout_max: 2000,
            purge_batch_size: 1024,
            ..Default::default()
        }
        .validate()
        .expect("a valid config"),
    );
    let router = Router::default();
    let mut all = Vec::new();
    for id in 1..=nodes {
        let raft = Raft::new(
            id,
            Arc::clone(&config),
            router.clone(),
            LogStore::default(),
            MachineStore::default(),
        )
        .await
        .expect("starts");
        lock(&router.0).insert(id, raft.clone());
        all.push(raft);
    }
    let members: BTreeSet<Id> = (1..=nodes).collect();
    all[0].initialize(members).await.expect("initializes");
    for raft in &all {
        raft.wait(Some(Duration::from_secs(10)))
            .applied_index(Some(1), "the membership entry")
            .await
            .expect("applies the first entry");
    }
    OpenraftCluster {
        leader: all[0].clone(),
        nodes: all,
    }
}

/// `n_clients` tasks each write `per_client` commands to the leader, one
/// at a time; returns the time until all were acknowledged.
pub async fn run_openraft_clients(leader: &Raft<Cfg>, n_clients: u64, per_client: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..n_clients)
        .map(|c| {
            let leader = leader.clone();
            tokio::spawn(async move {
                for i in 0..per_client {
                    leader
                        .client_write(Request(synod_node_bench::command(c, i)))
                        .await
                        .expect("the leader takes every write");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a client task");
    }
    start.elapsed()
}
