//! The transport's one error enum.

use synod_protocol::NodeId;

/// Why a connection was refused or closed. The node never stops for one:
/// the connection closes, the event is counted, and the peer reconnects.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A length prefix above `max_frame_bytes`.
    #[error("a frame of {bytes} bytes is over the limit of {limit}")]
    FrameTooLarge {
        /// The announced length.
        bytes: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The connection ended inside a frame.
    #[error("the connection ended inside a frame")]
    Truncated,
    /// A frame that does not decode as what it should be.
    #[error("undecodable frame: {0}")]
    Decode(String),
    /// The peer does not speak this protocol (wrong magic or version).
    #[error("not a synod-tcp peer: {0}")]
    NotSynod(&'static str),
    /// The peer belongs to another cluster.
    #[error("peer is in cluster {theirs:?}, this node in {ours:?}")]
    WrongCluster {
        /// The peer's cluster name.
        theirs: String,
        /// Ours.
        ours: String,
    },
    /// The peer is not in this node's peer list.
    #[error("node {0} is not a peer of this node")]
    UnknownPeer(NodeId),
    /// The peer wanted another node.
    #[error("the peer wanted node {wanted}, this is node {me}")]
    WrongNode {
        /// The node it asked for.
        wanted: NodeId,
        /// This node.
        me: NodeId,
    },
    /// A message whose sender is not the node the connection was opened
    /// by: forged, dropped with its connection.
    #[error("a message from node {claimed} on node {peer}'s connection")]
    ForgedSender {
        /// The sender the message names.
        claimed: NodeId,
        /// The node that opened the connection.
        peer: NodeId,
    },
    /// The peer refused this node's handshake.
    #[error("the peer refused the handshake: {0}")]
    Refused(String),
    /// The peer did not answer in time.
    #[error("timed out")]
    Timeout,
    /// The options are invalid.
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
}
