//! How a [`LockClient`](crate::LockClient) reaches one node of the lock
//! service: in process through a synod-node `Client`, or over your own RPC
//! (the `lock_service` example speaks HTTP).

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use synod_node::{Client, Consistency, Error as NodeError};

use crate::command::{LockName, Response, SessionId};
use crate::machine::{LockMachine, Query, QueryAnswer};

/// One node of the lock service, as a client sees it.
///
/// Errors are synod-node's: `NotLeader { leader }` sends the client to the
/// leader; `Lost` and `Unknown` make it retry the same request (same
/// sequence number, so the machine applies it at most once); anything else
/// makes it try the next node.
pub trait Service: Send + Sync + 'static {
    /// Proposes an encoded [`Request`](crate::Request) and returns the
    /// machine's answer once it is applied.
    fn propose(&self, request: Bytes) -> BoxFuture<'_, Result<Response, NodeError>>;
    /// Answers `query` linearizably.
    fn read(&self, query: Query) -> BoxFuture<'_, Result<QueryAnswer, NodeError>>;

    /// Where `session` stands on `lock` ([`Query::Standing`]), read
    /// linearizably, once it no longer waits or `up_to` has passed: a
    /// service that can wait on the node's side saves the client its
    /// polling (and a grant reaches the waiter sooner). The default
    /// answers at once; the client then polls.
    fn wait_standing(
        &self,
        lock: LockName,
        session: SessionId,
        up_to: Duration,
    ) -> BoxFuture<'_, Result<QueryAnswer, NodeError>> {
        let _ = up_to;
        self.read(Query::Standing { lock, session })
    }
}

impl Service for Client<LockMachine> {
    fn propose(&self, request: Bytes) -> BoxFuture<'_, Result<Response, NodeError>> {
        Box::pin(Client::propose(self, request))
    }

    fn read(&self, query: Query) -> BoxFuture<'_, Result<QueryAnswer, NodeError>> {
        Box::pin(async move { Client::read(self, query, Consistency::Linearizable).await })
    }
}
