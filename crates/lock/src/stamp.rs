//! The clock stamper each node of the lock service runs.

use synod_node::{Client, Error as NodeError};
use synod_protocol::Role;

use crate::command::{Command, Request};
use crate::machine::LockMachine;

/// Stamps log time through `node` if it leads: call it on a timer on every
/// node of the service (every few milliseconds; sessions expire only as
/// stamps arrive). `clock` reads the node's clock in milliseconds (a
/// monotonic one); it is read as late as possible, right before the stamp
/// is proposed, because a keep-alive counts from the first stamp after it
/// and the stamp's time must not predate the keep-alive's arrival by more
/// than the client's margin ([`ClientOptions::margin`](crate::ClientOptions::margin)). Returns whether it
/// stamped.
///
/// # Errors
/// The node's error (a follower answers `Ok(false)`).
pub async fn stamp_clock(
    node: &Client<LockMachine>,
    clock: impl Fn() -> u64,
) -> Result<bool, NodeError> {
    let status = node.status().await?;
    if status.protocol.role != Role::Leader {
        return Ok(false);
    }
    let command = Command::Clock {
        term: status.protocol.term,
        now_ms: clock(),
    };
    let stamp = Request {
        client: 0,
        seq: 0,
        command,
    };
    node.propose(stamp.encode()).await.map(|_| true)
}
