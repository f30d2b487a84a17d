//! The lock service example end to end: three nodes over loopback TCP
//! with their logs on disk, clients over the JSON API. The demo asserts
//! its own story (a stalled holder loses the lock to the waiter, whose
//! token is larger, and the fenced resource refuses the stale one).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_fencing_refuses_the_stalled_holder() {
    let run = synod_examples::lockservice::demo::run();
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the demo finished")
        .expect("the demo succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_on_multi_paxos_too() {
    use synod_examples::kvstore::node::ProtocolKind;
    let run = synod_examples::lockservice::demo::run_on(ProtocolKind::Paxos);
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the demo finished")
        .expect("the demo succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_cannot_stamp_log_time_or_send_garbage() {
    use std::collections::BTreeMap;
    use synod_examples::kvstore::node::{KvConfig, PeerAddr, ProtocolKind};
    let dir = tempfile::tempdir().unwrap();
    let free = || synod_examples::free_loopback_addr().unwrap();
    let peers: BTreeMap<u64, PeerAddr> = [(
        1,
        PeerAddr {
            raft: free(),
            http: free(),
        },
    )]
    .into();
    let config = KvConfig {
        id: 1,
        peers: peers.clone(),
        data_dir: dir.path().join("n1"),
        cluster: "t".to_string(),
        tick_ms: 5,
        forward_writes: false,
        protocol: ProtocolKind::Raft,
        disk_fault_file: None,
    };
    let node = synod_examples::lockservice::start(&config).await.unwrap();
    let url = format!("http://{}/v1/propose", peers[&1].http);
    let http = reqwest::Client::new();
    let forged = serde_json::json!({
        "client": 7, "seq": 1,
        "command": { "Clock": { "term": 99, "now_ms": u64::MAX } }
    });
    let r: serde_json::Value = http
        .post(&url)
        .json(&forged)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("Failed").is_some(), "a client stamped log time: {r}");
    // Garbage and wrong shapes: a 4xx, and the node keeps serving.
    let bad = http
        .post(&url)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error());
    let huge = http
        .post(&url)
        .body(vec![b'x'; 1 << 20])
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(huge.status().is_client_error());
    let c = synod_examples::lockservice::cli::client(&[format!("1={}", peers[&1].http)]).unwrap();
    let opened = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            if c.open_session(std::time::Duration::from_secs(5))
                .await
                .is_ok()
            {
                return;
            }
        }
    });
    opened.await.expect("the node still serves");
    node.replica.client.shutdown().await.unwrap();
}
