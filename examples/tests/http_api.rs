//! The kv example's HTTP API on a one-node cluster: the happy paths, and
//! every malformed request answered with a JSON 4xx while the node keeps
//! serving.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use synod_examples::kvstore::http::{Limits, router};
use synod_examples::kvstore::node::{KvConfig, PeerAddr, ProtocolKind, start};
use synod_examples::kvstore::single_node;

fn free() -> String {
    synod_examples::free_loopback_addr().expect("a port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_bad_requests_with_json_4xx() {
    let dir = tempfile::tempdir().expect("tmp");
    let limits = Limits {
        max_key_bytes: 16,
        max_value_bytes: 100,
        forward_writes: false,
    };
    let (replica, http) = single_node(dir.path(), limits).await.expect("starts");
    let c = reqwest::Client::new();
    let url = |p: &str| format!("http://{http}{p}");
    // Wait for the single node to elect itself.
    let mut led = false;
    for _ in 0..400 {
        let s: Value = c
            .get(url("/status"))
            .send()
            .await
            .expect("up")
            .json()
            .await
            .expect("json");
        if s["role"] == "leader" {
            led = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(led, "the node never led");

    let put = c
        .put(url("/kv/a"))
        .json(&json!({"value": "1"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), 200);
    let body: Value = put.json().await.expect("json");
    assert_eq!(body["ok"], true);
    let got: Value = c
        .get(url("/kv/a"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(got["value"], "1");
    let cas = c
        .post(url("/kv/a/cas"))
        .json(&json!({"expect": "1", "new": "2"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(cas.json::<Value>().await.expect("json")["ok"], true);
    let cas = c
        .post(url("/kv/a/cas"))
        .json(&json!({"expect": "1", "new": "3"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(cas.json::<Value>().await.expect("json")["ok"], false);

    let bad = [
        c.put(url("/kv/a"))
            .header("content-type", "application/json")
            .body("{\"val"),
        c.put(url("/kv/a"))
            .header("content-type", "application/json")
            .body("[1,2]"),
        c.put(url("/kv/a")).body("not json at all"),
        c.put(url("/kv/a")).json(&json!({"value": "x".repeat(101)})),
        c.put(url(&format!("/kv/{}", "k".repeat(17))))
            .json(&json!({"value": "1"})),
        c.get(url("/kv/a?consistency=eventually")),
        c.get(url("/kv/missing")),
        c.get(url("/nowhere")),
        c.post(url("/kv/a/cas")).json(&json!({"expect": 5})),
        // (The 1 MiB body is below: the server may close before it is
        // sent, so it cannot be asked to answer with a JSON body.)
    ];
    for req in bad {
        let r = req.send().await.expect("sent");
        let code = r.status();
        assert!(code.is_client_error(), "{code}");
        let body: Value = r.json().await.expect("a JSON error");
        assert!(body["error"].is_string(), "{body}");
    }
    // A body far past the limit: the server answers 413 as soon as the
    // length is known and may close before the client finished sending, so
    // the client sees either the 413 or its own write cut off.
    let huge = c
        .put(url("/kv/a"))
        .json(&json!({"value": "x".repeat(1 << 20)}))
        .send()
        .await;
    match huge {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    // Still serving, nothing acknowledged lost.
    let got: Value = c
        .get(url("/kv/a?consistency=stale"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(got["value"], "2");
    replica.client.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_forward_writes_when_told_to_and_redirect_otherwise() {
    use synod_examples::kvstore::node::Replica;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let addrs: Vec<(String, String)> = (0..3).map(|_| (free(), free())).collect();
    let peers: BTreeMap<u64, PeerAddr> = addrs
        .iter()
        .zip(1..)
        .map(|((raft, http), id)| {
            (
                id,
                PeerAddr {
                    raft: raft.clone(),
                    http: http.clone(),
                },
            )
        })
        .collect();
    let http: BTreeMap<u64, String> = peers.iter().map(|(id, p)| (*id, p.http.clone())).collect();
    let mut replicas: Vec<Replica> = Vec::new();
    for (id, dir) in (1..=3).zip(&dirs) {
        let config = KvConfig {
            id,
            peers: peers.clone(),
            data_dir: dir.path().to_path_buf(),
            cluster: "f".into(),
            tick_ms: 5,
            forward_writes: id != 3,
            protocol: ProtocolKind::Raft,
            disk_fault_file: None,
        };
        let replica = start(&config).await.expect("starts");
        let limits = Limits {
            forward_writes: config.forward_writes,
            ..Limits::default()
        };
        let app = router(replica.client.clone(), http.clone(), limits);
        let listener = tokio::net::TcpListener::bind(&http[&id])
            .await
            .expect("binds");
        tokio::spawn(async move { axum::serve(listener, app).await });
        replicas.push(replica);
    }
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    // Wait until every node knows the same leader.
    let mut leader = None;
    for _ in 0..400 {
        let mut known = Vec::new();
        for id in 1..=3u64 {
            let s: Value = c
                .get(format!("http://{}/status", http[&id]))
                .send()
                .await
                .expect("up")
                .json()
                .await
                .expect("json");
            known.push(s["leader"].as_u64());
        }
        if known[0].is_some() && known.iter().all(|k| *k == known[0]) {
            leader = known[0];
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let leader = leader.expect("a leader");
    for id in 1..=3u64 {
        let r = c
            .put(format!("http://{}/kv/k{id}", http[&id]))
            .json(&json!({"value": "v"}))
            .send()
            .await
            .expect("sent");
        let want = if id == leader || id != 3 { 200 } else { 307 };
        assert_eq!(r.status(), want, "node {id} (leader {leader})");
        if want == 307 {
            let location = r.headers()["location"].to_str().expect("ascii");
            assert!(location.contains(&http[&leader]), "{location}");
        }
    }
    for r in replicas {
        r.client.shutdown().await.expect("stops");
    }
}
