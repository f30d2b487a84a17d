//! Synod's lock service beside etcd 3.4's lock API, in the same run on the
//! same machine: three nodes each on loopback with fsync'd logs, clients
//! over each service's JSON HTTP API (Synod's `lock_service` API; etcd's
//! gRPC gateway `/v3/lock/lock` and `/v3/lock/unlock` with a lease).
//!
//! ```sh
//! sudo apt-get install etcd-server     # Debian's etcd 3.4
//! cargo run --release --example lock_bench -- --seconds 10
//! ```
//! Workloads: **uncontended** (one client, or eight on eight locks, each
//! taking and releasing its own lock in a loop: round trips per second and
//! per-round-trip latency) and **contended** (four clients on one lock:
//! hand-offs per second, and hand-off latency from the holder starting
//! its release to the next holder learning of its grant, p50/p99).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use synod_examples::etcd::{EtcdCluster, b64, free_port};
use synod_examples::lockservice::cli::client;
use synod_examples::lockservice::start;

/// Synod's lock service beside etcd's, same machine, same run.
#[derive(Debug, Parser)]
struct Args {
    /// Seconds per workload.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Clients contending for one lock.
    #[arg(long, default_value_t = 4)]
    contenders: usize,
    /// The etcd binary.
    #[arg(long, default_value = "/usr/bin/etcd")]
    etcd: String,
    /// Skip etcd (Synod only).
    #[arg(long)]
    skip_etcd: bool,
}

/// One workload's result.
struct Outcome {
    ops: u64,
    secs: f64,
    latency: Histogram<u64>,
}

impl Outcome {
    fn row(&self, system: &str, workload: &str) -> String {
        let ms = |q: f64| self.latency.value_at_quantile(q) as f64 / 1000.0;
        format!(
            "| {system} | {workload} | {:.0} | {:.2} | {:.2} |",
            self.ops as f64 / self.secs,
            ms(0.5),
            ms(0.99)
        )
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// The operations a workload needs from a lock service.
trait Locks: Send + Sync + 'static {
    /// A client with its session (lease).
    fn client(&self, i: usize) -> futures::future::BoxFuture<'_, Box<dyn LockOps>>;
}

/// One client.
trait LockOps: Send {
    /// Takes `name`, waiting as long as it takes; a handle to release.
    fn lock(&mut self, name: String) -> futures::future::BoxFuture<'_, String>;
    /// Releases what `lock` returned.
    fn unlock(&mut self, held: String) -> futures::future::BoxFuture<'_, ()>;
}

struct Synod {
    nodes: Vec<String>,
}

struct SynodClient {
    c: synod_lock::LockClient,
    held: Option<synod_lock::Guard>,
}

impl Locks for Synod {
    fn client(&self, _: usize) -> futures::future::BoxFuture<'_, Box<dyn LockOps>> {
        Box::pin(async move {
            let c = client(&self.nodes).expect("a client");
            c.open_session(Duration::from_secs(60))
                .await
                .expect("a session");
            tokio::spawn(c.background());
            Box::new(SynodClient { c, held: None }) as Box<dyn LockOps>
        })
    }
}

impl LockOps for SynodClient {
    fn lock(&mut self, name: String) -> futures::future::BoxFuture<'_, String> {
        Box::pin(async move {
            self.held = Some(self.c.lock(&name).await.expect("lock"));
            name
        })
    }

    fn unlock(&mut self, _: String) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(async move {
            let g = self.held.take().expect("held");
            self.c.unlock(g).await.expect("unlock");
        })
    }
}

struct Etcd {
    endpoints: Vec<String>,
    http: reqwest::Client,
}

struct EtcdClient {
    endpoint: String,
    lease: String,
    http: reqwest::Client,
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Value {
    let r = http
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("etcd answers");
    r.json().await.expect("etcd JSON")
}

impl Locks for Etcd {
    fn client(&self, i: usize) -> futures::future::BoxFuture<'_, Box<dyn LockOps>> {
        Box::pin(async move {
            // Clients spread over the members, as etcd's own client does.
            let endpoint = self.endpoints[i % self.endpoints.len()].clone();
            let grant = post(
                &self.http,
                format!("{endpoint}/v3/lease/grant"),
                json!({ "TTL": 60 }),
            )
            .await;
            let lease = grant["ID"].as_str().expect("a lease id").to_string();
            Box::new(EtcdClient {
                endpoint,
                lease,
                http: self.http.clone(),
            }) as Box<dyn LockOps>
        })
    }
}

impl LockOps for EtcdClient {
    fn lock(&mut self, name: String) -> futures::future::BoxFuture<'_, String> {
        Box::pin(async move {
            let url = format!("{}/v3/lock/lock", self.endpoint);
            let body = json!({ "name": b64(&name), "lease": self.lease });
            let r = post(&self.http, url, body).await;
            r["key"].as_str().expect("a lock key").to_string()
        })
    }

    fn unlock(&mut self, key: String) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(async move {
            let url = format!("{}/v3/lock/unlock", self.endpoint);
            post(&self.http, url, json!({ "key": key })).await;
        })
    }
}

