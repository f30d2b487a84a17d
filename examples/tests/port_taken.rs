//! Starting a node on a port something else holds fails with an error that
//! `is_addr_in_use` recognizes: what the starters that pick free ports
//! (the tests' single-node and lock-service starters) retry on.

use std::collections::BTreeMap;

use synod_examples::is_addr_in_use;
use synod_examples::kvstore::node::{KvConfig, PeerAddr, ProtocolKind, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_told_apart_from_other_failures() {
    let dir = tempfile::tempdir().expect("tmp");
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken = held.local_addr().expect("addr").to_string();
    let config = KvConfig {
        id: 1,
        peers: BTreeMap::from([(
            1,
            PeerAddr {
                raft: taken.clone(),
                http: taken,
            },
        )]),
        data_dir: dir.path().join("n1"),
        cluster: "t".into(),
        tick_ms: 5,
        forward_writes: false,
        protocol: ProtocolKind::Raft,
        disk_fault_file: None,
    };
    let Err(e) = start(&config).await else {
        panic!("started on a port another socket holds");
    };
    assert!(is_addr_in_use(&*e), "not recognized: {e:?}");

    let other: Box<dyn std::error::Error> = "this node is not in --peer".into();
    assert!(!is_addr_in_use(&*other));
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    assert!(!is_addr_in_use(&refused));
}
