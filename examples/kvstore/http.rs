//! The HTTP JSON API of a key-value replica (axum).
//!
//! `PUT /kv/{key}` `{"value": ".."}`, `GET /kv/{key}?consistency=
//! linearizable|lease|stale`, `DELETE /kv/{key}`, `POST /kv/{key}/cas`
//! `{"expect": ..|null, "new": ..|null}`, `GET /status`, and membership:
//! `PUT /members/{id}` adds node `id` (one of the `--peer` nodes) as a
//! voter, `DELETE /members/{id}` removes it; both answer `{"index": N}`
//! once the change is applied on the leader. A follower answers writes
//! and membership changes with `307` to the leader's address. Every error is JSON
//! (`{"error": ".."}`) with a 4xx for the caller's mistakes.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use synod_node::{Client, Consistency, Error};

use super::store::{Command, KvStore};

/// Limits on what a request may carry, and what a follower does with
/// writes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of a key.
    pub max_key_bytes: usize,
    /// Bytes of a value.
    pub max_value_bytes: usize,
    /// A follower forwards writes to the leader and relays its answer
    /// (`true`), or answers `307` with the leader's address (`false`).
    pub forward_writes: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_key_bytes: 256,
            max_value_bytes: 64 * 1024,
            forward_writes: false,
        }
    }
}

/// Marks a write one node forwarded to another: it is never forwarded
/// again (no loops while leadership moves).
const FORWARDED: &str = "x-synod-forwarded";

#[derive(Clone)]
struct App {
    client: Client<KvStore>,
    /// Every node's HTTP address, for redirects.
    http: BTreeMap<u64, String>,
    limits: Limits,
    /// For forwarding writes to the leader.
    peers: reqwest::Client,
}

/// The router for one replica.
pub fn router(client: Client<KvStore>, http: BTreeMap<u64, String>, limits: Limits) -> Router {
    let app = App {
        client,
        http,
        limits,
        peers: reqwest::Client::new(),
    };
    Router::new()
        .route("/kv/{key}", get(read).put(put).delete(delete))
        .route("/kv/{key}/cas", post(cas))
        .route("/internal/write", post(forwarded))
        .route("/status", get(status))
        .route(
            "/members/{id}",
            axum::routing::put(add_member).delete(remove_member),
        )
        .fallback(|| async { failure(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(limits.max_value_bytes + 4096))
        .with_state(app)
}

/// A request the API refuses before it reaches the node.
struct Invalid(StatusCode, String);

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        failure(self.0, self.1)
    }
}

fn failure(code: StatusCode, message: impl Into<String>) -> Response {
    #[derive(Serialize)]
    struct Body {
        error: String,
    }
    (
        code,
        Json(Body {
            error: message.into(),
        }),
    )
        .into_response()
}

impl App {
    fn check_key(&self, key: &str) -> Result<(), Invalid> {
        if key.is_empty() || key.len() > self.limits.max_key_bytes {
            return Err(Invalid(
                StatusCode::BAD_REQUEST,
                format!("keys are 1 to {} bytes", self.limits.max_key_bytes),
            ));
        }
        Ok(())
    }

    fn check_value(&self, value: Option<&String>) -> Result<(), Invalid> {
        if value.is_some_and(|v| v.len() > self.limits.max_value_bytes) {
            return Err(Invalid(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("values are at most {} bytes", self.limits.max_value_bytes),
            ));
        }
        Ok(())
    }

