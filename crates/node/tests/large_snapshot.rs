//! A follower far behind installs a leader's large snapshot through the
//! driver and synod-wal while using a small, bounded amount of memory: the
//! state machine's snapshot is streamed into the log when it is taken, the
//! leader reads it from its log a piece at a time, the follower's log
//! stages each piece in a file as it arrives, and the state machine is
//! restored from the log as a stream. Heartbeats keep flowing: no election
//! happens during the transfer.
//!
//! Both protocols: raft-core and synod-paxos-core each send the snapshot
//! in pieces (1 MiB by default). A Multi-Paxos candidate behind the
//! snapshot fetches it the same way before it leads (the second test).
//!
//! The snapshot is 64 MiB here; `SYNOD_SNAPSHOT_MIB=1024` runs the 1 GiB
//! case (`cargo test --release -p synod-node --test large_snapshot --
//! --nocapture` prints the figures).

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use rand::SeedableRng;
use rand::rngs::StdRng;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use support::raft_options;
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, DiskThread, Driver, Error, NodeOptions, StateMachine};
use synod_protocol::{Index, Protocol};
use synod_raft_core::RaftNode;
use synod_wal::fs::StdDir;
use synod_wal::{Options, Wal};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

/// The byte at `at` of the snapshot taken after `count` commands.
fn pattern(count: u64, at: u64) -> u8 {
    (at.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8 ^ count as u8
}

/// A state machine whose state is large only in its snapshot: `size`
/// bytes derived from the number of commands applied. It checks every
/// byte it restores from, streaming, holding 64 KiB at a time (as a state
/// machine that keeps its state on disk would).
struct Blob {
    count: u64,
    size: u64,
}

impl StateMachine for Blob {
    type Response = u64;
    type Query = ();
    type Answer = u64;

    fn apply(&mut self, _index: Index, _command: &Bytes) -> u64 {
        self.count += 1;
        self.count
    }

    fn query(&self, _query: &()) -> u64 {
        self.count
    }

    fn snapshot(&self) -> Bytes {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut *self.snapshot_stream(), &mut out).expect("generated");
        out.into()
    }

    /// Generated as it is read: the state is never whole in memory.
    fn snapshot_stream(&self) -> Box<dyn std::io::Read + Send> {
        Box::new(BlobReader {
            count: self.count,
            size: self.size,
            at: 0,
        })
    }

    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String> {
        self.restore_from(&mut &snapshot[..], snapshot.len() as u64)
    }

    fn restore_from(&mut self, reader: &mut dyn std::io::Read, len: u64) -> Result<(), String> {
        if len != self.size {
            return Err(format!("a snapshot of {len} bytes, not {}", self.size));
        }
        let mut head = [0u8; 8];
        reader.read_exact(&mut head).map_err(|e| e.to_string())?;
        let count = u64::from_le_bytes(head);
        let mut buf = vec![0u8; 64 << 10];
        let mut at = 8u64;
        while at < len {
            let n = ((len - at) as usize).min(buf.len());
            reader
                .read_exact(&mut buf[..n])
                .map_err(|e| e.to_string())?;
            if let Some(i) = (0..n).find(|&i| buf[i] != pattern(count, at + i as u64)) {
                return Err(format!("byte {} of the snapshot is wrong", at + i as u64));
            }
            at += n as u64;
        }
        self.count = count;
        Ok(())
    }
}

/// The snapshot of a [`Blob`], generated as it is read.
struct BlobReader {
    count: u64,
    size: u64,
    at: u64,
}

impl std::io::Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = ((self.size - self.at) as usize).min(buf.len());
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.at + i as u64;
            *b = if at < 8 {
                self.count.to_le_bytes()[at as usize]
            } else {
                pattern(self.count, at)
            };
        }
        self.at += n as u64;
        Ok(n)
    }
}

type WalRaft = RaftNode<Wal<StdDir>, StdRng>;
type WalPaxos = synod_paxos_core::PaxosNode<Wal<StdDir>, StdRng>;

/// A protocol over synod-wal this test runs: its options, with ticks of 5
/// ms and an election timeout of 50 (elections only when a leader is
/// really gone, even on a loaded test machine).
trait Under: Protocol<Storage = Wal<StdDir>, Rng = StdRng> + Send + 'static
where
    Self::Message: Send + 'static,
    Self::Receipt: Send,
{
    fn options(id: u64) -> Self::Options;
}

impl Under for WalRaft {
    fn options(id: u64) -> Self::Options {
        synod_raft_core::Config {
            id,
            election_timeout_ticks: 50,
            ..raft_options()
        }
    }
}

impl Under for WalPaxos {
    fn options(id: u64) -> Self::Options {
        synod_paxos_core::Config {
            election_timeout_ticks: 50,
            ..synod_paxos_core::Config::new(id)
        }
    }
}

