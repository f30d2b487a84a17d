//! The driver benchmark's workload, on our side: openraft's in-process
//! benchmark shape (3 nodes in one process, in-memory log and state
//! machine, an in-process transport, N concurrent clients each awaiting
//! its write) run on synod-node with raft-core.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_node::memory::MemNetwork;
use synod_node::{Client, Driver, Error, Inline, NodeOptions, StateMachine};
use synod_protocol::{MemStorage, Protocol, Role};
use synod_raft_core::{Config, RaftNode};

/// Bytes per command: a client id and a sequence number.
pub const COMMAND_BYTES: usize = 16;

/// Client `client`'s `seq`-th command, the same bytes for both libraries.
#[must_use]
pub fn command(client: u64, seq: u64) -> [u8; COMMAND_BYTES] {
    let mut command = [0u8; COMMAND_BYTES];
    command[..8].copy_from_slice(&client.to_le_bytes());
    command[8..].copy_from_slice(&seq.to_le_bytes());
    command
}

/// A state machine that counts what it applies (the work openraft's
/// benchmark state machine does: record the last applied entry).
#[derive(Debug, Default)]
pub struct Applied(pub u64);

impl StateMachine for Applied {
    type Response = u64;
    type Query = ();
    type Answer = u64;

    fn apply(&mut self, _index: u64, _command: &Bytes) -> u64 {
        self.0 += 1;
        self.0
    }
    fn query(&self, (): &()) -> u64 {
        self.0
    }
    fn snapshot(&self) -> Bytes {
        Bytes::copy_from_slice(&self.0.to_le_bytes())
    }
    fn restore(&mut self, data: &Bytes) -> Result<(), String> {
        let bytes: [u8; 8] = data[..].try_into().map_err(|_| "not a count")?;
        self.0 = u64::from_le_bytes(bytes);
        Ok(())
    }
}

/// A running cluster: the leader's client.
#[derive(Debug)]
pub struct SynodCluster {
    /// The leader's client.
    pub leader: Client<Applied>,
    /// Every node's client.
    pub clients: Vec<Client<Applied>>,
}

/// The raft-core options for the benchmark: elections as openraft's
/// benchmark configures them (a 1 ms tick, timeouts of 200 ms or more),
/// so no election happens during a run.
#[must_use]
pub fn raft_options() -> Config {
    Config {
        election_timeout_ticks: 200,
        heartbeat_ticks: 50,
        ..Config::new(1)
    }
}

/// Spawns `nodes` replicas on the current tokio runtime, node 1
/// campaigning at once, and returns every node's client once it leads.
///
/// # Panics
/// If node 1 does not lead within 10 s: a broken setup.
async fn spawn_cluster(
    net: &MemNetwork<synod_raft_core::Message>,
    nodes: u64,
    raft: &Config,
    options: &NodeOptions,
) -> Vec<Client<Applied>> {
    let ids: Vec<u64> = (1..=nodes).collect();
    let mut clients = Vec::new();
    for &id in &ids {
        let mut node = <RaftNode<MemStorage, StdRng> as Protocol>::start(
            id,
            raft,
            MemStorage::bootstrap(&ids),
            StdRng::seed_from_u64(id),
        )
        .expect("starts");
        if id == 1 {
            node.campaign();
        }
        let (client, inbox, driver) = Driver::new(
            node,
            Applied::default(),
            net.transport(id),
            Inline,
            options.clone(),
        )
        .expect("a driver");
        net.attach(id, inbox);
        let interval = tokio::time::interval(Duration::from_millis(1));
        let ticks = Box::pin(futures::stream::unfold(interval, |mut i| async move {
            i.tick().await;
            Some(((), i))
        }));
        tokio::spawn(driver.run(ticks));
        clients.push(client);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(s) = clients[0].status().await
            && s.protocol.role == Role::Leader
        {
            return clients;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("node 1 did not lead within 10 s");
}

/// Starts `nodes` replicas on the current tokio runtime with node 1 as
/// the leader.
pub async fn start(nodes: u64) -> SynodCluster {
    let options = NodeOptions {
        snapshot_every_entries: 5_000,
        client_queue: 8192,
        ..NodeOptions::default()
    };
    let clients = spawn_cluster(&MemNetwork::new(1), nodes, &raft_options(), &options).await;
    SynodCluster {
        leader: clients[0].clone(),
        clients,
    }
}

/// `n_clients` tasks each write `per_client` commands to the leader, one
/// at a time; returns the time until all were acknowledged.
///
/// # Panics
/// If a write fails: the run is broken.
pub async fn run_clients(leader: &Client<Applied>, n_clients: u64, per_client: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..n_clients)
        .map(|c| {
            let leader = leader.clone();
            tokio::spawn(async move {
                for i in 0..per_client {
                    let answer: Result<u64, Error> = leader.propose(command(c, i).to_vec()).await;
                    answer.expect("the leader takes every write");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a client task");
    }
    start.elapsed()
}

/// A tokio runtime with `threads` workers, as the benchmark runs both
/// libraries.
///
/// # Panics
/// If the runtime cannot be built.
#[must_use]
pub fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A cluster whose leader cannot reach its followers: what is proposed
/// there stays in flight.
#[derive(Debug)]
pub struct CutCluster {
    /// The leader's client.
    pub leader: Client<Applied>,
    net: MemNetwork<synod_raft_core::Message>,
}

/// Starts `nodes` replicas, waits for node 1 to lead, then cuts it off.
pub async fn start_isolated_leader(nodes: u64) -> CutCluster {
    let net = MemNetwork::new(2);
    // No check-quorum: the cut-off leader keeps leading.
    let raft = Config {
        check_quorum: false,
        ..raft_options()
    };
    let options = NodeOptions {
        client_queue: 65_536,
        ..NodeOptions::default()
    };
    let clients = spawn_cluster(&net, nodes, &raft, &options).await;
    net.isolate(1);
    CutCluster {
        leader: clients[0].clone(),
        net,
    }
}

/// Proposes `n` commands on the cut-off leader without a task per call:
/// each call's future is polled once (which queues it) and kept. Waits
/// until all are appended and waiting; returns the futures and the bytes
/// each occupies, so a caller can count the node's side alone.
///
/// # Panics
/// If they are not all in flight within 10 s.
pub async fn stall_polled(
    cluster: &CutCluster,
    n: u64,
) -> (
    Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, Error>> + Send>>>,
    usize,
) {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut calls = Vec::with_capacity(n as usize);
    let mut future_bytes = 0;
    for i in 0..n {
        let bytes = command(i, 0);
        let leader = cluster.leader.clone();
        let call = async move { leader.propose(bytes.to_vec()).await };
        future_bytes = std::mem::size_of_val(&call);
        let mut call: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
            Box::pin(call);
        // Queues the request; the answer never comes while the leader is
        // cut off.
        let _ = call.as_mut().poll(&mut cx);
        calls.push(call);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if cluster
            .leader
            .status()
            .await
            .is_ok_and(|s| s.proposals_in_flight as u64 >= n)
        {
            return (calls, future_bytes);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the proposals did not all reach the leader");
}

impl Drop for CutCluster {
    fn drop(&mut self) {
        self.net.heal();
    }
}