    /// The answer for a call the node refused.
    fn refused(&self, e: &Error, uri: &Uri) -> Response {
        match e {
            Error::NotLeader {
                leader: Some(leader),
            } => match self.http.get(leader) {
                Some(addr) => {
                    let path = uri.path_and_query().map_or("/", |p| p.as_str());
                    let location = format!("http://{addr}{path}");
                    let mut r = failure(
                        StatusCode::TEMPORARY_REDIRECT,
                        format!("node {leader} leads"),
                    );
                    if let Ok(v) = HeaderValue::from_str(&location) {
                        r.headers_mut().insert(header::LOCATION, v);
                    }
                    r
                }
                None => failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            },
            Error::NotLeader { leader: None } | Error::Lost | Error::Stopped => {
                failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            Error::Timeout | Error::Unknown => failure(StatusCode::GATEWAY_TIMEOUT, e.to_string()),
            Error::Refused(synod_protocol::Refusal::TooLarge { .. }) => {
                failure(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            Error::Refused(_) => failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            _ => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }

    async fn write(&self, command: Command, uri: &Uri) -> Response {
        match self.client.propose(command.encode()).await {
            Ok(applied) => Json(applied).into_response(),
            Err(Error::NotLeader {
                leader: Some(leader),
            }) if self.limits.forward_writes => self.forward(leader, &command).await,
            Err(e) => self.refused(&e, uri),
        }
    }

    /// Sends `command` to the leader and relays its answer.
    async fn forward(&self, leader: u64, command: &Command) -> Response {
        let Some(addr) = self.http.get(&leader) else {
            return failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "the leader's address is unknown",
            );
        };
        let sent = self
            .peers
            .post(format!("http://{addr}/internal/write"))
            .header(FORWARDED, "1")
            .body(command.encode())
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            // Nothing listened: the command never reached the leader, so
            // it did not take effect (503, a definite refusal).
            Err(e) if e.is_connect() => {
                return failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("node {leader} is not reachable"),
                );
            }
            // It may have arrived: its outcome is unknown (502).
            Err(_) => {
                return failure(
                    StatusCode::BAD_GATEWAY,
                    format!("node {leader} did not answer"),
                );
            }
        };
        let code = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        match r.bytes().await {
            Ok(body) => (code, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(_) => failure(StatusCode::BAD_GATEWAY, format!("node {leader} broke off")),
        }
    }
}

/// A write forwarded by a follower: the command as log bytes. Checked like
/// any write; never forwarded again.
async fn forwarded(State(app): State<App>, uri: Uri, body: axum::body::Bytes) -> Response {
    let Ok(command) = postcard::from_bytes::<Command>(&body) else {
        return failure(StatusCode::BAD_REQUEST, "not a command");
    };
    let (key, values) = match &command {
        Command::Put { key, value } => (key, vec![Some(value)]),
        Command::Delete { key } => (key, vec![]),
        Command::Cas { key, expect, new } => (key, vec![expect.as_ref(), new.as_ref()]),
    };
    let checked = values
        .into_iter()
        .try_for_each(|v| app.check_value(v))
        .and(app.check_key(key));
    if let Err(r) = checked {
        return r.into_response();
    }
    match app.client.propose(command.encode()).await {
        Ok(applied) => Json(applied).into_response(),
        // Not the leader any more: the follower tells its caller to retry.
        Err(Error::NotLeader { .. }) => {
            failure(StatusCode::SERVICE_UNAVAILABLE, "leadership moved; retry")
        }
        Err(e) => app.refused(&e, &uri),
    }
}

#[derive(Deserialize)]
struct PutBody {
    value: String,
}

async fn put(
    State(app): State<App>,
    Path(key): Path<String>,
    uri: Uri,
    body: Result<Json<PutBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return failure(e.status(), e.body_text()),
    };
    if let Err(r) = app.check_key(&key).and(app.check_value(Some(&body.value))) {
        return r.into_response();
    }
    app.write(
        Command::Put {
            key,
            value: body.value,
        },
        &uri,
    )
    .await
}

async fn delete(State(app): State<App>, Path(key): Path<String>, uri: Uri) -> Response {
    if let Err(r) = app.check_key(&key) {
        return r.into_response();
    }
    app.write(Command::Delete { key }, &uri).await
}

#[derive(Deserialize)]
struct CasBody {
    expect: Option<String>,
    new: Option<String>,
}

async fn cas(
    State(app): State<App>,
    Path(key): Path<String>,
    uri: Uri,
    body: Result<Json<CasBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return failure(e.status(), e.body_text()),
    };
    if let Err(r) = app
        .check_key(&key)
        .and(app.check_value(body.expect.as_ref()))
        .and(app.check_value(body.new.as_ref()))
    {
        return r.into_response();
    }
    app.write(
        Command::Cas {
            key,
            expect: body.expect,
            new: body.new,
        },
        &uri,
    )
    .await
}

