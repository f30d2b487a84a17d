//! Where the driver does its log writes: a write that needs no sync and
//! that storage keeps in memory (a commit index alone) is done on the
//! driver's own task; everything else goes to the blocking executor.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Journal, converge, leader, raft_options, tokio_ticks};
use synod_node::memory::MemNetwork;
use synod_node::{Blocking, Client, DiskThread, Driver, Error, Job, LogStorage, NodeOptions};
use synod_protocol::{MemStorage, Protocol, StorageError, Write};
use synod_raft_core::RaftNode;

/// A disk thread that counts the jobs it is given.
struct Counted {
    thread: DiskThread,
    jobs: Arc<AtomicUsize>,
}

impl Blocking for Counted {
    fn run(&self, job: Job) {
        self.jobs.fetch_add(1, Ordering::SeqCst);
        self.thread.run(job);
    }
}

/// `MemStorage` that says nothing about where its writes go: the
/// trait's default (every write to the executor).
#[derive(Debug)]
struct Cautious {
    log: MemStorage,
}

delegate_storage!(Cautious, log);

impl LogStorage for Cautious {
    fn write(&mut self, write: Write) -> Result<(), StorageError> {
        self.log.write(write)
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    delegate_compaction!(log);
}

/// Each node's id and client, and the count of jobs on its executor.
type Counters = (Vec<(u64, Client<Journal>)>, Vec<Arc<AtomicUsize>>);

/// Starts three nodes over `make(bootstrapped log)`, each on a counted
/// disk thread; returns their clients and job counters.
fn cluster<L: LogStorage + std::fmt::Debug>(
    net: &MemNetwork<synod_raft_core::Message>,
    make: impl Fn(MemStorage) -> L,
) -> Counters {
    let (mut clients, mut counters) = (Vec::new(), Vec::new());
    for id in [1u64, 2, 3] {
        let node = <RaftNode<L, StdRng> as Protocol>::start(
            id,
            &raft_options(),
            make(MemStorage::bootstrap(&[1, 2, 3])),
            StdRng::seed_from_u64(id),
        )
        .expect("starts");
        let jobs = Arc::new(AtomicUsize::new(0));
        let disk = Counted {
            thread: DiskThread::spawn("synod-disk").expect("a thread"),
            jobs: Arc::clone(&jobs),
        };
        let (client, inbox, driver) = Driver::new(
            node,
            Journal::default(),
            net.transport(id),
            disk,
            NodeOptions::default(),
        )
        .expect("driver");
        net.attach(id, inbox);
        tokio::spawn(driver.run(tokio_ticks()));
        clients.push((id, client));
        counters.push(jobs);
    }
    (clients, counters)
}

/// Writes `n` commands one after another through the leader; returns the
/// leader's (writes, jobs on its executor) over them. The counts are one
/// node's, so when leadership moves in the middle (an election on a
/// loaded machine) the whole measurement starts again on the new leader.
async fn sequential_writes(
    clients: &[(u64, Client<Journal>)],
    counters: &[Arc<AtomicUsize>],
    n: u32,
) -> (u64, usize) {
    'measure: for _ in 0..20 {
        let l = leader(clients).await;
        let c = &clients[(l - 1) as usize].1;
        let jobs = &counters[(l - 1) as usize];
        let (writes_before, jobs_before) = (
            c.status().await.expect("status").writes,
            jobs.load(Ordering::SeqCst),
        );
        for i in 0..n {
            match c.propose(Bytes::from(i.to_le_bytes().to_vec())).await {
                Ok(_) => {}
                Err(Error::NotLeader { .. } | Error::Unknown) => continue 'measure,
                Err(e) => panic!("write {i}: {e:?}"),
            }
        }
        let writes = c.status().await.expect("status").writes - writes_before;
        return (writes, jobs.load(Ordering::SeqCst) - jobs_before);
    }
    panic!("leadership never held for {n} writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_index_alone_is_written_on_the_drivers_task() {
    let net = MemNetwork::new(21);
    let (clients, counters) = cluster(&net, |log| log);
    let (writes, jobs) = sequential_writes(&clients, &counters, 200).await;
    // Each write of the leader is its entry (synced, on the executor)
    // and, once a quorum holds it, its commit index (in memory, here).
    // Ticks add a few more of either.
    assert!(writes >= 380, "200 writes took only {writes} log writes");
    assert!(
        jobs <= 220,
        "{jobs} of {writes} log writes went to the disk thread: commit \
         indexes should stay on the driver's task"
    );
    assert!(
        writes as usize - jobs >= 180,
        "only {} writes were done in place",
        writes as usize - jobs
    );
    converge(&clients, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_does_not_say_gets_every_write_on_the_executor() {
    let net = MemNetwork::new(22);
    let (clients, counters) = cluster(&net, |log| Cautious { log });
    let (writes, jobs) = sequential_writes(&clients, &counters, 100).await;
    assert!(writes >= 190, "100 writes took only {writes} log writes");
    // The two counters are read one after the other, so a write a tick
    // makes between the reads (at the start or at the end) is counted by
    // one of them only: seen once in 30 runs on a busy machine (200
    // against 201). Done on the driver's task, commit indexes alone
    // would put about 100 writes between them.
    assert!(
        jobs.abs_diff(writes as usize) <= 2,
        "the default keeps every write off the driver's task: {jobs} jobs \
         for {writes} writes"
    );
    converge(&clients, 100).await;
}

#[cfg(feature = "wal")]
#[test]
fn the_wal_keeps_a_commit_index_in_memory_and_nothing_else() {
    use synod_protocol::{Entry, HardState, Payload, SnapshotPiece};
    use synod_wal::Wal;
    use synod_wal::fs::SimDir;

    let mut wal = Wal::open(SimDir::new(23), synod_wal::Options::default()).expect("opens");
    wal.bootstrap(&[1, 2, 3]).expect("bootstraps");
    let commit = Write {
        hard_state: Some(HardState {
            term: 1,
            vote: Some(1),
            commit: 1,
        }),
        ..Write::default()
    };
    assert!(LogStorage::writes_in_memory(&wal, &commit));
    assert!(LogStorage::writes_in_memory(&wal, &Write::default()));
    let entries = Write {
        entries: vec![Entry {
            term: 1,
            index: 2,
            payload: Payload::Command(Bytes::from_static(b"x")),
        }],
        ..commit.clone()
    };
    assert!(!LogStorage::writes_in_memory(&wal, &entries));
    let pieces = Write {
        snapshot_pieces: vec![SnapshotPiece::default()],
        ..Write::default()
    };
    assert!(!LogStorage::writes_in_memory(&wal, &pieces));
}