fn ticks() -> impl Stream<Item = ()> + Unpin + Send {
    let interval = tokio::time::interval(Duration::from_millis(5));
    Box::pin(futures::stream::unfold(interval, |mut i| async move {
        i.tick().await;
        Some(((), i))
    }))
}

struct Started<P> {
    client: Client<Blob>,
    task: tokio::task::JoinHandle<Result<P, Error>>,
}

fn start<P: Under>(id: u64, dir: &Path, net: &MemNetwork<P::Message>, size: u64) -> Started<P>
where
    P::Message: Send + 'static,
    P::Receipt: Send,
{
    let mut wal = Wal::open(StdDir::open(dir).expect("dir"), Options::default()).expect("opens");
    if synod_protocol::Storage::last_index(&wal) == Ok(0) {
        wal.bootstrap(&[1, 2, 3]).expect("bootstraps");
    }
    let node = P::start(id, &P::options(id), wal, StdRng::seed_from_u64(id)).expect("starts");
    let options = NodeOptions {
        // One snapshot, after 30 commands, compacting everything: the
        // follower that missed them can only catch up from it.
        snapshot_every_entries: 30,
        compaction_tail_entries: 0,
        ..NodeOptions::default()
    };
    let (client, inbox, driver) = Driver::new(
        node,
        Blob { count: 0, size },
        net.transport(id),
        DiskThread::spawn("synod-disk").expect("a thread"),
        options,
    )
    .expect("driver");
    net.attach(id, inbox);
    let task = tokio::spawn(driver.run(ticks()));
    Started { client, task }
}

