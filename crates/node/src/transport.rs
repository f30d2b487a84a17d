//! How messages leave a replica: the trait a user implements over their
//! own RPC (or takes ours).

/// Sends a protocol's messages to peers.
///
/// `send` must not block and must not wait for the peer: queue the
/// message (a bounded queue per peer, dropping when full) or drop it. The
/// protocols retransmit what matters (appends are re-sent, heartbeats
/// recur, elections retry), so a lost message costs time, never safety.
/// Messages arriving from peers are handed to the node with
/// [`Inbox::deliver`](crate::Inbox::deliver).
pub trait Transport<M>: Send + 'static {
    /// Sends `message` to peer `to`, or drops it.
    fn send(&self, to: synod_protocol::NodeId, message: M);
}
