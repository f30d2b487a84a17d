//! The load generator behind `kv_bench`: it measures a live endpoint
//! without errors, and a dead one as errors (never a panic or a hang).

use std::time::{Duration, Instant};

use synod_examples::kvstore::http::Limits;
use synod_examples::kvstore::single_node;
use synod_examples::load::{Endpoint, Kind, LoadArgs, drive, preload};

fn free() -> String {
    synod_examples::free_loopback_addr().expect("a port")
}

fn short() -> LoadArgs {
    LoadArgs {
        seconds: 1,
        warmup: 0,
        keys: 20,
        value_bytes: 64,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_endpoint_is_measured_without_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_replica, http) = single_node(dir.path(), Limits::default())
        .await
        .expect("starts");
    let ep = Endpoint::new(Kind::Synod, &format!("http://{http}"), 4).expect("client");
    // The single node elects itself; then every key is written once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while preload(&ep, &short()).await.is_err() {
        assert!(Instant::now() < deadline, "the node never took writes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for writes in [100, 50, 0] {
        let o = drive(&ep, 4, writes, &short()).await;
        assert_eq!(o.errors, 0, "{o:?}");
        assert!(o.ops_per_sec > 10.0, "{o:?}");
        assert!(
            o.p50_ms > 0.0 && o.p50_ms <= o.p99_ms && o.p99_ms <= o.p999_ms,
            "{o:?}"
        );
        assert_eq!((o.clients, o.writes_percent), (4, writes));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_counts_errors_and_ends_on_time() {
    let ep = Endpoint::new(Kind::Etcd, &format!("http://{}", free()), 2).expect("client");
    let started = Instant::now();
    let o = drive(&ep, 2, 100, &short()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(o.ops_per_sec, 0.0, "{o:?}");
    assert!(o.errors > 0, "{o:?}");
    assert!(preload(&ep, &short()).await.is_err());
}