#[derive(Deserialize)]
struct ReadParams {
    consistency: Option<String>,
}

#[derive(Serialize)]
struct ReadBody {
    key: String,
    value: String,
}

async fn read(
    State(app): State<App>,
    Path(key): Path<String>,
    uri: Uri,
    params: Result<Query<ReadParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return failure(StatusCode::BAD_REQUEST, "bad query string");
    };
    let consistency = match params.consistency.as_deref() {
        None | Some("linearizable") => Consistency::Linearizable,
        Some("lease") => Consistency::Lease,
        Some("stale") => Consistency::Stale,
        Some(other) => {
            return failure(
                StatusCode::BAD_REQUEST,
                format!("consistency is linearizable, lease or stale, not {other:?}"),
            );
        }
    };
    if let Err(r) = app.check_key(&key) {
        return r.into_response();
    }
    match app.client.read(key.clone(), consistency).await {
        Ok(Some(value)) => Json(ReadBody { key, value }).into_response(),
        Ok(None) => failure(StatusCode::NOT_FOUND, format!("no key {key:?}")),
        Err(e) => app.refused(&e, &uri),
    }
}

/// `PUT /members/{id}`: node `id` becomes a voter.
async fn add_member(State(app): State<App>, Path(id): Path<u64>, uri: Uri) -> Response {
    app.change_member(id, synod_protocol::ConfChangeKind::AddVoter, &uri)
        .await
}

/// `DELETE /members/{id}`: node `id` leaves the configuration.
async fn remove_member(State(app): State<App>, Path(id): Path<u64>, uri: Uri) -> Response {
    app.change_member(id, synod_protocol::ConfChangeKind::Remove, &uri)
        .await
}

impl App {
    /// One single-node membership change, on the leader.
    async fn change_member(
        &self,
        id: u64,
        kind: synod_protocol::ConfChangeKind,
        uri: &Uri,
    ) -> Response {
        #[derive(Serialize)]
        struct Changed {
            index: u64,
        }
        // The transport knows only the `--peer` nodes' addresses: a node
        // outside them could be added but never reached.
        if !self.http.contains_key(&id) {
            return failure(
                StatusCode::NOT_FOUND,
                format!("node {id} is not one of the --peer nodes"),
            );
        }
        let change = synod_protocol::ConfChange {
            changes: vec![synod_protocol::ConfChangeSingle { kind, node: id }],
        };
        match self.client.change_membership(change).await {
            Ok(index) => Json(Changed { index }).into_response(),
            Err(e) => self.refused(&e, uri),
        }
    }
}

#[derive(Serialize)]
struct StatusBody {
    id: u64,
    term: u64,
    leader: Option<u64>,
    role: String,
    committed: u64,
    applied: u64,
    last_index: u64,
    proposals_in_flight: usize,
    leader_changes: u64,
    syncs: u64,
    snapshots_taken: u64,
}

async fn status(State(app): State<App>) -> Response {
    match app.client.status().await {
        Ok(s) => Json(StatusBody {
            id: s.protocol.id,
            term: s.protocol.term,
            leader: s.protocol.leader,
            role: format!("{:?}", s.protocol.role).to_lowercase(),
            committed: s.protocol.committed,
            applied: s.protocol.applied,
            last_index: s.protocol.last_index,
            proposals_in_flight: s.proposals_in_flight,
            leader_changes: s.leader_changes,
            syncs: s.syncs,
            snapshots_taken: s.snapshots_taken,
        })
        .into_response(),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}
