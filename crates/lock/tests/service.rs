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
            let c = LockClient::new(nodes, 1_000 + w, sleep());
            c.open_session(Duration::from_secs(5))
                .await
                .expect("a session");
            let mut tokens = Vec::new();
            for _ in 0..rounds {
                let guard = c.lock("counter").await.expect("the lock");
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
    let reader = LockClient::new(nodes, 9_999, sleep());
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
    let a = LockClient::new(nodes.clone(), 1, sleep());
    let b = LockClient::new(nodes, 2, sleep());
    a.open_session(Duration::from_millis(200)).await.unwrap();
    b.open_session(Duration::from_secs(10)).await.unwrap();
    let ga = a.lock("x").await.unwrap();
    assert_eq!(a.session_state(), SessionState::Connected);
    // A pauses (no keep-alive); B waits in the queue and gets the lock
    // once A's session expires in log time.
    let gb = b.lock("x").await.unwrap();
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
    let r = a.write(stale).await;
    assert_eq!(
        r,
        Err(ClientError::Refused(LockError::GuardFailed {
            lock: "x".into(),
            token: ga.token
        }))
    );
    assert_eq!(
        a.unlock(ga).await,
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

/// With a time limit: a test that hangs fails instead.
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_guard_releases_the_lock() {
    let (nodes, _net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let a = LockClient::new(nodes.clone(), 1, sleep());
    let b = LockClient::new(nodes.clone(), 2, sleep());
    a.open_session(Duration::from_secs(10)).await.unwrap();
    b.open_session(Duration::from_secs(10)).await.unwrap();
    // Through the background task.
    tokio::spawn(a.background());
    let g = a.lock("d").await.unwrap();
    drop(g);
    let gb = within("b's lock after a's guard dropped", b.lock("d"))
        .await
        .unwrap();
    // Without one: the next call of the client sends the release first.
    let c = LockClient::new(nodes, 3, sleep());
    c.open_session(Duration::from_secs(10)).await.unwrap();
    drop(gb);
    b.get("anything").await.unwrap(); // a read sends nothing...
    assert!(c.try_lock("d", Duration::ZERO).await.unwrap().is_none());
    b.keep_alive().await.unwrap(); // ...a command sends the release first
    let gc = c.try_lock("d", Duration::ZERO).await.unwrap();
    assert!(gc.is_some(), "the dropped guard was not released");
    // A guard kept with `forget` stays held.
    drop(gc);
    let g = within("c's lock again", c.lock("e")).await.unwrap();
    let (lock, token) = g.forget();
    c.keep_alive().await.unwrap();
    assert_eq!(c.holders(&lock).await.unwrap().len(), 1);
    assert!(token > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_keeps_the_session_and_its_lock() {
    let (nodes, _net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let a = LockClient::new(nodes.clone(), 1, sleep());
    let b = LockClient::new(nodes, 2, sleep());
    a.open_session(Duration::from_millis(400)).await.unwrap();
    b.open_session(Duration::from_secs(10)).await.unwrap();
    tokio::spawn(a.background());
    let g = a.lock("k").await.unwrap();
    // Three time-to-lives with no call of a's own.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(a.session_state(), SessionState::Connected);
    assert!(b.try_lock("k", Duration::ZERO).await.unwrap().is_none());
    let w = Write {
        guards: vec![(g.lock.clone(), g.token)],
        checks: Vec::new(),
        puts: vec![("k".into(), Some(b"a".to_vec()))],
    };
    a.write(w).await.expect("still the holder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_hear_the_session_go_suspended_then_lost() {
    let (nodes, net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let options = ClientOptions {
        max_attempts: 3,
        ..ClientOptions::default()
    };
    let a = LockClient::with_options(nodes, 1, sleep(), options);
    // Few attempts per call: the first may come before a leader is elected.
    within("a session", async {
        while a.open_session(Duration::from_millis(300)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let mut states = a.watch_session();
    tokio::spawn(a.background());
    // The service loses its quorum: keep-alives stop getting through.
    for id in 1..=3 {
        net.isolate(id);
    }
    let mut seen = Vec::new();
    use futures::StreamExt;
    while let Some(s) = within("the next state", states.next()).await {
        seen.push(s);
        if s == SessionState::Lost {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            SessionState::Connected,
            SessionState::Suspended,
            SessionState::Lost
        ]
    );
    assert_eq!(a.lock("x").await.err(), Some(ClientError::OwnershipLost));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_lock_read_locks_and_semaphores() {
    let (nodes, _net) = service::<synod_raft_core::RaftNode<MemStorage, StdRng>>(&raft());
    let [a, b, c] = [1, 2, 3].map(|id| LockClient::new(nodes.clone(), id, sleep()));
    for x in [&a, &b, &c] {
        x.open_session(Duration::from_secs(10)).await.unwrap();
    }
    let g = a.lock("t").await.unwrap();
    assert!(b.try_lock("t", Duration::ZERO).await.unwrap().is_none());
    // Waits 50 ms of log time in the queue, then gives up.
    let waited = within(
        "a timed try_lock",
        b.try_lock("t", Duration::from_millis(50)),
    )
    .await;
    assert!(waited.unwrap().is_none());
    a.unlock(g).await.unwrap();
    let gb = b
        .try_lock("t", Duration::ZERO)
        .await
        .unwrap()
        .expect("free now");
    assert!(gb.token > 0);
    // Readers share; a writer waits for them.
    let (ra, rb) = (
        a.read_lock("rw").await.unwrap(),
        b.read_lock("rw").await.unwrap(),
    );
    assert_eq!(c.holders("rw").await.unwrap().len(), 2);
    assert!(c.try_lock("rw", Duration::ZERO).await.unwrap().is_none());
    drop((ra, rb));
    a.keep_alive().await.unwrap();
    b.keep_alive().await.unwrap();
    assert!(c.try_lock("rw", Duration::ZERO).await.unwrap().is_some());
    // Two permits: two holders, the third is refused without waiting.
    let (sa, sb) = (
        a.semaphore("s", 2).await.unwrap(),
        b.semaphore("s", 2).await.unwrap(),
    );
    assert_ne!(sa.token, sb.token);
    let third = c
        .acquire("s", Mode::Permit { capacity: 2 }, Some(Duration::ZERO))
        .await;
    assert_eq!(third.err(), Some(ClientError::Refused(LockError::Busy)));
    let wrong = c.semaphore("s", 3).await;
    assert_eq!(
        wrong.err(),
        Some(ClientError::Refused(LockError::WrongMode))
    );
}
