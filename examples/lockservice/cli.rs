//! The `lock_service` command line: `serve` runs a node; `lock`,
//! `unlock`, `status` and `watch` talk to a running service over its JSON
//! API; `demo` runs a three-node service in this process and shows what a
//! fencing token buys.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use synod_lock::{
    ClientOptions, LockClient, Mode, Query, QueryAnswer, Service, SessionState, Sleep,
};

use super::http::HttpNode;

/// A replicated lock service with fencing tokens.
#[derive(Debug, Parser)]
#[command(name = "lock_service")]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The lock modes the command line offers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// A mutex (or a read-write lock's writer).
    Exclusive,
    /// A read-write lock's reader.
    Shared,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Runs one node of the service.
    Serve {
        /// This node's id (one of the --peer ids).
        #[arg(long)]
        id: u64,
        /// A member: ID=RAFT_ADDR,HTTP_ADDR (repeat for each, this one
        /// included).
        #[arg(long = "peer", required = true)]
        peers: Vec<String>,
        /// Where the log lives.
        #[arg(long)]
        data_dir: PathBuf,
        /// `raft` or `paxos` (every node the same).
        #[arg(long, default_value = "raft", value_parser = ["raft", "paxos"])]
        protocol: String,
    },
    /// Takes a lock, prints its fencing token, holds it (keeping the
    /// session alive) until ctrl-c or --hold-ms, then releases it.
    Lock {
        /// The lock.
        name: String,
        /// A node: ID=HTTP_ADDR (repeat for each).
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
        /// The session's time-to-live.
        #[arg(long, default_value_t = 10_000)]
        ttl_ms: u64,
        /// Hold this long, then release (default: until ctrl-c).
        #[arg(long)]
        hold_ms: Option<u64>,
        /// Give up after waiting this long in the queue (log time).
        #[arg(long)]
        wait_ms: Option<u64>,
        /// How to hold it.
        #[arg(long, value_enum, default_value_t = ModeArg::Exclusive)]
        mode: ModeArg,
        /// Hold one of this many permits of a semaphore instead.
        #[arg(long)]
        permits: Option<u32>,
    },
    /// Releases a lock held by a session with a token (whoever holds it).
    Unlock {
        /// The lock.
        name: String,
        /// The holder's session.
        #[arg(long)]
        session: u64,
        /// The token it holds the lock with.
        #[arg(long)]
        token: u64,
        /// A node: ID=HTTP_ADDR (repeat for each).
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
    },
    /// Who holds a lock, and the service's log time.
    Status {
        /// The lock.
        name: String,
        /// A node: ID=HTTP_ADDR (repeat for each).
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
    },
    /// Prints the service's events (grants, releases, expiries) as they
    /// happen, from log index --after.
    Watch {
        /// A node: ID=HTTP_ADDR (repeat for each).
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
        /// Start after this log index.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Stop after this many events (default: never).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Runs three nodes here and shows locks, queues, expiry and fencing.
    Demo,
}

/// A sleep on tokio, for the client library.
pub fn tokio_sleep() -> Sleep {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

/// A client id no other process picks (time and process id, mixed).
pub fn random_client_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

/// A client of the service at `nodes` (HTTP addresses).
///
/// # Errors
/// The HTTP client cannot be built.
pub fn client(nodes: &[String]) -> Result<LockClient, Box<dyn std::error::Error>> {
    let mut services: Vec<(u64, Arc<dyn Service>)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        // ID=ADDR, so the leader hints (node ids) point somewhere; a bare
        // address is numbered by its place in the list.
        let (id, addr) = match node.split_once('=') {
            Some((id, addr)) => (
                id.parse().map_err(|_| format!("bad node id in {node:?}"))?,
                addr,
            ),
            None => (i as u64 + 1, node.as_str()),
        };
        services.push((id, Arc::new(HttpNode::new(addr)?)));
    }
    let options = ClientOptions {
        poll: Duration::from_millis(20),
        ..ClientOptions::default()
    };
    Ok(LockClient::over(
        services,
        random_client_id(),
        tokio_sleep(),
        options,
    ))
}

