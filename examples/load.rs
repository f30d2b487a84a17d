//! A load generator for HTTP key-value endpoints (Synod's kv example or
//! etcd's JSON gateway): concurrent clients for a fixed time, a
//! write/read mix, uniform keys and fixed-size values; throughput,
//! latency percentiles (hdrhistogram) and errors. `kv_bench` drives it.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::etcd::b64;

/// What each run does.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Seconds measured per run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
    /// Keys written and read (chosen uniformly).
    #[arg(long, default_value_t = 1000)]
    pub keys: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    pub value_bytes: usize,
}

/// What serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Synod's kv example: `PUT /kv/KEY`, `GET /kv/KEY`.
    Synod,
    /// etcd's JSON gateway: `/v3/kv/put`, `/v3/kv/range`, base64.
    Etcd,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The system measured.
    pub system: String,
    /// Percent of operations that wrote.
    pub writes_percent: u8,
    /// Concurrent clients.
    pub clients: usize,
    /// Operations answered per second (measured time only).
    pub ops_per_sec: f64,
    /// Latency percentiles of answered operations, in milliseconds.
    pub p50_ms: f64,
    /// p90.
    pub p90_ms: f64,
    /// p99.
    pub p99_ms: f64,
    /// p99.9.
    pub p999_ms: f64,
    /// Operations refused, failed or timed out (10 s).
    pub errors: u64,
}

impl Outcome {
    /// A Markdown table row under [`HEADER`].
    #[must_use]
    pub fn row(&self) -> String {
        format!(
            "| {} | {}% writes | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            self.system,
            self.writes_percent,
            self.clients,
            self.ops_per_sec,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.p999_ms,
            self.errors
        )
    }
}

/// The Markdown table header for [`Outcome::row`].
pub const HEADER: &str = "| system | mix | clients | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|";

/// An endpoint of either system, with its connection pool.
#[derive(Debug, Clone)]
pub struct Endpoint {
    kind: Kind,
    url: String,
    http: reqwest::Client,
}

impl Endpoint {
    /// An endpoint at base `url`, pooling connections for `clients`.
    ///
    /// # Errors
    /// The HTTP client could not be built.
    pub fn new(kind: Kind, url: &str, clients: usize) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients.max(1) * 2)
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            kind,
            url: url.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// The same endpoint with a pool sized for `clients`.
    #[must_use]
    pub fn for_clients(&self, clients: usize) -> Self {
        Self::new(self.kind, &self.url, clients).unwrap_or_else(|_| self.clone())
    }

    /// Writes `value` to `key`; whether the system acknowledged it.
    pub async fn write(&self, key: &str, value: &str) -> bool {
        let sent = match self.kind {
            Kind::Synod => {
                (self.http.put(format!("{}/kv/{key}", self.url)))
                    .json(&json!({ "value": value }))
                    .send()
                    .await
            }
            Kind::Etcd => {
                (self.http.post(format!("{}/v3/kv/put", self.url)))
                    .json(&json!({ "key": b64(key), "value": b64(value) }))
                    .send()
                    .await
            }
        };
        self.answered(sent, false).await
    }

    /// Reads `key` linearizably; whether the system answered.
    pub async fn read(&self, key: &str) -> bool {
        let sent = match self.kind {
            Kind::Synod => self.http.get(format!("{}/kv/{key}", self.url)).send().await,
            Kind::Etcd => {
                (self.http.post(format!("{}/v3/kv/range", self.url)))
                    .json(&json!({ "key": b64(key) }))
                    .send()
                    .await
            }
        };
        self.answered(sent, true).await
    }

    async fn answered(&self, sent: reqwest::Result<reqwest::Response>, read: bool) -> bool {
        let Ok(r) = sent else { return false };
        let status = r.status();
        // A read of a key not written yet is an answer too.
        if read && self.kind == Kind::Synod && status == reqwest::StatusCode::NOT_FOUND {
            return true;
        }
        if !status.is_success() {
            return false;
        }
        match self.kind {
            Kind::Synod => r.bytes().await.is_ok(),
            Kind::Etcd => r
                .json::<Value>()
                .await
                .is_ok_and(|v| v.get("error").is_none()),
        }
    }
}