/// `clients` clients, each on its own lock, for `secs`.
async fn uncontended(service: &Arc<dyn Locks>, clients: usize, secs: u64) -> Outcome {
    let mut tasks = Vec::new();
    let start = Instant::now() + Duration::from_millis(200);
    for i in 0..clients {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = service.client(i).await;
            tokio::time::sleep_until(start.into()).await;
            let end = start + Duration::from_secs(secs);
            let (mut ops, mut h) = (0, histogram());
            while Instant::now() < end {
                let t = Instant::now();
                let held = c.lock(format!("own-{i}")).await;
                c.unlock(held).await;
                h.record(micros(t.elapsed())).expect("in range");
                ops += 1;
            }
            (ops, h)
        }));
    }
    let mut total = Outcome {
        ops: 0,
        secs: secs as f64,
        latency: histogram(),
    };
    for t in tasks {
        let (ops, h) = t.await.expect("a client");
        total.ops += ops;
        total.latency.add(&h).expect("same bounds");
    }
    total
}

/// `clients` clients on one lock for `secs`: hand-offs and their latency.
async fn contended(service: &Arc<dyn Locks>, clients: usize, secs: u64) -> Outcome {
    // When the last holder started releasing (None: nobody has yet).
    let released: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let samples = Arc::new(Mutex::new(histogram()));
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (service, released, samples) = (service.clone(), released.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = service.client(i).await;
            tokio::time::sleep_until(start.into()).await;
            let end = start + Duration::from_secs(secs);
            let mut ops = 0;
            while Instant::now() < end {
                let held = c.lock("hot".to_string()).await;
                let granted = Instant::now();
                if let Some(r) = released.lock().expect("unpoisoned").take() {
                    let sample = micros(granted.saturating_duration_since(r));
                    samples
                        .lock()
                        .expect("unpoisoned")
                        .record(sample)
                        .expect("in range");
                }
                ops += 1;
                *released.lock().expect("unpoisoned") = Some(Instant::now());
                c.unlock(held).await;
            }
            ops
        }));
    }
    let mut ops = 0;
    for t in tasks {
        ops += t.await.expect("a client");
    }
    let latency = samples.lock().expect("unpoisoned").clone();
    Outcome {
        ops,
        secs: secs as f64,
        latency,
    }
}

async fn run_all(name: &str, service: Arc<dyn Locks>, args: &Args) -> Vec<String> {
    let mut rows = Vec::new();
    let one = uncontended(&service, 1, args.seconds).await;
    rows.push(one.row(name, "uncontended, 1 client"));
    let eight = uncontended(&service, 8, args.seconds).await;
    rows.push(eight.row(name, "uncontended, 8 clients"));
    let hot = contended(&service, args.contenders, args.seconds).await;
    rows.push(hot.row(name, &format!("contended, {} clients", args.contenders)));
    for r in &rows {
        eprintln!("{r}");
    }
    rows
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let mut rows = Vec::new();
        // Synod: three nodes in this process, on loopback, logs on disk.
        let mut peers = std::collections::BTreeMap::new();
        for id in 1..=3u64 {
            let raft = format!("127.0.0.1:{}", free_port());
            let http = format!("127.0.0.1:{}", free_port());
            peers.insert(id, synod_examples::kvstore::node::PeerAddr { raft, http });
        }
        let mut nodes = Vec::new();
        for id in 1..=3u64 {
            let config = synod_examples::kvstore::node::KvConfig {
                id,
                peers: peers.clone(),
                data_dir: dir.path().join(format!("synod{id}")),
                cluster: "synod-lock-bench".to_string(),
                tick_ms: 10,
                forward_writes: false,
                protocol: synod_examples::kvstore::node::ProtocolKind::Raft,
                disk_fault_file: None,
            };
            nodes.push(start(&config).await?);
        }
        let addrs = peers
            .iter()
            .map(|(id, p)| format!("{id}={}", p.http))
            .collect();
        let synod: Arc<dyn Locks> = Arc::new(Synod { nodes: addrs });
        rows.extend(run_all("Synod (raft)", synod, &args).await);
        for n in nodes {
            n.replica.client.shutdown().await?;
            n.stamper.abort();
            n.server.abort();
        }
        if !args.skip_etcd {
            let mut cluster = EtcdCluster::start(&args.etcd, dir.path())
                .map_err(|e| format!("etcd does not start (apt-get install etcd-server): {e}"))?;
            let http = reqwest::Client::new();
            cluster.ready(&http).await?;
            let endpoints = cluster.endpoints.clone();
            let etcd: Arc<dyn Locks> = Arc::new(Etcd { endpoints, http });
            rows.extend(run_all("etcd 3.4", etcd, &args).await);
            cluster.stop();
        }
        println!("| system | workload | ops/s | p50 ms | p99 ms |");
        println!("|---|---|---|---|---|");
        for r in rows {
            println!("{r}");
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
