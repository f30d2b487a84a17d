//! The transport's configuration, as named limits.

use std::collections::BTreeMap;
use std::time::Duration;

use synod_protocol::NodeId;

use crate::error::Error;

/// Who this node is, whom it talks to, and the limits it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpOptions {
    /// The cluster's name: a node configured for another cluster is
    /// refused at the handshake.
    pub cluster: String,
    /// This node.
    pub id: NodeId,
    /// Every peer's address ("host:port"); this node's own entry, if
    /// present, is ignored.
    pub peers: BTreeMap<NodeId, String>,
    /// Messages queued per peer; past it `send` drops (and counts).
    pub queue_capacity: usize,
    /// The largest frame read or written; larger announced lengths close
    /// the connection before anything is allocated.
    pub max_frame_bytes: u32,
    /// First wait before redialing a peer; doubles per failure.
    pub backoff_min: Duration,
    /// Longest wait before redialing.
    pub backoff_max: Duration,
    /// Time allowed for connecting and the handshake.
    pub handshake_timeout: Duration,
    /// Time allowed for one batch of frames to be written; past it the
    /// connection is presumed stalled and redialed.
    pub write_timeout: Duration,
    /// An inbound connection silent this long is closed (heartbeats keep
    /// live ones busy).
    pub idle_timeout: Duration,
}

impl TcpOptions {
    /// Options for node `id` of `cluster` with these peers, default limits.
    #[must_use]
    pub fn new(cluster: impl Into<String>, id: NodeId, peers: BTreeMap<NodeId, String>) -> Self {
        Self {
            cluster: cluster.into(),
            id,
            peers,
            queue_capacity: 4096,
            max_frame_bytes: 64 << 20,
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
        }
    }

    /// Checks the limits.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.queue_capacity == 0 {
            return Err(Error::InvalidOptions("queue_capacity must be at least 1"));
        }
        if self.max_frame_bytes < 1024 {
            return Err(Error::InvalidOptions(
                "max_frame_bytes must be at least 1024",
            ));
        }
        if self.backoff_min.is_zero() || self.backoff_min > self.backoff_max {
            return Err(Error::InvalidOptions(
                "backoff_min must be positive and at most backoff_max",
            ));
        }
        if self.cluster.len() > 255 {
            return Err(Error::InvalidOptions("cluster names are at most 255 bytes"));
        }
        Ok(())
    }
}
