//! The lock service end to end on synod-node (three raft-core replicas,
//! and three Multi-Paxos replicas, over the in-process network): each node
//! stamps log time on a timer; clients contend for a lock that guards a
//! counter in the versioned map and increment it with writes guarded by
//! their fencing tokens. No increment is lost, tokens only rise, and a
//! client that stops keeping its session alive past its time-to-live finds
//! its lock taken over and its stale write refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_lock::*;
use synod_node::memory::MemNetwork;
use synod_node::{Client, Driver, Inline, NodeOptions};
use synod_protocol::{MemStorage, Protocol};

/// The service's nodes, each with its client.
type Nodes = Vec<(u64, Client<LockMachine>)>;

fn sleep() -> Sleep {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

fn ticks() -> impl futures::Stream<Item = ()> + Unpin + Send {
    let interval = tokio::time::interval(Duration::from_millis(1));
    Box::pin(futures::stream::unfold(interval, |mut i| async move {
        i.tick().await;
        Some(((), i))
    }))
}

/// Three replicas of protocol `P` running the lock machine, each with a
/// task stamping log time every 5 ms; their clients and the network.
fn service<P>(options: &P::Options) -> (Nodes, Arc<MemNetwork<P::Message>>)
where
    P: Protocol<Storage = MemStorage, Rng = StdRng> + Send + 'static,
    P::Message: Send + 'static,
    P::Receipt: Send,
{
    let net = Arc::new(MemNetwork::<P::Message>::new(9));
    let start = Instant::now();
    let mut clients = Vec::new();
    for id in 1..=3u64 {
        let node = P::start(
            id,
            options,
            MemStorage::bootstrap(&[1, 2, 3]),
            StdRng::seed_from_u64(id),
        )
        .expect("the replica starts");
        let (client, inbox, driver) = Driver::new(
            node,
            LockMachine::new(),
            net.transport(id),
            Inline,
            NodeOptions::default(),
        )
        .expect("the driver starts");
        net.attach(id, inbox);
        tokio::spawn(driver.run(ticks()));
        let stamper = client.clone();
        tokio::spawn(async move {
            loop {
                let clock = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                if stamp_clock(&stamper, clock).await.is_err() {
                    // Stopped (or a stamp lost in a leader change): the
                    // next one follows.
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        clients.push((id, client));
    }
    (clients, net)
}

fn raft() -> synod_raft_core::Config {
    synod_raft_core::Config {
        election_timeout_ticks: 10,
        heartbeat_ticks: 1,
        ..synod_raft_core::Config::new(1)
    }
}

fn counter(v: Option<(Vec<u8>, u64)>) -> u64 {
    v.map_or(0, |(b, _)| {
        u64::from_le_bytes(b.try_into().expect("8 bytes"))
    })
}

/// `workers` clients each increment the counter `rounds` times under the
/// lock; returns the final counter and every token granted, in order per
/// client.
async fn contend(
    nodes: Vec<(u64, Client<LockMachine>)>,
    workers: u64,
    rounds: u64,
) -> (u64, Vec<Token>) {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let nodes = nodes.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = LockClient::new(nodes, 1_000 + w, sleep());
            c.open_session(Duration::from_secs(5))
                .await
                .expect("a session");
            let mut tokens = Vec::new();
            for _ in 0..rounds {
                let guard = c.lock("counter", Mode::Exclusive).await.expect("the lock");
                let value = counter(c.get("c").await.expect("a read"));
                c.write(Write {
                    guards: vec![(guard.lock.clone(), guard.token)],
                    checks: Vec::new(),
                    puts: vec![("c".into(), Some((value + 1).to_le_bytes().to_vec()))],
                })
                .await
                .expect("a fenced write under a held lock");
                tokens.push(guard.token);
                c.unlock(guard).await.expect("unlock");
            }
            tokens
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        let mine = t.await.expect("a worker");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "tokens went back: {mine:?}"
        );
        tokens.extend(mine);
    }
    let mut reader = LockClient::new(nodes, 9_999, sleep());
    let value = counter(reader.get("c").await.expect("a read"));
    // The replicated history: grants of the lock alternate with releases
    // of the same holder, and tokens rise (mutual exclusion in log order).
    let (events, missed) = reader.events(0, usize::MAX).await.expect("events");
    assert!(!missed);
    let mut held: Option<(SessionId, Token)> = None;
    let mut last = 0;
    for (_, e) in events {
        match e {
            Event::Granted { session, token, .. } => {
                assert_eq!(held, None, "granted to {session} while held");
                assert!(token > last, "token {token} after {last}");
                (held, last) = (Some((session, token)), token);
            }
            Event::Released { session, token, .. } => {
                assert_eq!(held, Some((session, token)), "released by a non-holder");
                held = None;
            }
            _ => {}
        }
    }
    (value, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_increments_are_never_lost_on_raft() {
    let (nodes, _net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let (value, mut tokens) = contend(nodes, 3, 10).await;
    assert_eq!(value, 30, "an increment was lost");
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 30, "a token was granted twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_increments_are_never_lost_on_paxos() {
    let (nodes, _net) = service::<synod_paxos_core::PaxosNode<MemStorage, StdRng>>(
        &synod_paxos_core::Config::new(1),
    );
    let (value, _) = contend(nodes, 3, 10).await;
    assert_eq!(value, 30, "an increment was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_paused_past_its_ttl_loses_the_lock_and_its_stale_write_is_refused() {
    let (nodes, _net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let mut a = LockClient::new(nodes.clone(), 1, sleep());
    let mut b = LockClient::new(nodes, 2, sleep());
    a.open_session(Duration::from_millis(200)).await.unwrap();
    b.open_session(Duration::from_secs(10)).await.unwrap();
    let ga = a.lock("x", Mode::Exclusive).await.unwrap();
    assert_eq!(a.session_state(), SessionState::Connected);
    // A pauses (no keep-alive); B waits in the queue and gets the lock
    // once A's session expires in log time.
    let gb = b.lock("x", Mode::Exclusive).await.unwrap();
    assert!(
        gb.token > ga.token,
        "B's token {} not above A's {}",
        gb.token,
        ga.token
    );
    assert_eq!(
        a.session_state(),
        SessionState::Lost,
        "A still trusts its lock"
    );
    // A wakes and writes with its old token: refused, whatever A believes.
    let stale = Write {
        guards: vec![("x".into(), ga.token)],
        checks: Vec::new(),
        puts: vec![("k".into(), Some(b"from A".to_vec()))],
    };
    let mut a_raw = a;
    let r = a_raw.write(stale).await;
    assert_eq!(
        r,
        Err(ClientError::Refused(LockError::GuardFailed {
            lock: "x".into(),
            token: ga.token
        }))
    );
    assert_eq!(
        a_raw.unlock(ga).await,
        Err(ClientError::OwnershipLost),
        "the client knows its session is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_increment_is_lost_when_the_leader_is_cut_off_mid_run() {
    // Leader churn: while the clients contend, whichever node leads is cut
    // off twice (its stamps stop, proposals through it fail or are lost and
    // retried with the same sequence number, a new leader stamps time).
    let (nodes, net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let churn_nodes = nodes.clone();
    let churn = tokio::spawn(async move {
        let mut cut = 0;
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(40)).await;
            for (id, c) in &churn_nodes {
                let leads = c
                    .status()
                    .await
                    .is_ok_and(|s| s.protocol.leader == Some(*id));
                if leads {
                    net.isolate(*id);
                    cut += 1;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
            net.heal();
        }
        cut
    });
    let (value, mut tokens) = contend(nodes.clone(), 3, 10).await;
    let cut = churn.await.expect("churn");
    let mut changes = 0;
    for (_, c) in &nodes {
        changes += c.status().await.expect("status").leader_changes;
    }
    assert!(cut >= 1, "no leader was cut off: the test tests nothing");
    assert!(changes > 3, "no leader change seen ({changes})");
    assert_eq!(value, 30, "an increment was lost");
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 30, "a token was granted twice");
}
