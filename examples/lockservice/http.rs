//! The lock service's client API over HTTP: each node takes proposals and
//! linearizable reads as JSON (`POST /v1/propose`, `POST /v1/read`), and
//! [`HttpNode`] is a `synod_lock::Service` that calls them, so a
//! `LockClient` in another process works as it does in process.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use synod_lock::{LockMachine, Query, QueryAnswer, Request, Response, Service};
use synod_node::{Client, Consistency, Error};

/// A node's answer on the wire: synod-node's outcomes that a client acts
/// on, and everything else as text.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply<T> {
    /// Done.
    Ok(T),
    /// Not the leader; the leader if known.
    NotLeader(Option<u64>),
    /// Lost to a leader change: retry.
    Lost,
    /// Unknown outcome: retry the same request.
    Unknown,
    /// Anything else.
    Failed(String),
}

fn reply<T>(r: Result<T, Error>) -> Json<Reply<T>> {
    Json(match r {
        Ok(v) => Reply::Ok(v),
        Err(Error::NotLeader { leader }) => Reply::NotLeader(leader),
        Err(Error::Lost) => Reply::Lost,
        Err(Error::Unknown) => Reply::Unknown,
        Err(e) => Reply::Failed(e.to_string()),
    })
}

/// The routes of one node.
pub fn router(client: Client<LockMachine>) -> Router {
    Router::new()
        .route("/v1/propose", post(propose))
        .route("/v1/read", post(read))
        .route("/v1/wait", post(wait))
        .layer(DefaultBodyLimit::max(256 << 10))
        .with_state(client)
}

async fn propose(
    State(client): State<Client<LockMachine>>,
    Json(request): Json<Request>,
) -> Json<Reply<Response>> {
    // Log time is the service's own: a client that could stamp it could
    // expire every session at will. Client id 0 is the stamper's.
    if request.client == 0 || matches!(request.command, synod_lock::Command::Clock { .. }) {
        return Json(Reply::Failed(
            "clock stamps come from the service, and client id 0 is its own".to_string(),
        ));
    }
    reply(client.propose(request.encode()).await)
}

async fn read(
    State(client): State<Client<LockMachine>>,
    Json(query): Json<Query>,
) -> Json<Reply<QueryAnswer>> {
    reply(client.read(query, Consistency::Linearizable).await)
}

/// A wait for a session's standing on a lock to change.
#[derive(Debug, Serialize, Deserialize)]
pub struct Wait {
    /// The lock.
    pub lock: String,
    /// The waiting session.
    pub session: u64,
    /// How long to wait at most (capped at 5 s).
    pub up_to_ms: u64,
}

/// Waits on this node: checks the local state every millisecond (cheap:
/// no quorum) until the session no longer waits or the time is up, then
/// answers with one linearizable read.
async fn wait(
    State(client): State<Client<LockMachine>>,
    Json(w): Json<Wait>,
) -> Json<Reply<QueryAnswer>> {
    let query = Query::Standing {
        lock: w.lock,
        session: w.session,
    };
    let until = std::time::Instant::now() + Duration::from_millis(w.up_to_ms.min(5_000));
    while std::time::Instant::now() < until {
        match client.read(query.clone(), Consistency::Stale).await {
            Ok(QueryAnswer::Standing(synod_lock::Standing::Waits { .. })) => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            _ => break,
        }
    }
    reply(client.read(query, Consistency::Linearizable).await)
}

/// One node of the service, reached over HTTP.
#[derive(Debug, Clone)]
pub struct HttpNode {
    base: String,
    http: reqwest::Client,
}

impl HttpNode {
    /// The node whose API listens at `addr` (`host:port`).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(addr: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            base: format!("http://{addr}"),
            http,
        })
    }

    async fn call<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let sent = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await;
        // A node that does not answer: the client tries the next one.
        let unreachable = |e: reqwest::Error| Error::Storage(format!("unreachable: {e}"));
        let reply: Reply<T> = sent
            .map_err(unreachable)?
            .json()
            .await
            .map_err(unreachable)?;
        match reply {
            Reply::Ok(v) => Ok(v),
            Reply::NotLeader(leader) => Err(Error::NotLeader { leader }),
            Reply::Lost => Err(Error::Lost),
            Reply::Unknown => Err(Error::Unknown),
            Reply::Failed(e) => Err(Error::Storage(e)),
        }
    }
}

impl Service for HttpNode {
    fn propose(&self, request: bytes::Bytes) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(async move {
            let request = Request::decode(&request).map_err(|e| Error::Storage(e.to_string()))?;
            self.call("/v1/propose", &request).await
        })
    }

    fn read(&self, query: Query) -> BoxFuture<'_, Result<QueryAnswer, Error>> {
        Box::pin(async move { self.call("/v1/read", &query).await })
    }

    fn wait_standing(
        &self,
        lock: String,
        session: u64,
        up_to: Duration,
    ) -> BoxFuture<'_, Result<QueryAnswer, Error>> {
        let up_to_ms = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX);
        let wait = Wait {
            lock,
            session,
            up_to_ms,
        };
        Box::pin(async move { self.call("/v1/wait", &wait).await })
    }
}
