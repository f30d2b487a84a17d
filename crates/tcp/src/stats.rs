//! Counters the transport keeps, readable at any time.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters (shared with the transport's tasks).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames_sent: AtomicU64,
    pub(crate) frames_received: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_unknown_peer: AtomicU64,
    pub(crate) dropped_unsendable: AtomicU64,
    pub(crate) connects: AtomicU64,
    pub(crate) connect_failures: AtomicU64,
    pub(crate) handshakes_refused: AtomicU64,
    pub(crate) connections_closed_bad_frame: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A snapshot of the transport's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Messages written to peers.
    pub frames_sent: u64,
    /// Messages read from peers and handed to the node.
    pub frames_received: u64,
    /// Messages dropped because the peer's queue was full.
    pub dropped_queue_full: u64,
    /// Messages for a node not in the peer list.
    pub dropped_unknown_peer: u64,
    /// Messages that could not be encoded within `max_frame_bytes`, or
    /// were queued while their peer could not be reached.
    pub dropped_unsendable: u64,
    /// Outbound connections established (handshake accepted).
    pub connects: u64,
    /// Outbound dials or handshakes that failed.
    pub connect_failures: u64,
    /// Inbound handshakes refused (stranger, wrong cluster, wrong node,
    /// not synod).
    pub handshakes_refused: u64,
    /// Inbound connections closed for an oversized, truncated,
    /// undecodable or forged frame.
    pub connections_closed_bad_frame: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> TcpStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TcpStats {
            frames_sent: get(&self.frames_sent),
            frames_received: get(&self.frames_received),
            dropped_queue_full: get(&self.dropped_queue_full),
            dropped_unknown_peer: get(&self.dropped_unknown_peer),
            dropped_unsendable: get(&self.dropped_unsendable),
            connects: get(&self.connects),
            connect_failures: get(&self.connect_failures),
            handshakes_refused: get(&self.handshakes_refused),
            connections_closed_bad_frame: get(&self.connections_closed_bad_frame),
        }
    }
}
