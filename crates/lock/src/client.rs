//! The client library and the service's clock, over synod-node: a
//! [`LockClient`] talks to the nodes of one lock service (following
//! `NotLeader` hints, retrying a lost or unknown proposal with the same
//! sequence number, which the machine answers once), keeps its session's
//! conservative local deadline, and turns grants into [`Guard`]s;
//! [`stamp_clock`] is what each node runs on a timer so the leader stamps
//! log time.
//!
//! Runtime-agnostic: waiting (between retries, and while queued) goes
//! through the sleep function the caller passes in; the only clock read
//! is `std::time::Instant`, for the client-side deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use synod_node::{Client, Consistency, Error as NodeError};
use synod_protocol::{NodeId, Role};

use crate::command::{
    ClientId, Command, LockName, Mode, Request, Response, SessionId, Token, Write,
};
use crate::error::LockError;
use crate::machine::{LockMachine, Query, QueryAnswer};

/// A sleep on the caller's runtime (`|d| Box::pin(tokio::time::sleep(d))`).
pub type Sleep = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Why a client call failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The machine refused the command.
    #[error("refused: {0}")]
    Refused(LockError),
    /// The session is gone (expired, or its local deadline passed): every
    /// lock it held may already belong to someone else.
    #[error("ownership lost: the session ended")]
    OwnershipLost,
    /// No session is open on this client.
    #[error("no session open")]
    NoSession,
    /// No node took the command within the attempts allowed.
    #[error("the service is unavailable: {0}")]
    Unavailable(String),
}

/// Where a session stands, as far as this client can tell from its own
/// clock (conservatively: the deadline counts from when the last
/// successful keep-alive was *sent*, before the service counted it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// More than half its time-to-live is left.
    Connected,
    /// Less than half is left: keep alive now, and stop relying on held
    /// locks soon.
    Suspended,
    /// Its time may have run out: nothing it held can be relied on.
    Lost,
}

/// A held lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The lock.
    pub lock: LockName,
    /// How it is held.
    pub mode: Mode,
    /// The fencing token: pass it with every write to what the lock
    /// guards (see `Fence`).
    pub token: Token,
}

