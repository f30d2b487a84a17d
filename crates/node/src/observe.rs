//! What the driver reports outside itself: `tracing` events for the
//! transitions that matter and `metrics` facade counters, each behind its
//! feature. The library emits; the application chooses the subscriber and
//! the exporter.

#[cfg(feature = "metrics")]
use crate::status::NodeStatus;

/// The known leader changed.
pub(crate) fn leader_changed(_id: u64, _term: u64, _leader: Option<u64>) {
    #[cfg(feature = "tracing")]
    tracing::info!(node = _id, term = _term, leader = ?_leader, "leader changed");
}

/// A snapshot was taken (and the log compacted) or restored.
pub(crate) fn snapshot(_id: u64, _index: u64, _restored: bool) {
    #[cfg(feature = "tracing")]
    tracing::info!(node = _id, index = _index, restored = _restored, "snapshot");
}

/// The node stops, with the reason.
pub(crate) fn stopped(_id: u64, _why: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(node = _id, why = _why, "node stopped");
}

/// A write with a sync took `took` (the `synod_node_sync_seconds`
/// histogram).
pub(crate) fn synced(_id: u64, _took: std::time::Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("synod_node_sync_seconds", "node" => _id.to_string())
        .record(_took.as_secs_f64());
}

/// Publishes the counters through the `metrics` facade.
#[cfg(feature = "metrics")]
pub(crate) fn publish(s: &NodeStatus) {
    let node = s.protocol.id.to_string();
    let labels = [("node", node)];
    metrics::gauge!("synod_node_term", &labels).set(s.protocol.term as f64);
    metrics::gauge!("synod_node_commit_index", &labels).set(s.protocol.committed as f64);
    metrics::gauge!("synod_node_applied_index", &labels).set(s.protocol.applied as f64);
    metrics::gauge!("synod_node_proposals_in_flight", &labels).set(s.proposals_in_flight as f64);
    metrics::gauge!("synod_node_reads_in_flight", &labels).set(s.reads_in_flight as f64);
    metrics::counter!("synod_node_writes_total", &labels).absolute(s.writes);
    metrics::counter!("synod_node_syncs_total", &labels).absolute(s.syncs);
    metrics::counter!("synod_node_leader_changes_total", &labels).absolute(s.leader_changes);
    metrics::counter!("synod_node_snapshots_taken_total", &labels).absolute(s.snapshots_taken);
    metrics::counter!("synod_node_messages_refused_total", &labels).absolute(s.messages_refused);
    metrics::counter!("synod_node_messages_dropped_total", &labels).absolute(s.messages_dropped);
}
