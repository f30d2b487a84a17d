//! Strangers, other clusters, misdirected dials, oversized and forged
//! frames over real loopback TCP: each is refused or closes its own
//! connection, counted, and the node keeps receiving from real peers.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use synod_node::Inbox;
use synod_tcp::frame::{self, Hello, MAGIC, WIRE_VERSION, Welcome};
use synod_tcp::{Net, TcpOptions, TcpTransport, TokioNet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Msg {
    from: u64,
    text: String,
}

fn sender(m: &Msg) -> u64 {
    m.from
}

fn hello(cluster: &str, from: u64, to: u64) -> Hello {
    Hello {
        magic: MAGIC,
        version: WIRE_VERSION,
        cluster: cluster.into(),
        from,
        to,
    }
}

/// Node 2 of cluster "blue" listening; peers 1 and 3.
async fn listening() -> (
    String,
    TcpTransport<Msg>,
    synod_node::InboxReceiver<Msg>,
    synod_tcp::Listening,
) {
    let listener = TokioNet.bind("127.0.0.1:0".into()).await.expect("binds");
    let addr = listener.local_addr().expect("addr").to_string();
    let peers = BTreeMap::from([
        (1, "127.0.0.1:9".to_string()),
        (2, addr.clone()),
        (3, "127.0.0.1:9".to_string()),
    ]);
    let mut options = TcpOptions::new("blue", 2, peers);
    options.max_frame_bytes = 4096;
    let transport = TcpTransport::start(TokioNet, options, sender).expect("starts");
    let (inbox, rx) = Inbox::channel(64);
    let guard = transport.acceptor().listen::<TokioNet>(listener, inbox);
    (addr, transport, rx, guard)
}

async fn greet(addr: &str, h: &Hello) -> (TcpStream, Option<Welcome>) {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    frame::write(&mut s, h).await.expect("writes");
    let mut buf = Vec::new();
    let w = tokio::time::timeout(Duration::from_secs(5), frame::read(&mut s, 4096, &mut buf))
        .await
        .expect("an answer in time")
        .ok()
        .flatten();
    (s, w)
}

async fn send(s: &mut TcpStream, m: &Msg) {
    frame::write(s, m).await.expect("writes");
}

/// Reads until the peer closes; true if it did within 5 s.
async fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn only_a_peer_of_this_cluster_dialing_this_node_is_let_in() {
    let (addr, transport, mut rx, _guard) = listening().await;
    for (h, why) in [
        (hello("green", 1, 2), "cluster"),
        (hello("blue", 7, 2), "not a peer"),
        (hello("blue", 1, 3), "wanted node 3"),
        (hello("blue", 2, 2), "not a peer"),
    ] {
        let (mut s, w) = greet(&addr, &h).await;
        match w {
            Some(Welcome::Refused(reason)) => assert!(reason.contains(why), "{reason}"),
            other => panic!("{h:?} got {other:?}"),
        }
        assert!(closed(&mut s).await);
    }
    // Not synod at all: an HTTP request.
    let mut s = TcpStream::connect(&addr).await.expect("connects");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    assert!(closed(&mut s).await);
    // A real peer still gets through.
    let (mut s, w) = greet(&addr, &hello("blue", 1, 2)).await;
    assert_eq!(w, Some(Welcome::Accepted));
    let m = Msg {
        from: 1,
        text: "hi".into(),
    };
    send(&mut s, &m).await;
    assert_eq!(rx.next().await, Some(m));
    let stats = transport.stats();
    assert_eq!(stats.handshakes_refused, 5);
    assert_eq!(stats.frames_received, 1);
}

#[tokio::test]
async fn bad_frames_close_their_connection_only() {
    let (addr, transport, mut rx, _guard) = listening().await;
    // A 4 GiB length prefix.
    let (mut s, w) = greet(&addr, &hello("blue", 1, 2)).await;
    assert_eq!(w, Some(Welcome::Accepted));
    s.write_all(&u32::MAX.to_le_bytes()).await.expect("writes");
    assert!(closed(&mut s).await);
    // Garbage that does not decode.
    let (mut s, _) = greet(&addr, &hello("blue", 1, 2)).await;
    s.write_all(&[3, 0, 0, 0, 0xff, 0xff, 0xff])
        .await
        .expect("writes");
    assert!(closed(&mut s).await);
    // A message claiming another sender.
    let (mut s, _) = greet(&addr, &hello("blue", 1, 2)).await;
    send(
        &mut s,
        &Msg {
            from: 3,
            text: "forged".into(),
        },
    )
    .await;
    assert!(closed(&mut s).await);
    // A frame cut short, then the connection ends.
    let (mut s, _) = greet(&addr, &hello("blue", 3, 2)).await;
    s.write_all(&[100, 0, 0, 0, 1, 2]).await.expect("writes");
    s.shutdown().await.expect("shuts");
    assert!(closed(&mut s).await);
    // The node serves on.
    let (mut s, _) = greet(&addr, &hello("blue", 3, 2)).await;
    let m = Msg {
        from: 3,
        text: "still here".into(),
    };
    send(&mut s, &m).await;
    assert_eq!(rx.next().await, Some(m));
    let stats = transport.stats();
    assert_eq!(stats.connections_closed_bad_frame, 4, "{stats:?}");
}

#[tokio::test]
async fn two_transports_exchange_messages_and_refuse_unknown_addressees() {
    let l1 = TokioNet.bind("127.0.0.1:0".into()).await.expect("binds");
    let l2 = TokioNet.bind("127.0.0.1:0".into()).await.expect("binds");
    let peers = BTreeMap::from([
        (1, l1.local_addr().expect("addr").to_string()),
        (2, l2.local_addr().expect("addr").to_string()),
    ]);
    let t1 = TcpTransport::start(TokioNet, TcpOptions::new("c", 1, peers.clone()), sender)
        .expect("starts");
    let t2 = TcpTransport::start(TokioNet, TcpOptions::new("c", 2, peers), sender).expect("starts");
    let (i1, mut r1) = Inbox::channel(64);
    let (i2, mut r2) = Inbox::channel(64);
    let _g1 = t1.acceptor().listen::<TokioNet>(l1, i1);
    let _g2 = t2.acceptor().listen::<TokioNet>(l2, i2);
    use synod_node::Transport;
    for i in 0..100 {
        t1.send(
            2,
            Msg {
                from: 1,
                text: format!("{i}"),
            },
        );
    }
    for i in 0..100 {
        let m = r2.next().await.expect("a message");
        assert_eq!(m.text, format!("{i}"), "in order");
    }
    t2.send(
        1,
        Msg {
            from: 2,
            text: "back".into(),
        },
    );
    assert_eq!(r1.next().await.expect("a message").text, "back");
    t1.send(
        9,
        Msg {
            from: 1,
            text: "nobody".into(),
        },
    );
    assert_eq!(t1.stats().dropped_unknown_peer, 1);
    assert_eq!(t1.stats().frames_sent, 100);
}

// Dropping the guard stops accepting and closes the connections already
// accepted: a peer's open connection sees the close, and nothing more
// reaches the inbox.
#[tokio::test]
async fn dropping_the_listening_guard_closes_accepted_connections() {
    let (addr, _transport, mut rx, guard) = listening().await;
    let (mut s, w) = greet(&addr, &hello("blue", 1, 2)).await;
    assert_eq!(w, Some(Welcome::Accepted));
    let m = Msg {
        from: 1,
        text: "before".into(),
    };
    send(&mut s, &m).await;
    assert_eq!(rx.next().await, Some(m));
    drop(guard);
    assert!(closed(&mut s).await, "the accepted connection is closed");
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "nothing listens any more"
    );
}