/// What an acquire did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// Held now.
    Granted(Guard),
    /// Queued behind `ahead` waiters ([`LockClient::wait_for`] waits).
    Queued {
        /// Waiters before this one.
        ahead: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct OpenSession {
    id: SessionId,
    ttl: Duration,
    /// The service cannot have expired it before this instant.
    deadline: Instant,
    lost: bool,
}

/// A client of one lock service (see the module docs).
pub struct LockClient {
    nodes: Vec<(NodeId, Client<LockMachine>)>,
    at: usize,
    id: ClientId,
    seq: u64,
    session: Option<OpenSession>,
    sleep: Sleep,
    /// Proposals tried (with backoff) before [`ClientError::Unavailable`].
    pub max_attempts: u32,
    /// How long to wait between polls while queued, and the first retry
    /// backoff.
    pub poll: Duration,
    /// Subtracted from every local deadline: covers the service's clocks
    /// running faster than this client's (drift) and a stamp proposed a
    /// little before a keep-alive arrived. Default: 2% of the
    /// time-to-live plus 5 ms.
    pub margin: fn(Duration) -> Duration,
}

impl std::fmt::Debug for LockClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClient")
            .field("id", &self.id)
            .field("seq", &self.seq)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl LockClient {
    /// A client `id` (pick it at random: it names the client's
    /// exactly-once entry) of the service run by `nodes`.
    #[must_use]
    pub fn new(nodes: Vec<(NodeId, Client<LockMachine>)>, id: ClientId, sleep: Sleep) -> Self {
        Self {
            nodes,
            at: 0,
            id,
            seq: 0,
            session: None,
            sleep,
            max_attempts: 200,
            poll: Duration::from_millis(5),
            margin: |ttl| ttl / 50 + Duration::from_millis(5),
        }
    }

    /// Proposes `command` once (retries keep its sequence number, so the
    /// machine applies it at most once).
    async fn submit(&mut self, command: Command) -> Result<Response, ClientError> {
        self.seq += 1;
        let bytes = Request {
            client: self.id,
            seq: self.seq,
            command,
        }
        .encode();
        let mut last = String::new();
        for attempt in 0..self.max_attempts {
            let (_, node) = &self.nodes[self.at % self.nodes.len()];
            match node.propose(bytes.clone()).await {
                Ok(response) => return Ok(response),
                Err(NodeError::NotLeader { leader: Some(l) }) => self.go_to(l),
                Err(e) => {
                    last = e.to_string();
                    if !matches!(e, NodeError::Lost | NodeError::Unknown) {
                        self.at += 1;
                    }
                }
            }
            let backoff = self.poll * (attempt + 1).min(10);
            (self.sleep)(backoff).await;
        }
        Err(ClientError::Unavailable(last))
    }

    fn session(&self) -> Result<OpenSession, ClientError> {
        let s = self.session.ok_or(ClientError::NoSession)?;
        if s.lost || Instant::now() >= s.deadline {
            return Err(ClientError::OwnershipLost);
        }
        Ok(s)
    }

    fn refused(&mut self, e: LockError) -> ClientError {
        if matches!(e, LockError::NoSession(_))
            && let Some(s) = self.session.as_mut()
        {
            s.lost = true;
            return ClientError::OwnershipLost;
        }
        ClientError::Refused(e)
    }

    /// Opens this client's session with time-to-live `ttl` (whole
    /// milliseconds).
    ///
    /// # Errors
    /// [`ClientError::Refused`] (a time-to-live out of range),
    /// [`ClientError::Unavailable`].
    pub async fn open_session(&mut self, ttl: Duration) -> Result<SessionId, ClientError> {
        let sent = Instant::now();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        match self.submit(Command::OpenSession { ttl_ms }).await? {
            Response::Opened { session, .. } => {
                self.session = Some(OpenSession {
                    id: session,
                    ttl,
                    deadline: sent + ttl.saturating_sub((self.margin)(ttl)),
                    lost: false,
                });
                Ok(session)
            }
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Extends the session by its time-to-live (from when this call was
    /// sent, for the local deadline).
    ///
    /// # Errors
    /// [`ClientError::OwnershipLost`] when the session already ended.
    pub async fn keep_alive(&mut self) -> Result<(), ClientError> {
        let s = self.session()?;
        let sent = Instant::now();
        match self.submit(Command::KeepAlive { session: s.id }).await? {
            Response::Ok => {
                if let Some(open) = self.session.as_mut() {
                    let lease = s.ttl.saturating_sub((self.margin)(s.ttl));
                    open.deadline = open.deadline.max(sent + lease);
                }
                Ok(())
            }
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Where the session stands by this client's clock.
    #[must_use]
    pub fn session_state(&self) -> SessionState {
        let Some(s) = self.session else {
            return SessionState::Lost;
        };
        let now = Instant::now();
        if s.lost || now >= s.deadline {
            SessionState::Lost
        } else if s.deadline - now < s.ttl / 2 {
            SessionState::Suspended
        } else {
            SessionState::Connected
        }
    }

    /// Asks for `lock` in `mode`, waiting in its queue at most `wait`
    /// (`Some(ZERO)`: a try-lock).
    ///
    /// # Errors
    /// [`ClientError::OwnershipLost`], [`ClientError::Refused`] (busy,
    /// already held, wrong mode, a limit), [`ClientError::Unavailable`].
    pub async fn acquire(
        &mut self,
        lock: &str,
        mode: Mode,
        wait: Option<Duration>,
    ) -> Result<Acquired, ClientError> {
        let s = self.session()?;
        let wait_ms = wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX));
        let command = Command::Acquire {
            session: s.id,
            lock: lock.to_string(),
            mode,
            wait_ms,
        };
        match self.submit(command).await? {
            Response::Granted { token } => Ok(Acquired::Granted(Guard {
                lock: lock.to_string(),
                mode,
                token,
            })),
            Response::Queued { ahead } => Ok(Acquired::Queued { ahead }),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Waits (polling with linearizable reads, keeping the session alive)
    /// until this session holds `lock`.
    ///
    /// # Errors
    /// [`ClientError::OwnershipLost`] when the session ends first;
    /// [`ClientError::Refused`] with `NotWaiting` when it left the queue
    /// (its deadline passed); [`ClientError::Unavailable`].
    pub async fn wait_for(&mut self, lock: &str) -> Result<Guard, ClientError> {
        loop {
            let s = self.session()?;
            if let Some((mode, token)) = self.holding(lock, s.id).await? {
                return Ok(Guard {
                    lock: lock.to_string(),
                    mode,
                    token,
                });
            }
            if self.session_state() == SessionState::Suspended {
                self.keep_alive().await?;
            }
            (self.sleep)(self.poll).await;
        }
    }

    /// Acquires `lock` in `mode`, waiting as long as it takes.
    ///
    /// # Errors
    /// As [`LockClient::acquire`] and [`LockClient::wait_for`].
    pub async fn lock(&mut self, lock: &str, mode: Mode) -> Result<Guard, ClientError> {
        match self.acquire(lock, mode, None).await? {
            Acquired::Granted(g) => Ok(g),
            Acquired::Queued { .. } => self.wait_for(lock).await,
        }
    }

    /// Sends later calls to node `leader` (a `NotLeader` hint).
    fn go_to(&mut self, leader: NodeId) {
        self.at = self
            .nodes
            .iter()
            .position(|(id, _)| *id == leader)
            .unwrap_or(self.at + 1);
    }

    /// Answers `query` linearizably, through whichever node leads.
    async fn read(&mut self, query: Query) -> Result<QueryAnswer, ClientError> {
        for _ in 0..self.max_attempts {
            let (_, node) = &self.nodes[self.at % self.nodes.len()];
            match node.read(query.clone(), Consistency::Linearizable).await {
                Ok(answer) => return Ok(answer),
                Err(NodeError::NotLeader { leader: Some(l) }) => self.go_to(l),
                Err(_) => self.at += 1,
            }
            (self.sleep)(self.poll).await;
        }
        Err(ClientError::Unavailable("no read answered".to_string()))
    }

    /// This session's hold on `lock`, read linearizably from the leader.
    async fn holding(
        &mut self,
        lock: &str,
        session: SessionId,
    ) -> Result<Option<(Mode, Token)>, ClientError> {
        match self.read(Query::Holders(lock.to_string())).await? {
            QueryAnswer::Holders(h) => Ok(h
                .into_iter()
                .find(|&(s, _, _)| s == session)
                .map(|(_, m, t)| (m, t))),
            _ => Ok(None),
        }
    }

    /// Releases a held lock.
    ///
    /// # Errors
    /// [`ClientError::Refused`] with `NotHolder` when it was no longer
    /// held with that token; [`ClientError::OwnershipLost`].
    pub async fn unlock(&mut self, guard: Guard) -> Result<(), ClientError> {
        let s = self.session()?;
        let command = Command::Release {
            session: s.id,
            lock: guard.lock,
            token: guard.token,
        };
        match self.submit(command).await? {
            Response::Ok => Ok(()),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// An all-or-nothing write to the versioned map; the keys' new version.
    ///
    /// # Errors
    /// [`ClientError::Refused`] when a guard (a stale token) or a version
    /// check fails.
    pub async fn write(&mut self, write: Write) -> Result<u64, ClientError> {
        match self.submit(Command::Write(write)).await? {
            Response::Written { version } => Ok(version),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// A key's value and version, read linearizably.
    ///
    /// # Errors
    /// [`ClientError::Unavailable`].
    pub async fn get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u64)>, ClientError> {
        match self.read(Query::Get(key.to_string())).await? {
            QueryAnswer::Value(v) => Ok(v),
            _ => Ok(None),
        }
    }

    /// Events logged after index `after` (at most `max`), and whether
    /// some were dropped before this client read them (then resynchronise
    /// from [`LockClient::get`] and the holders).
    ///
    /// # Errors
    /// [`ClientError::Unavailable`].
    pub async fn events(
        &mut self,
        after: synod_protocol::Index,
        max: usize,
    ) -> Result<(Vec<(synod_protocol::Index, crate::command::Event)>, bool), ClientError> {
        match self.read(Query::Events { after, max }).await? {
            QueryAnswer::Events { events, missed } => Ok((events, missed)),
            _ => Ok((Vec::new(), false)),
        }
    }
}

/// Stamps log time through `node` if it leads: call it on a timer on every
/// node of the service (every few milliseconds; sessions expire only as
/// stamps arrive). `clock` reads the node's clock in milliseconds (a
/// monotonic one); it is read as late as possible, right before the stamp
/// is proposed, because a keep-alive counts from the first stamp after it
/// and the stamp's time must not predate the keep-alive's arrival by more
/// than the client's margin ([`LockClient::margin`]). Returns whether it
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
