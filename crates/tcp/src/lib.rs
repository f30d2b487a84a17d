//! # synod-tcp
//!
//! A TCP [`Transport`](synod_node::Transport) for synod-node, on tokio.
//!
//! - **Frames**: a 4-byte little-endian length, then postcard. Lengths
//!   above `max_frame_bytes` close the connection before anything is
//!   allocated; truncated or undecodable frames close it too. The node
//!   never stops for a peer's bytes.
//! - **Handshake**: the dialer names the cluster, itself and the node it
//!   wants; the listener refuses strangers, other clusters and
//!   misdirected dials, with the reason. Every message on a connection
//!   must come from the node that opened it.
//! - **Queues**: one bounded queue per peer; `send` never blocks and drops
//!   (counting) when a queue is full. Reconnects back off exponentially.
//!
//! The key design decision: the code is generic over the socket layer
//! ([`Net`]), so the very same transport runs over tokio's TCP
//! ([`TokioNet`]) and, with the `turmoil` feature, over turmoil's
//! simulated network (`TurmoilNet`): a service built on it can be tested
//! under turmoil's partitions and crashes unchanged.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod dial;
mod error;
pub mod frame;
mod listen;
mod net;
mod options;
mod stats;
mod transport;

pub use error::Error;
#[cfg(feature = "turmoil")]
pub use net::TurmoilNet;
pub use net::{Net, TokioNet};
pub use options::TcpOptions;
pub use stats::TcpStats;
pub use transport::{Acceptor, Listening, StatsHandle, TcpTransport};

/// Whether `hello` may open a connection to the node with `options`: the
/// listener's check, public so a custom acceptor can apply it.
///
/// # Errors
/// Why not: [`Error::NotSynod`], [`Error::WrongCluster`],
/// [`Error::WrongNode`], [`Error::UnknownPeer`].
pub fn check_hello(hello: &frame::Hello, options: &TcpOptions) -> Result<(), Error> {
    listen::check_hello(hello, options)
}
