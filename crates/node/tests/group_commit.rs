//! Group commit: proposals that arrive while the log is syncing join the
//! next write. Needs a disk that takes time, so the log here is the
//! in-memory one behind a sync that sleeps, on a `DiskThread`.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Journal, converge, leader, raft_options, tokio_ticks};
use synod_node::memory::MemNetwork;
use synod_node::{DiskThread, Driver, LogStorage, NodeOptions};
use synod_protocol::{MemStorage, Protocol, StorageError, Write};
use synod_raft_core::RaftNode;

/// `MemStorage` whose sync takes `sync_latency`, like a disk's fdatasync.
#[derive(Debug)]
struct SlowDisk {
    log: MemStorage,
    sync_latency: Duration,
}

delegate_storage!(SlowDisk, log);

impl LogStorage for SlowDisk {
    fn write(&mut self, write: Write) -> Result<(), StorageError> {
        self.log.write(write)
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        std::thread::sleep(self.sync_latency);
        Ok(())
    }
    delegate_compaction!(log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_arriving_during_a_sync_join_the_next_write() {
    let net = MemNetwork::new(11);
    let mut clients = Vec::new();
    for id in [1u64, 2, 3] {
        let disk = SlowDisk {
            log: MemStorage::bootstrap(&[1, 2, 3]),
            sync_latency: Duration::from_millis(2),
        };
        let node = <RaftNode<SlowDisk, StdRng> as Protocol>::start(
            id,
            &raft_options(),
            disk,
            StdRng::seed_from_u64(id),
        )
        .expect("starts");
        let (client, inbox, driver) = Driver::new(
            node,
            Journal::default(),
            net.transport(id),
            DiskThread::spawn("synod-disk").expect("a thread"),
            NodeOptions::default(),
        )
        .expect("driver");
        net.attach(id, inbox);
        tokio::spawn(driver.run(tokio_ticks()));
        clients.push((id, client));
    }
    let l = leader(&clients).await;
    let c = clients[(l - 1) as usize].1.clone();
    let before = c.status().await.expect("status").syncs;
    let calls: Vec<_> = (0..256u32)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.propose(Bytes::from(i.to_le_bytes().to_vec())).await })
        })
        .collect();
    let mut positions = Vec::new();
    for call in calls {
        positions.push(call.await.expect("joined").expect("committed"));
    }
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=256).collect::<Vec<_>>(),
        "each applied once"
    );
    let status = c.status().await.expect("status");
    let syncs = status.syncs - before;
    assert_eq!(status.sync_latency.count(), status.syncs);
    let p50 = status
        .sync_latency
        .quantile_us(0.5)
        .expect("syncs were timed");
    assert!(p50 >= 2048, "a 2 ms sync measured under {p50} us");
    // With one proposal per write this would be 256 or more.
    assert!(
        syncs < 64,
        "256 proposals took {syncs} syncs: no group commit"
    );
    converge(&clients, 256).await;
}
