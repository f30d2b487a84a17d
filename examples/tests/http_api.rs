//! The kv example's HTTP API on a one-node cluster: the happy paths, and
//! every malformed request answered with a JSON 4xx while the node keeps
//! serving.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use synod_examples::kvstore::http::{Limits, router};
use synod_examples::kvstore::node::{KvConfig, PeerAddr, start};

fn free() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    l.local_addr().expect("addr").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_bad_requests_with_json_4xx() {
    let dir = tempfile::tempdir().expect("tmp");
    let (raft, http) = (free(), free());
    let config = KvConfig {
        id: 1,
        peers: BTreeMap::from([(
            1,
            PeerAddr {
                raft,
                http: http.clone(),
            },
        )]),
        data_dir: dir.path().to_path_buf(),
        cluster: "t".into(),
        tick_ms: 5,
    };
    let replica = start(&config).await.expect("starts");
    let limits = Limits {
        max_key_bytes: 16,
        max_value_bytes: 100,
    };
    let app = router(
        replica.client.clone(),
        BTreeMap::from([(1, http.clone())]),
        limits,
    );
    let listener = tokio::net::TcpListener::bind(&http).await.expect("binds");
    tokio::spawn(async move { axum::serve(listener, app).await });
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
        c.put(url("/kv/a"))
            .json(&json!({"value": "x".repeat(1 << 20)})),
    ];
    for req in bad {
        let r = req.send().await.expect("sent");
        let code = r.status();
        assert!(code.is_client_error(), "{code}");
        let body: Value = r.json().await.expect("a JSON error");
        assert!(body["error"].is_string(), "{body}");
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
