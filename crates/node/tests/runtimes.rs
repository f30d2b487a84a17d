//! The driver names no runtime: the same nodes run on the `futures`
//! crate's single-threaded executor, with ticks from a plain thread.

use crate::support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::channel::mpsc;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Ask, Journal, Node, raft_options};
use synod_node::memory::MemNetwork;
use synod_node::{Client, Consistency, Driver, Error, Inline, NodeOptions};
use synod_protocol::{MemStorage, Protocol, Role};

/// A tick every millisecond from a thread, until the receiver is gone.
fn thread_ticks() -> mpsc::UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded();
    std::thread::spawn(move || {
        while tx.unbounded_send(()).is_ok() {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    rx
}

async fn leader(clients: &[(u64, Client<Journal>)]) -> u64 {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        for (id, c) in clients {
            let s = c.status().await.expect("status");
            if s.protocol.role == Role::Leader {
                return *id;
            }
        }
    }
    panic!("no leader in 10 s");
}

#[test]
fn a_cluster_runs_on_the_futures_executor() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let net = MemNetwork::new(31);
    let mut clients = Vec::new();
    for id in [1u64, 2, 3] {
        let node = <Node as Protocol>::start(
            id,
            &raft_options(),
            MemStorage::bootstrap(&[1, 2, 3]),
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
        spawner
            .spawn_local(async move {
                let _ = driver.run(thread_ticks()).await;
            })
            .expect("spawned");
        clients.push((id, client));
    }
    pool.run_until(async {
        let l = leader(&clients).await;
        let c = &clients[(l - 1) as usize].1;
        for i in 0..20u32 {
            let got = c.propose(Bytes::from(format!("f{i}"))).await;
            assert_eq!(got, Ok(i as usize + 1));
        }
        // Every node applies all 20.
        let start = Instant::now();
        loop {
            let mut lens = Vec::new();
            for (_, c) in &clients {
                lens.push(
                    c.read(Ask::All, Consistency::Stale)
                        .await
                        .expect("read")
                        .len(),
                );
            }
            if lens.iter().all(|&n| n == 20) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{lens:?}");
        }
        for (_, c) in &clients {
            c.shutdown().await.expect("stops");
        }
        assert_eq!(c.status().await, Err(Error::Stopped));
    });
}
