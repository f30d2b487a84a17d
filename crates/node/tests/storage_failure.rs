//! A node whose log fails stops, and tells its callers the truth: a
//! proposal it had taken may still commit under another leader (it was
//! appended and sent to the followers before the write failed), so the
//! caller hears `Unknown`, never `Stopped`, which promises that nothing
//! happened. Found by the nemesis suite's disk faults (a write answered
//! "stopped" and then read back).

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Journal, converge, leader, raft_options, tokio_ticks, write};
use synod_node::memory::MemNetwork;
use synod_node::{Driver, Error, Inline, LogStorage, NodeOptions};
use synod_protocol::{ConfState, Index, MemStorage, Protocol, StorageError, Write};
use synod_raft_core::RaftNode;

/// A log that fails every write and sync once `failing` is set.
#[derive(Debug)]
struct FailingDisk {
    log: MemStorage,
    failing: Arc<AtomicBool>,
}

delegate_storage!(FailingDisk, log);

impl FailingDisk {
    fn check(&self) -> Result<(), StorageError> {
        if self.failing.load(Ordering::Relaxed) {
            return Err(StorageError::Other("EIO (injected)".into()));
        }
        Ok(())
    }
}

impl LogStorage for FailingDisk {
    fn write(&mut self, write: Write) -> Result<(), StorageError> {
        self.check()?;
        self.log.write(write)
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        self.check()
    }
    fn snapshot_and_compact(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: Bytes,
        compact_through: Index,
    ) -> Result<(), StorageError> {
        self.check()?;
        self.log
            .snapshot_and_compact(index, conf_state, data, compact_through)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_pending_when_the_disk_fails_is_unknown_not_stopped() {
    let net = MemNetwork::new(31);
    let mut clients = Vec::new();
    let mut switches = Vec::new();
    let mut tasks = Vec::new();
    for id in [1u64, 2, 3] {
        let failing = Arc::new(AtomicBool::new(false));
        let disk = FailingDisk {
            log: MemStorage::bootstrap(&[1, 2, 3]),
            failing: Arc::clone(&failing),
        };
        let node = <RaftNode<FailingDisk, StdRng> as Protocol>::start(
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
            Inline,
            NodeOptions::default(),
        )
        .expect("driver");
        net.attach(id, inbox);
        tasks.push(tokio::spawn(driver.run(tokio_ticks())));
        clients.push((id, client));
        switches.push(failing);
    }
    for i in 0..5u32 {
        write(&clients, Bytes::from(format!("a{i}"))).await;
    }
    let l = leader(&clients).await;
    let (_, lc) = clients[(l - 1) as usize].clone();
    switches[(l - 1) as usize].store(true, Ordering::Relaxed);
    // The leader takes the proposal, sends it to the followers and fails
    // to write it: the answer must not promise that it did not happen.
    let answer = tokio::time::timeout(Duration::from_secs(5), lc.propose(&b"pending"[..]))
        .await
        .expect("the failing leader answers");
    assert_eq!(
        answer,
        Err(Error::Unknown),
        "a taken proposal's fate is unknown"
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), tasks.remove((l - 1) as usize))
        .await
        .expect("the driver stops")
        .expect("no panic");
    assert!(matches!(ended, Err(Error::Storage(_))), "{ended:?}");
    // Calls the stopped node never took did not take effect: Stopped.
    assert_eq!(lc.propose(&b"late"[..]).await, Err(Error::Stopped));
    assert_eq!(lc.status().await.map(|_| ()), Err(Error::Stopped));
    // The others go on; the pending proposal may or may not be among what
    // they committed, which is exactly why the answer was Unknown.
    let rest: Vec<_> = clients.iter().filter(|(id, _)| *id != l).cloned().collect();
    write(&rest, Bytes::from_static(b"after")).await;
    let journal = converge(&rest, 6).await;
    assert_eq!(journal.last().map(|b| &b[..]), Some(&b"after"[..]));
}
