//! A snapshot far larger than the transport's frame limit reaches a new
//! follower over real loopback TCP: raft-core sends it in pieces (1 MiB by
//! default) with a window of unacknowledged ones, so no frame is ever
//! oversized and heartbeats keep flowing; the leader keeps its term
//! throughout. Sent whole, as before pieces existed, this snapshot could
//! never arrive: every attempt exceeded `max_frame_bytes` and was dropped.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_node::{Client, Consistency, Driver, Inline, NodeOptions, StateMachine};
use synod_protocol::{MemStorage, Protocol};
use synod_raft_core::{Config, Message, RaftNode};
use synod_tcp::{Net, StatsHandle, TcpOptions, TcpTransport, TokioNet};

type Node = RaftNode<MemStorage, StdRng>;

const FRAME_LIMIT: u32 = 2 << 20;
const COMMAND_BYTES: usize = 256 << 10;
const COMMANDS: usize = 40;

/// Keeps every command: its snapshot is the state's full size (10 MiB).
#[derive(Debug, Default)]
struct Blobs(Vec<Bytes>);

impl StateMachine for Blobs {
    type Response = usize;
    type Query = ();
    type Answer = (usize, u64);

    fn apply(&mut self, _index: u64, command: &Bytes) -> usize {
        self.0.push(command.clone());
        self.0.len()
    }

    /// How many, and a checksum of all of them in order.
    fn query(&self, _: &()) -> (usize, u64) {
        let sum = self.0.iter().fold(0u64, |acc, b| {
            b.iter()
                .fold(acc, |a, &x| a.wrapping_mul(31).wrapping_add(u64::from(x)))
        });
        (self.0.len(), sum)
    }

    fn snapshot(&self) -> Bytes {
        let mut out = Vec::new();
        for b in &self.0 {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        Bytes::from(out)
    }

    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String> {
        let mut blobs = Vec::new();
        let mut rest = &snapshot[..];
        while !rest.is_empty() {
            let (len, tail) = rest.split_at_checked(4).ok_or("truncated length")?;
            let len = u32::from_le_bytes(len.try_into().map_err(|_| "length")?) as usize;
            let (blob, tail) = tail.split_at_checked(len).ok_or("truncated blob")?;
            blobs.push(Bytes::copy_from_slice(blob));
            rest = tail;
        }
        self.0 = blobs;
        Ok(())
    }
}

struct Running {
    client: Client<Blobs>,
    stats: StatsHandle,
    _listening: synod_tcp::Listening,
}

async fn start(
    id: u64,
    listener: <TokioNet as Net>::Listener,
    peers: &BTreeMap<u64, String>,
) -> Running {
    let raft = Config {
        election_timeout_ticks: 20,
        heartbeat_ticks: 2,
        ..Config::new(id)
    };
    let node = <Node as Protocol>::start(
        id,
        &raft,
        MemStorage::bootstrap(&[1, 2, 3]),
        StdRng::seed_from_u64(id),
    )
    .expect("starts");
    let mut options = TcpOptions::new("big", id, peers.clone());
    options.max_frame_bytes = FRAME_LIMIT;
    let transport =
        TcpTransport::start(TokioNet, options, |m: &Message| m.from).expect("transport");
    let stats = transport.stats_handle();
    let acceptor = transport.acceptor();
    let node_options = NodeOptions {
        snapshot_every_entries: 10,
        // No tail: a follower behind is sent the snapshot.
        compaction_tail_entries: 0,
        ..NodeOptions::default()
    };
    let (client, inbox, driver) =
        Driver::new(node, Blobs::default(), transport, Inline, node_options).expect("driver");
    let listening = acceptor.listen::<TokioNet>(listener, inbox);
    let interval = tokio::time::interval(Duration::from_millis(10));
    let ticks = Box::pin(futures::stream::unfold(interval, |mut i| async move {
        i.tick().await;
        Some(((), i))
    }));
    tokio::spawn(driver.run(ticks));
    Running {
        client,
        stats,
        _listening: listening,
    }
}

async fn leader_of(nodes: &[&Running]) -> (u64, u64) {
    for _ in 0..500 {
        for n in nodes {
            if let Ok(s) = n.client.status().await
                && s.protocol.leader == Some(s.protocol.id)
            {
                return (s.protocol.id, s.protocol.term);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_five_times_the_frame_limit_reaches_a_new_follower() {
    let mut listeners = Vec::new();
    let mut peers = BTreeMap::new();
    for id in 1..=3u64 {
        let l = TokioNet.bind("127.0.0.1:0".into()).await.expect("binds");
        peers.insert(id, l.local_addr().expect("addr").to_string());
        listeners.push(l);
    }
    let mut listeners = listeners.into_iter();
    let n1 = start(1, listeners.next().unwrap(), &peers).await;
    let n2 = start(2, listeners.next().unwrap(), &peers).await;
    let (leader, term) = leader_of(&[&n1, &n2]).await;
    let lead = if leader == 1 { &n1 } else { &n2 };
    for i in 0..COMMANDS {
        let command = Bytes::from(vec![i as u8; COMMAND_BYTES]);
        lead.client
            .propose(command)
            .await
            .expect("committed by 1 and 2");
    }
    let want = lead
        .client
        .read((), Consistency::Linearizable)
        .await
        .expect("read");
    assert_eq!(want.0, COMMANDS);
    let status = lead.client.status().await.expect("status");
    assert!(status.snapshots_taken >= 1, "{status:?}");
    // Node 3 starts empty: it needs the snapshot (the log is compacted).
    let n3 = start(3, listeners.next().unwrap(), &peers).await;
    let mut got = (0, 0);
    for _ in 0..1_000 {
        if let Ok(g) = n3.client.read((), Consistency::Stale).await {
            got = g;
            if got == want {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got, want, "node 3 holds every command, in order");
    let s3 = n3.client.status().await.expect("status");
    assert!(s3.snapshots_restored >= 1, "{s3:?}");
    let now = lead.client.status().await.expect("status");
    assert_eq!(
        (now.protocol.leader, now.protocol.term),
        (Some(leader), term),
        "heartbeats kept flowing: no election during the transfer"
    );
    // Nothing the leader sent was too large to frame: the transport
    // dropped frames only while node 3 was not yet listening.
    assert_eq!(lead.stats.stats().connections_closed_bad_frame, 0);
    assert_eq!(n3.stats.stats().connections_closed_bad_frame, 0);
}