async fn leader_of(clients: &[&Client<Blob>]) -> (usize, u64) {
    for _ in 0..2_000 {
        for (i, c) in clients.iter().enumerate() {
            if let Ok(s) = c.status().await
                && s.protocol.role == synod_protocol::Role::Leader
            {
                return (i, s.protocol.term);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no leader");
}

/// The node's count once it reaches `want` (or what it is after 4 s).
async fn count_reaches(client: &Client<Blob>, want: u64) -> u64 {
    let mut count = 0;
    for _ in 0..2_000 {
        count = client.read((), Consistency::Stale).await.expect("read");
        if count == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    count
}

/// Proposes through whichever node leads, retrying across leader changes.
async fn propose(clients: &[&Client<Blob>]) {
    for _ in 0..200 {
        let (l, _) = leader_of(clients).await;
        if clients[l].propose(Bytes::from_static(b"+1")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no write committed");
}

/// The heap is measured for the whole process: the tests take turns.
static ONE_AT_A_TIME: futures::lock::Mutex<()> = futures::lock::Mutex::new(());

/// The snapshot's size in MiB: 64, or `SYNOD_SNAPSHOT_MIB`.
fn snapshot_mib() -> u64 {
    std::env::var("SYNOD_SNAPSHOT_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// The heap above what it was at `start`, sampled every millisecond until
/// `stop`, which gives the peak.
struct HeapPeak {
    peak: Arc<AtomicI64>,
    done: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<()>,
}

impl HeapPeak {
    fn start() -> Self {
        let baseline = live_bytes();
        let peak = Arc::new(AtomicI64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(live_bytes() - baseline, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        Self {
            peak,
            done,
            sampler,
        }
    }

    fn stop(self) -> i64 {
        self.done.store(true, Ordering::Relaxed);
        self.sampler.join().expect("sampler");
        self.peak.load(Ordering::Relaxed)
    }
}

/// Waits (up to 10 s each) for every node to have taken its snapshot.
async fn snapshots_taken(clients: &[&Client<Blob>]) {
    for c in clients {
        for _ in 0..2_000 {
            if c.status().await.expect("status").snapshots_taken >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

// Both in one test, one after the other: the heap is measured for the
// whole process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_installs_a_large_snapshot_in_bounded_memory() {
    let _turn = ONE_AT_A_TIME.lock().await;
    installs_a_large_snapshot_in_bounded_memory::<WalPaxos>("paxos").await;
    installs_a_large_snapshot_in_bounded_memory::<WalRaft>("raft").await;
}

async fn installs_a_large_snapshot_in_bounded_memory<P: Under>(name: &str)
where
    P::Message: Send + 'static,
    P::Receipt: Send,
{
    let mib = snapshot_mib();
    let size = mib << 20;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let net = MemNetwork::new(7);
    // Node 3 is down while the others commit 40 commands and snapshot.
    let first: Vec<Started<P>> = (1..=2)
        .map(|id| start::<P>(id, dirs[id as usize - 1].path(), &net, size))
        .collect();
    let clients: Vec<&Client<Blob>> = first.iter().map(|s| &s.client).collect();
    leader_of(&clients).await;
    // From here on, the heap above this baseline is what taking the
    // snapshot on two nodes, the transfer, the staging and the restore
    // cost (sampled every millisecond).
    let heap = HeapPeak::start();
    for _ in 0..40 {
        propose(&clients).await;
    }
    // Wait for both to have taken their snapshot (and dropped its bytes).
    snapshots_taken(&clients).await;
    let (l, term) = leader_of(&clients).await;
    let started = std::time::Instant::now();
    let third = start::<P>(3, dirs[2].path(), &net, size);
    let mut restored = false;
    for _ in 0..60_000 {
        let s = third.client.status().await.expect("status");
        if s.snapshots_restored >= 1 && s.protocol.applied >= 40 {
            restored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    let peak = heap.stop();
    assert!(restored, "node 3 never installed the snapshot");
    println!(
        "{name}: a {mib} MiB snapshot taken on two nodes, then installed on a follower in {took:.2?}; \
         heap above the baseline peaked at {:.1} MiB",
        peak as f64 / f64::from(1 << 20)
    );
    // A MiB buffer where the snapshot is written into each log, pieces of
    // 1 MiB, 4 unacknowledged, on the leader's side, in the network and at
    // the follower, and 64 KiB in the state machine: a few MiB whatever
    // the snapshot's size. Whole, it would be the snapshot's size at least.
    assert!(
        peak < 32 << 20,
        "the install used {peak} bytes of heap for a {size}-byte snapshot"
    );
    let (l2, term2) = leader_of(&clients).await;
    assert_eq!((l2, term2), (l, term), "an election during the transfer");
    // The follower serves the state the snapshot carried, and more.
    assert_eq!(
        third
            .client
            .read((), Consistency::Stale)
            .await
            .expect("read"),
        40
    );
    clients[l]
        .propose(Bytes::from_static(b"+1"))
        .await
        .expect("committed");
    assert_eq!(count_reaches(&third.client, 41).await, 41);
    // Restarted, node 3 restores from the snapshot in its own log,
    // streamed from its data file.
    third.client.shutdown().await.expect("stops");
    third.task.await.expect("joined").expect("ran");
    let again = start::<P>(3, dirs[2].path(), &net, size);
    assert_eq!(count_reaches(&again.client, 41).await, 41);
    // (The entries before the snapshot are gone from every log: 41 is
    // the snapshot's count, restored at start, plus the entries after it.)
}

// Multi-Paxos lets any connected node lead, not only an up-to-date one: a
// candidate behind its quorum's large snapshot must take it before it
// leads. Its promises name the snapshot instead of carrying it, and it
// fetches the snapshot a piece at a time from the acceptor's log, staged in
// its own: the heap stays small, where a promise carrying the snapshot
// whole would hold all of it (and exceed synod-tcp's frame limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paxos_candidate_behind_a_large_snapshot_fetches_it_in_bounded_memory() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mib = snapshot_mib();
    let size = mib << 20;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let net = MemNetwork::new(11);
    let first: Vec<Started<WalPaxos>> = (1..=2)
        .map(|id| start::<WalPaxos>(id, dirs[id as usize - 1].path(), &net, size))
        .collect();
    let clients: Vec<&Client<Blob>> = first.iter().map(|s| &s.client).collect();
    leader_of(&clients).await;
    for _ in 0..40 {
        propose(&clients).await;
    }
    snapshots_taken(&clients).await;
    let (l, _) = leader_of(&clients).await;
    // The heap above this is what node 3's catching up costs.
    let heap = HeapPeak::start();
    let started = std::time::Instant::now();
    let third = start::<WalPaxos>(3, dirs[2].path(), &net, size);
    // At once, before the leader can sync it: node 3 campaigns as soon as
    // it hears a quorum, behind both others' snapshot.
    clients[l].transfer_leadership(3).await.expect("asked");
    let mut led = false;
    for _ in 0..10_000 {
        let s = third.client.status().await.expect("status");
        if s.protocol.role == synod_protocol::Role::Leader && s.protocol.applied >= 40 {
            led = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    let peak = heap.stop();
    assert!(led, "node 3 never led");
    println!(
        "paxos: a candidate behind a {mib} MiB snapshot fetched it and led in {took:.2?}; \
         heap above the baseline peaked at {:.1} MiB",
        peak as f64 / f64::from(1 << 20)
    );
    assert!(
        peak < 32 << 20,
        "catching up used {peak} bytes of heap for a {size}-byte snapshot"
    );
    assert_eq!(
        third
            .client
            .read((), Consistency::Stale)
            .await
            .expect("read"),
        40
    );
    third
        .client
        .propose(Bytes::from_static(b"+1"))
        .await
        .expect("committed by the new leader");
    assert_eq!(count_reaches(clients[l ^ 1], 41).await, 41);
}