fn value_of(rng: &mut StdRng, bytes: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..bytes)
        .map(|_| ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// Writes every key once, so reads find values.
///
/// # Errors
/// A write that was not acknowledged.
pub async fn preload(ep: &Endpoint, load: &LoadArgs) -> Result<(), String> {
    let ep = Arc::new(ep.clone());
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let (ep, load) = (ep.clone(), load.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(t);
            for k in (t..load.keys).step_by(16) {
                let value = value_of(&mut rng, load.value_bytes);
                if !ep.write(&format!("k{k}"), &value).await {
                    return Err(format!("preloading key k{k} failed"));
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// `clients` clients drive `ep` for the warm-up, then for `seconds`;
/// `writes` percent of the operations write.
///
/// # Panics
/// Never for a bad endpoint (its failures are counted as errors).
pub async fn drive(ep: &Endpoint, clients: usize, writes: u8, load: &LoadArgs) -> Outcome {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(load.warmup);
    let end = measure_from + Duration::from_secs(load.seconds);
    let ep = Arc::new(ep.clone());
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (ep, load) = (ep.clone(), load.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(1_000 + c as u64);
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            let (mut ops, mut errors) = (0u64, 0u64);
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let key = format!("k{}", rng.next_u64() % load.keys.max(1));
                let write = rng.next_u64() % 100 < u64::from(writes);
                let ok = if write {
                    let value = value_of(&mut rng, load.value_bytes);
                    ep.write(&key, &value).await
                } else {
                    ep.read(&key).await
                };
                if now >= measure_from && Instant::now() <= end {
                    let us = u64::try_from(now.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if ok {
                        ops += 1;
                        let _ = latency.record(us.max(1));
                    } else {
                        errors += 1;
                    }
                }
            }
            (ops, errors, latency)
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let (mut ops, mut errors) = (0, 0);
    for t in tasks {
        if let Ok((o, e, h)) = t.await {
            ops += o;
            errors += e;
            let _ = latency.add(h);
        }
    }
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    Outcome {
        system: match ep.kind {
            Kind::Synod => "Synod".to_string(),
            Kind::Etcd => "etcd 3.4".to_string(),
        },
        writes_percent: writes,
        clients,
        ops_per_sec: ops as f64 / load.seconds.max(1) as f64,
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        errors,
    }
}

/// The disk's own floor for one durable write: 256-byte writes, each
/// followed by fdatasync, for two seconds each way: appended to a growing
/// file (the file system also commits its new length) and written over a
/// preallocated, already synced file (what a write-ahead log with
/// preallocated segments pays; the lower floor).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FsyncFloor {
    /// Appends synced per second.
    pub append_per_sec: f64,
    /// Their p50, ms.
    pub append_p50_ms: f64,
    /// Preallocated writes synced per second.
    pub preallocated_per_sec: f64,
    /// Their p50, ms.
    pub preallocated_p50_ms: f64,
}

/// Measures [`FsyncFloor`] in `dir`.
///
/// # Errors
/// The probe file could not be written or synced.
pub fn fsync_floor(dir: &Path) -> std::io::Result<FsyncFloor> {
    use std::io::{Seek as _, SeekFrom};
    let path = dir.join("fsync-probe");
    let block = [7u8; 256];
    let probe = |preallocate: bool| -> std::io::Result<(f64, f64)> {
        let mut f = std::fs::File::create(&path)?;
        if preallocate {
            f.write_all(&vec![0u8; 64 << 20])?;
            f.sync_all()?;
            f.seek(SeekFrom::Start(0))?;
        }
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(2) {
            let t = Instant::now();
            f.write_all(&block)?;
            f.sync_data()?;
            let _ = latency.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(1).max(1));
            n += 1;
        }
        std::fs::remove_file(&path)?;
        Ok((
            n as f64 / start.elapsed().as_secs_f64(),
            latency.value_at_quantile(0.5) as f64 / 1000.0,
        ))
    };
    let (append_per_sec, append_p50_ms) = probe(false)?;
    let (preallocated_per_sec, preallocated_p50_ms) = probe(true)?;
    Ok(FsyncFloor {
        append_per_sec,
        append_p50_ms,
        preallocated_per_sec,
        preallocated_p50_ms,
    })
}
