//! With the `metrics` feature, the node publishes its counters through the
//! facade to whatever recorder the application installed.

#![cfg(feature = "metrics")]

mod support;

use bytes::Bytes;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use support::{clients, cluster, leader, write};
use synod_node::NodeOptions;
use synod_node::memory::MemNetwork;

#[test]
fn counters_reach_the_installed_recorder() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder in this test binary");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let net = MemNetwork::new(51);
        let nodes = cluster(&net, NodeOptions::default());
        let cs = clients(&nodes);
        leader(&cs).await;
        for i in 0..10u32 {
            write(&cs, Bytes::from(format!("m{i}"))).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    });
    let values = snapshotter.snapshot().into_vec();
    let applied: Vec<f64> = values
        .iter()
        .filter(|(k, ..)| k.key().name() == "synod_node_applied_index")
        .filter_map(|(.., v)| match v {
            DebugValue::Gauge(g) => Some(g.into_inner()),
            _ => None,
        })
        .collect();
    assert_eq!(applied.len(), 3, "one gauge per node: {applied:?}");
    assert!(applied.iter().all(|&a| a >= 10.0), "{applied:?}");
    let syncs = values.iter().any(|(k, _, _, v)| {
        k.key().name() == "synod_node_syncs_total" && matches!(v, DebugValue::Counter(n) if *n > 0)
    });
    assert!(syncs, "no sync counter published");
    let histogram = values.iter().any(|(k, _, _, v)| {
        k.key().name() == "synod_node_sync_seconds"
            && matches!(v, DebugValue::Histogram(samples) if !samples.is_empty())
    });
    assert!(histogram, "no sync latency recorded");
}