/// Runs the command line (words without the program name).
///
/// # Errors
/// Bad arguments, an unreachable service, a refused command.
pub fn run(words: impl IntoIterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::try_parse_from(std::iter::once("lock_service".to_string()).chain(words))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(dispatch(args.command))
}

async fn dispatch(command: Cmd) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Cmd::Serve {
            id,
            peers,
            data_dir,
            protocol,
        } => {
            let peers = crate::kvstore::parse_peers(&peers)?;
            if !peers.contains_key(&id) {
                return Err(format!("--id {id} is not among the --peer ids").into());
            }
            let config = crate::kvstore::node::KvConfig {
                id,
                peers,
                data_dir,
                cluster: "synod-lock".to_string(),
                tick_ms: 10,
                forward_writes: false,
                protocol: if protocol == "paxos" {
                    crate::kvstore::node::ProtocolKind::Paxos
                } else {
                    crate::kvstore::node::ProtocolKind::Raft
                },
                disk_fault_file: None,
            };
            super::serve(config).await
        }
        Cmd::Lock {
            name,
            nodes,
            ttl_ms,
            hold_ms,
            wait_ms,
            mode,
            permits,
        } => {
            let c = client(&nodes)?;
            let session = c.open_session(Duration::from_millis(ttl_ms)).await?;
            tokio::spawn(c.background());
            let mode = match (permits, mode) {
                (Some(capacity), _) => Mode::Permit { capacity },
                (None, ModeArg::Exclusive) => Mode::Exclusive,
                (None, ModeArg::Shared) => Mode::Shared,
            };
            let guard = match wait_ms {
                None => c.lock_with(&name, mode).await?,
                Some(w) => match c
                    .acquire(&name, mode, Some(Duration::from_millis(w)))
                    .await?
                {
                    synod_lock::Acquired::Granted(g) => g,
                    synod_lock::Acquired::Queued { .. } => match c.wait_for(&name).await {
                        Ok(g) => g,
                        Err(e) => return Err(format!("not granted within {w} ms: {e}").into()),
                    },
                },
            };
            println!(
                "locked {name} ({:?}): session {session} token {}",
                guard.mode, guard.token
            );
            let mut states = c.watch_session();
            let hold = async {
                match hold_ms {
                    Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            let lost = async {
                use futures::StreamExt;
                while let Some(s) = states.next().await {
                    if s != SessionState::Connected {
                        eprintln!("session {s:?}");
                    }
                    if s == SessionState::Lost {
                        return;
                    }
                }
            };
            tokio::select! {
                () = hold => {
                    c.unlock(guard).await?;
                    println!("released {name}");
                }
                () = lost => {
                    // Nothing to release: the session is gone.
                    let _ = guard.forget();
                    return Err("the session was lost: the lock may be someone else's".into());
                }
            }
            c.close_session().await?;
            Ok(())
        }
        Cmd::Unlock {
            name,
            session,
            token,
            nodes,
        } => {
            client(&nodes)?.release(session, &name, token).await?;
            println!("released {name} (session {session}, token {token})");
            Ok(())
        }
        Cmd::Status { name, nodes } => {
            let c = client(&nodes)?;
            let holders = c.holders(&name).await?;
            if holders.is_empty() {
                println!("{name}: free");
            }
            for (session, mode, token) in holders {
                println!("{name}: held by session {session} ({mode:?}) with token {token}");
            }
            Ok(())
        }
        Cmd::Watch {
            nodes,
            mut after,
            count,
        } => {
            let c = client(&nodes)?;
            let mut printed = 0;
            loop {
                let (events, missed) = c.events(after, 1_000).await?;
                if missed {
                    println!("(events before {after} were dropped)");
                }
                for (index, event) in events {
                    println!("{index}: {event:?}");
                    after = index;
                    printed += 1;
                    if count.is_some_and(|n| printed >= n) {
                        return Ok(());
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Cmd::Demo => super::demo::run().await,
    }
}

/// The service's log time, read linearizably (for the demo's narration).
///
/// # Errors
/// The service is unreachable.
pub async fn log_time(node: &HttpNode) -> Result<u64, synod_node::Error> {
    match Service::read(node, Query::Now).await? {
        QueryAnswer::Now(ms) => Ok(ms),
        _ => Ok(0),
    }
}
