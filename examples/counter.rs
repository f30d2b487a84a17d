//! The distributed counter done correctly: increments are commands through
//! consensus, so every replica counts every acknowledged increment exactly
//! once, in the same order. Three replicas in one process.
//!
//! ```sh
//! cargo run --example counter
//! ```

use std::time::Duration;

use bytes::Bytes;
use rand::{SeedableRng, rngs::StdRng};
use synod_node::{Consistency, Driver, Inline, NodeOptions, StateMachine, memory::MemNetwork};
use synod_protocol::{MemStorage, Protocol};
use synod_raft_core::{Config, RaftNode};

/// The replicated state: one number.
#[derive(Debug, Default)]
struct Counter(u64);

impl StateMachine for Counter {
    type Response = u64; // the value after this increment
    type Query = ();
    type Answer = u64;

    fn apply(&mut self, _index: u64, command: &Bytes) -> u64 {
        let by = command.first().copied().unwrap_or(0);
        self.0 += u64::from(by);
        self.0
    }
    fn query(&self, (): &()) -> u64 {
        self.0
    }
    fn snapshot(&self) -> Bytes {
        Bytes::copy_from_slice(&self.0.to_le_bytes())
    }
    fn restore(&mut self, data: &Bytes) -> Result<(), String> {
        self.0 = u64::from_le_bytes(data[..].try_into().map_err(|_| "not a counter")?);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let net = MemNetwork::new(7);
    let mut clients = Vec::new();
    for id in 1..=3 {
        let log = MemStorage::bootstrap(&[1, 2, 3]);
        let rng = StdRng::seed_from_u64(id);
        let node = <RaftNode<_, _> as Protocol>::start(id, &Config::new(id), log, rng)?;
        let (client, inbox, driver) = Driver::new(
            node,
            Counter::default(),
            net.transport(id),
            Inline,
            NodeOptions::default(),
        )?;
        net.attach(id, inbox);
        let ticks = tokio::time::interval(Duration::from_millis(5));
        tokio::spawn(
            driver.run(Box::pin(futures::stream::unfold(ticks, |mut t| async {
                t.tick().await;
                Some(((), t))
            }))),
        );
        clients.push(client);
    }
    // Increment through any node; a follower names the leader.
    let mut via = 0;
    let mut done = 0;
    while done < 100 {
        match clients[via].propose(vec![1u8]).await {
            Ok(_) => done += 1,
            Err(synod_node::Error::NotLeader { leader: Some(l) }) => via = (l - 1) as usize,
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    for (i, c) in clients.iter().enumerate() {
        println!(
            "node {}: {}",
            i + 1,
            c.read((), Consistency::Linearizable).await?
        );
    }
    Ok(())
}
