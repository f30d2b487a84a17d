//! Starting one replica: its log on disk, the protocol (raft-core or
//! synod-paxos-core, chosen by one type), the TCP transport and the driver,
//! around any state machine (the key-value store here, the lock machine in
//! the `lock_service` example).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_node::{Client, DiskThread, Driver, NodeOptions, StateMachine};
use synod_protocol::{Protocol, Storage};
use synod_raft_core::RaftNode;
use synod_tcp::{Net, TcpOptions, TcpTransport, TokioNet};
use synod_wal::fs::StdDir;
use synod_wal::{Options, Wal};

use super::faulty_disk::{FaultSwitch, FaultyDir};
use super::store::KvStore;

/// The log directory: the real file system, behind a switch the nemesis
/// can turn to failing (examples/kvstore/faulty_disk.rs).
pub type KvDir = FaultyDir;

/// The raft-core node the example runs by default.
pub type KvNode = RaftNode<Wal<KvDir>, StdRng>;

/// The Multi-Paxos node it runs with `--protocol paxos`.
pub type KvPaxosNode = synod_paxos_core::PaxosNode<Wal<KvDir>, StdRng>;

/// Which consensus protocol replicates the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolKind {
    /// synod-raft-core.
    #[default]
    Raft,
    /// synod-paxos-core.
    Paxos,
}

/// Where a peer listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    /// Its replication (synod-tcp) address.
    pub raft: String,
    /// Its HTTP address.
    pub http: String,
}

/// One replica's configuration.
#[derive(Debug, Clone)]
pub struct KvConfig {
    /// This node.
    pub id: u64,
    /// Every member, this node included.
    pub peers: BTreeMap<u64, PeerAddr>,
    /// Where its log lives.
    pub data_dir: PathBuf,
    /// The cluster's name (nodes of other clusters are refused).
    pub cluster: String,
    /// Milliseconds per protocol tick.
    pub tick_ms: u64,
    /// A follower forwards writes to the leader instead of redirecting.
    pub forward_writes: bool,
    /// The protocol (every node of a cluster must run the same one).
    pub protocol: ProtocolKind,
    /// A file whose content (`eio`, `enospc`) makes the log's disk fail:
    /// fault injection for tests. `None`: a healthy disk.
    pub disk_fault_file: Option<PathBuf>,
}

/// A running replica: the client handle and the driver's task.
#[derive(Debug)]
pub struct Replica<M: StateMachine = KvStore> {
    /// The replica's client API.
    pub client: Client<M>,
    /// The driver; ends on shutdown or a storage failure.
    pub task: tokio::task::JoinHandle<Result<(), synod_node::Error>>,
    /// Keeps the listener accepting.
    pub listening: synod_tcp::Listening,
}

/// Opens (or creates) the log and starts the replica on the current
/// tokio runtime, running the configured protocol.
///
/// # Errors
/// The log cannot be opened, the address cannot be bound, or the options
/// are invalid.
pub async fn start(config: &KvConfig) -> Result<Replica, Box<dyn std::error::Error>> {
    start_machine(config, KvStore::default()).await
}

/// [`start`] around any state machine.
///
/// # Errors
/// As [`start`].
pub async fn start_machine<M: StateMachine>(
    config: &KvConfig,
    machine: M,
) -> Result<Replica<M>, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)?;
    let switch = match &config.disk_fault_file {
        Some(path) => FaultSwitch::watch(path.clone())?,
        None => FaultSwitch::healthy(),
    };
    let dir = FaultyDir::new(StdDir::open(&config.data_dir)?, switch);
    let mut wal = Wal::open(dir, Options::default())?;
    let voters: Vec<u64> = config.peers.keys().copied().collect();
    if wal.last_index()? == 0 && wal.hard_state() == Default::default() {
        wal.bootstrap(&voters)?;
    }
    match config.protocol {
        ProtocolKind::Raft => {
            let options = synod_raft_core::Config {
                election_timeout_ticks: 15,
                heartbeat_ticks: 2,
                ..synod_raft_core::Config::new(config.id)
            };
            start_with::<KvNode, M>(config, &options, wal, machine).await
        }
        ProtocolKind::Paxos => {
            let options = synod_paxos_core::Config {
                election_timeout_ticks: 15,
                heartbeat_ticks: 2,
                ..synod_paxos_core::Config::new(config.id)
            };
            start_with::<KvPaxosNode, M>(config, &options, wal, machine).await
        }
    }
}

/// The start shared by every protocol: only the type differs.
async fn start_with<P, M: StateMachine>(
    config: &KvConfig,
    options: &P::Options,
    wal: Wal<KvDir>,
    machine: M,
) -> Result<Replica<M>, Box<dyn std::error::Error>>
where
    P: Protocol<Storage = Wal<KvDir>, Rng = StdRng> + Send + 'static,
    P::Message: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    P::Receipt: Send,
    P::Error: 'static,
{
    // Elections draw from the clock-seeded generator: replicas must not
    // time out in lockstep.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ config.id;
    let node = P::start(config.id, options, wal, StdRng::seed_from_u64(seed))?;
    let addrs = config
        .peers
        .iter()
        .map(|(&id, a)| (id, a.raft.clone()))
        .collect();
    let me = config
        .peers
        .get(&config.id)
        .ok_or("this node is not in --peer")?;
    let listener = TokioNet.bind(me.raft.clone()).await?;
    let transport = TcpTransport::start(
        TokioNet,
        TcpOptions::new(config.cluster.clone(), config.id, addrs),
        P::sender,
    )?;
    let acceptor = transport.acceptor();
    let options = NodeOptions {
        snapshot_every_entries: 50_000,
        ..NodeOptions::default()
    };
    let disk = DiskThread::spawn(&format!("synod-disk-{}", config.id))?;
    let (client, inbox, driver) = Driver::new(node, machine, transport, disk, options)?;
    let listening = acceptor.listen::<TokioNet>(listener, inbox);
    let interval = tokio::time::interval(Duration::from_millis(config.tick_ms));
    let ticks = Box::pin(futures::stream::unfold(interval, |mut i| async move {
        i.tick().await;
        Some(((), i))
    }));
    let task = tokio::spawn(async move { driver.run(ticks).await.map(|_| ()) });
    Ok(Replica {
        client,
        task,
        listening,
    })
}
