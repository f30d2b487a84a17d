//! The client library over synod-node: a [`LockClient`] talks to the
//! nodes of one lock service (following `NotLeader` hints, retrying a lost
//! or unknown proposal with the same sequence number, which the machine
//! answers once), keeps its session's conservative local deadline, and
//! turns grants into [`Guard`]s that release on drop.
//!
//! Runtime-agnostic: waiting goes through the sleep function the caller
//! passes in, and the keep-alive loop is a future the caller spawns
//! ([`LockClient::background`]); the only clock read is
//! `std::time::Instant`, for the client-side deadline.
//!
//! One client sends one command at a time (an async mutex orders them):
//! the machine's exactly-once table keeps only a client's latest sequence
//! number, so a keep-alive overtaking an acquire would make the acquire
//! look stale.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use synod_node::{Client, Error as NodeError};
use synod_protocol::NodeId;

use crate::command::{ClientId, Command, Event, Mode, Request, Response, SessionId, Write};
use crate::error::LockError;
use crate::guard::{Guard, Release};
use crate::machine::{LockMachine, Query, QueryAnswer, Standing};
use crate::service::Service;

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
/// successful keep-alive was *sent*, before the service counted it, less
/// [`ClientOptions::margin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// More than half its time-to-live is left.
    Connected,
    /// Less than half is left: the keep-alives are not getting through;
    /// stop starting work that relies on held locks.
    Suspended,
    /// Its time may have run out: nothing it held can be relied on.
    Lost,
}

/// What an acquire did.
#[derive(Debug)]
pub enum Acquired {
    /// Held now.
    Granted(Guard),
    /// Queued behind `ahead` waiters ([`LockClient::wait_for`] waits).
    Queued {
        /// Waiters before this one.
        ahead: u64,
    },
}

/// How a [`LockClient`] retries, polls and bounds its deadlines.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// Proposals tried (with backoff) before [`ClientError::Unavailable`].
    pub max_attempts: u32,
    /// How long to wait between polls while queued, and the first retry
    /// backoff.
    pub poll: Duration,
    /// Subtracted from every local deadline, given the time-to-live:
    /// covers the service's clocks running faster than this client's
    /// (drift) and a stamp proposed a little before a keep-alive arrived.
    /// Default: 2% of the time-to-live plus 5 ms.
    pub margin: fn(Duration) -> Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_attempts: 200,
            poll: Duration::from_millis(5),
            margin: |ttl| ttl / 50 + Duration::from_millis(5),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct OpenSession {
    id: SessionId,
    ttl: Duration,
    /// The service cannot have expired it before this instant.
    deadline: Instant,
    lost: bool,
}

/// What every handle of one client shares.
struct Shared {
    nodes: Vec<(NodeId, Arc<dyn Service>)>,
    id: ClientId,
    sleep: Sleep,
    options: ClientOptions,
    /// The sequence number; held while a command is in flight.
    seq: futures::lock::Mutex<u64>,
    /// The node tried first (the last known leader).
    at: AtomicUsize,
    session: Mutex<Option<OpenSession>>,
    releases: UnboundedSender<Release>,
    dropped: Mutex<UnboundedReceiver<Release>>,
    /// The last state announced, and who listens.
    watchers: Mutex<(SessionState, Vec<UnboundedSender<SessionState>>)>,
}

/// A client of one lock service (see the module docs). Cloning gives
/// another handle on the same client and session.
#[derive(Clone)]
pub struct LockClient {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LockClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClient")
            .field("id", &self.shared.id)
            .field("session", &*self.session_slot())
            .finish_non_exhaustive()
    }
}

/// Locks a std mutex whose data stays valid even if a holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LockClient {
    /// A client `id` (pick it at random: it names the client's
    /// exactly-once entry) of the service run by `nodes`.
    #[must_use]
    pub fn new(nodes: Vec<(NodeId, Client<LockMachine>)>, id: ClientId, sleep: Sleep) -> Self {
        Self::with_options(nodes, id, sleep, ClientOptions::default())
    }

    /// [`LockClient::new`] with `options`.
    ///
    /// # Panics
    /// If `nodes` is empty.
    #[must_use]
    pub fn with_options(
        nodes: Vec<(NodeId, Client<LockMachine>)>,
        id: ClientId,
        sleep: Sleep,
        options: ClientOptions,
    ) -> Self {
        let nodes = (nodes.into_iter())
            .map(|(id, c)| (id, Arc::new(c) as Arc<dyn Service>))
            .collect();
        Self::over(nodes, id, sleep, options)
    }

    /// A client of the service whose nodes it reaches through `nodes`
    /// (your RPC; see [`Service`]).
    ///
    /// # Panics
    /// If `nodes` is empty.
    #[must_use]
    pub fn over(
        nodes: Vec<(NodeId, Arc<dyn Service>)>,
        id: ClientId,
        sleep: Sleep,
        options: ClientOptions,
    ) -> Self {
        assert!(!nodes.is_empty(), "a lock client needs at least one node");
        let (releases, dropped) = mpsc::unbounded();
        Self {
            shared: Arc::new(Shared {
                nodes,
                id,
                sleep,
                options,
                seq: futures::lock::Mutex::new(0),
                at: AtomicUsize::new(0),
                session: Mutex::new(None),
                releases,
                dropped: Mutex::new(dropped),
                watchers: Mutex::new((SessionState::Lost, Vec::new())),
            }),
        }
    }

    fn session_slot(&self) -> MutexGuard<'_, Option<OpenSession>> {
        lock(&self.shared.session)
    }

    fn node(&self) -> &dyn Service {
        let nodes = &self.shared.nodes;
        &*nodes[self.shared.at.load(Ordering::Relaxed) % nodes.len()].1
    }

    fn next_node(&self) {
        self.shared.at.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends later calls to node `leader` (a `NotLeader` hint).
    fn go_to(&self, leader: NodeId) {
        match self.shared.nodes.iter().position(|(id, _)| *id == leader) {
            Some(i) => self.shared.at.store(i, Ordering::Relaxed),
            None => self.next_node(),
        }
    }

    async fn sleep(&self, d: Duration) {
        (self.shared.sleep)(d).await;
    }

    /// Proposes `command` once (retries keep its sequence number, so the
    /// machine applies it at most once), after the releases of guards
    /// dropped since the last call.
    async fn submit(&self, command: Command) -> Result<Response, ClientError> {
        let mut seq = self.shared.seq.lock().await;
        self.release_dropped(&mut seq).await;
        self.propose(&mut seq, command).await
    }

    async fn propose(&self, seq: &mut u64, command: Command) -> Result<Response, ClientError> {
        *seq += 1;
        let bytes = Request {
            client: self.shared.id,
            seq: *seq,
            command,
        }
        .encode();
        let mut last = String::new();
        let options = self.shared.options;
        for attempt in 0..options.max_attempts {
            match self.node().propose(bytes.clone()).await {
                Ok(response) => return Ok(response),
                Err(NodeError::NotLeader { leader: Some(l) }) => self.go_to(l),
                Err(e) => {
                    last = e.to_string();
                    if !matches!(e, NodeError::Lost | NodeError::Unknown) {
                        self.next_node();
                    }
                }
            }
            self.sleep(options.poll * (attempt + 1).min(10)).await;
        }
        Err(ClientError::Unavailable(last))
    }

    /// Sends the releases dropped guards asked for (best effort: a lock
    /// already gone is fine).
    async fn release_dropped(&self, seq: &mut u64) {
        loop {
            let next = lock(&self.shared.dropped).try_recv();
            let Ok((session, lock, token)) = next else {
                return;
            };
            let command = Command::Release {
                session,
                lock,
                token,
            };
            let _ = self.propose(seq, command).await;
        }
    }

    fn session(&self) -> Result<OpenSession, ClientError> {
        let s = (*self.session_slot()).ok_or(ClientError::NoSession)?;
        if s.lost || Instant::now() >= s.deadline {
            self.announce();
            return Err(ClientError::OwnershipLost);
        }
        Ok(s)
    }

    /// A refusal as an error; one that says the session is gone marks it
    /// lost.
    fn refused(&self, e: LockError) -> ClientError {
        if !matches!(e, LockError::NoSession(_)) {
            return ClientError::Refused(e);
        }
        let had = self
            .session_slot()
            .as_mut()
            .map(|s| s.lost = true)
            .is_some();
        if !had {
            return ClientError::Refused(e);
        }
        self.announce();
        ClientError::OwnershipLost
    }

    fn lease(&self, ttl: Duration) -> Duration {
        ttl.saturating_sub((self.shared.options.margin)(ttl))
    }

    /// Opens this client's session with time-to-live `ttl` (whole
    /// milliseconds), replacing any session it had.
    ///
    /// # Errors
    /// [`ClientError::Refused`] (a time-to-live out of range),
    /// [`ClientError::Unavailable`].
    pub async fn open_session(&self, ttl: Duration) -> Result<SessionId, ClientError> {
        let sent = Instant::now();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        match self.submit(Command::OpenSession { ttl_ms }).await? {
            Response::Opened { session, .. } => {
                *self.session_slot() = Some(OpenSession {
                    id: session,
                    ttl,
                    deadline: sent + self.lease(ttl),
                    lost: false,
                });
                self.announce();
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
    pub async fn keep_alive(&self) -> Result<(), ClientError> {
        let s = self.session()?;
        let sent = Instant::now();
        match self.submit(Command::KeepAlive { session: s.id }).await? {
            Response::Ok => {
                if let Some(open) = self.session_slot().as_mut()
                    && open.id == s.id
                {
                    open.deadline = open.deadline.max(sent + self.lease(s.ttl));
                }
                self.announce();
                Ok(())
            }
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Closes the session: the service releases everything it holds.
    ///
    /// # Errors
    /// [`ClientError::NoSession`], [`ClientError::Unavailable`].
    pub async fn close_session(&self) -> Result<(), ClientError> {
        let s = (*self.session_slot()).ok_or(ClientError::NoSession)?;
        let result = self.submit(Command::CloseSession { session: s.id }).await;
        *self.session_slot() = None;
        self.announce();
        match result? {
            Response::Ok | Response::Refused(LockError::NoSession(_)) => Ok(()),
            Response::Refused(e) => Err(ClientError::Refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Where the session stands by this client's clock.
    #[must_use]
    pub fn session_state(&self) -> SessionState {
        let Some(s) = *self.session_slot() else {
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

    /// The session's state now and at every change after (as this client
    /// notices it: on its calls and on each round of
    /// [`LockClient::background`]).
    pub fn watch_session(&self) -> UnboundedReceiver<SessionState> {
        let (tx, rx) = mpsc::unbounded();
        // Bring the announced state up to date first, so the new watcher's
        // first state is not repeated by the next announcement.
        self.announce();
        let mut w = lock(&self.shared.watchers);
        let _ = tx.unbounded_send(w.0);
        w.1.push(tx);
        rx
    }

    /// Tells the watchers if the state changed.
    fn announce(&self) {
        let state = self.session_state();
        let mut w = lock(&self.shared.watchers);
        if w.0 != state {
            w.0 = state;
            w.1.retain(|tx| tx.unbounded_send(state).is_ok());
        }
    }

    /// The keep-alive loop: spawn it on your runtime. It renews the
    /// session once a third of its lease has gone by (at once when
    /// suspended), sends the releases of dropped guards, and tells
    /// watchers of state changes. It ends when every handle on the client
    /// is dropped.
    pub fn background(&self) -> impl Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.shared);
        let sleep = self.shared.sleep.clone();
        async move {
            loop {
                let Some(shared) = weak.upgrade() else { return };
                let client = LockClient { shared };
                client.announce();
                let pause = client.renew_if_due().await;
                {
                    let mut seq = client.shared.seq.lock().await;
                    client.release_dropped(&mut seq).await;
                }
                drop(client);
                sleep(pause).await;
            }
        }
    }

    /// One round of the keep-alive loop; how long to wait for the next.
    async fn renew_if_due(&self) -> Duration {
        let poll = self.shared.options.poll.max(Duration::from_millis(1));
        let Some(s) = *self.session_slot() else {
            return poll * 10;
        };
        if s.lost {
            return poll * 10;
        }
        let lease = self.lease(s.ttl);
        let left = s.deadline.saturating_duration_since(Instant::now());
        if left <= lease * 2 / 3 {
            // Failures show in the state; the next round tries again.
            let _ = self.keep_alive().await;
            return poll;
        }
        (left - lease * 2 / 3).min(lease / 6).max(poll)
    }

    /// Asks for `lock` in `mode`, waiting in its queue at most `wait`
    /// (`Some(ZERO)`: a try-lock).
    ///
    /// # Errors
    /// [`ClientError::OwnershipLost`], [`ClientError::Refused`] (busy,
    /// already held, wrong mode, a limit), [`ClientError::Unavailable`].
    pub async fn acquire(
        &self,
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
            Response::Granted { token } => {
                Ok(Acquired::Granted(self.guard(lock, mode, token, s.id)))
            }
            Response::Queued { ahead } => Ok(Acquired::Queued { ahead }),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    fn guard(&self, lock: &str, mode: Mode, token: u64, session: SessionId) -> Guard {
        Guard {
            lock: lock.to_string(),
            mode,
            token,
            session,
            release: Some(self.shared.releases.clone()),
        }
    }

    /// Waits (polling with linearizable reads, keeping the session alive
    /// when it is suspended) until this session holds `lock`.
    ///
    /// # Errors
    /// [`ClientError::OwnershipLost`] when the session ends first;
    /// [`ClientError::Refused`] with `NotWaiting` when it is no longer in
    /// the queue (its deadline passed, or it was cancelled);
    /// [`ClientError::Unavailable`].
    pub async fn wait_for(&self, lock: &str) -> Result<Guard, ClientError> {
        loop {
            let s = self.session()?;
            let asked = Instant::now();
            // A node that waits on its side answers when the standing
            // changes; bounded well inside the lease so keep-alives go on.
            let up_to = (self.lease(s.ttl) / 4).min(Duration::from_secs(1));
            match self.wait_standing(lock, s.id, up_to).await? {
                QueryAnswer::Standing(Standing::Holds { mode, token }) => {
                    return Ok(self.guard(lock, mode, token, s.id));
                }
                QueryAnswer::Standing(Standing::Waits { .. }) => {}
                _ => return Err(ClientError::Refused(LockError::NotWaiting)),
            }
            if self.session_state() == SessionState::Suspended {
                self.keep_alive().await?;
            }
            let poll = self.shared.options.poll;
            if asked.elapsed() < poll {
                self.sleep(poll).await;
            }
        }
    }

    /// Acquires `lock` in `mode`, waiting as long as it takes.
    ///
    /// # Errors
    /// As [`LockClient::acquire`] and [`LockClient::wait_for`].
    pub async fn lock_with(&self, lock: &str, mode: Mode) -> Result<Guard, ClientError> {
        match self.acquire(lock, mode, None).await? {
            Acquired::Granted(g) => Ok(g),
            Acquired::Queued { .. } => self.wait_for(lock).await,
        }
    }

    /// Acquires `lock` exclusively, waiting as long as it takes.
    ///
    /// # Errors
    /// As [`LockClient::lock_with`].
    pub async fn lock(&self, lock: &str) -> Result<Guard, ClientError> {
        self.lock_with(lock, Mode::Exclusive).await
    }

    /// Acquires `lock` as a reader of a read-write lock.
    ///
    /// # Errors
    /// As [`LockClient::lock_with`].
    pub async fn read_lock(&self, lock: &str) -> Result<Guard, ClientError> {
        self.lock_with(lock, Mode::Shared).await
    }

    /// Acquires one of the `permits` permits of semaphore `name`.
    ///
    /// # Errors
    /// As [`LockClient::lock_with`]; `Refused(WrongMode)` when others use
    /// the name with another number of permits.
    pub async fn semaphore(&self, name: &str, permits: u32) -> Result<Guard, ClientError> {
        let mode = Mode::Permit { capacity: permits };
        self.lock_with(name, mode).await
    }

    /// Acquires `lock` exclusively if it can within `timeout` of log time
    /// (`ZERO`: only if it is free now); `None` if it could not.
    ///
    /// # Errors
    /// As [`LockClient::lock_with`].
    pub async fn try_lock(
        &self,
        lock: &str,
        timeout: Duration,
    ) -> Result<Option<Guard>, ClientError> {
        match self.acquire(lock, Mode::Exclusive, Some(timeout)).await {
            Ok(Acquired::Granted(g)) => Ok(Some(g)),
            Ok(Acquired::Queued { .. }) => match self.wait_for(lock).await {
                Ok(g) => Ok(Some(g)),
                Err(ClientError::Refused(LockError::NotWaiting)) => Ok(None),
                Err(e) => Err(e),
            },
            Err(ClientError::Refused(LockError::Busy)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Leaves `lock`'s queue.
    ///
    /// # Errors
    /// `Refused(NotWaiting)`, [`ClientError::OwnershipLost`].
    pub async fn cancel(&self, lock: &str) -> Result<(), ClientError> {
        let s = self.session()?;
        let command = Command::Cancel {
            session: s.id,
            lock: lock.to_string(),
        };
        match self.submit(command).await? {
            Response::Ok => Ok(()),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Answers `query` linearizably, through whichever node leads.
    async fn read(&self, query: Query) -> Result<QueryAnswer, ClientError> {
        for _ in 0..self.shared.options.max_attempts {
            match self.node().read(query.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(NodeError::NotLeader { leader: Some(l) }) => self.go_to(l),
                Err(_) => self.next_node(),
            }
            self.sleep(self.shared.options.poll).await;
        }
        Err(ClientError::Unavailable("no read answered".to_string()))
    }

    /// [`Service::wait_standing`] through whichever node leads.
    async fn wait_standing(
        &self,
        lock: &str,
        session: SessionId,
        up_to: Duration,
    ) -> Result<QueryAnswer, ClientError> {
        for _ in 0..self.shared.options.max_attempts {
            match (self.node())
                .wait_standing(lock.to_string(), session, up_to)
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(NodeError::NotLeader { leader: Some(l) }) => self.go_to(l),
                Err(_) => self.next_node(),
            }
            self.sleep(self.shared.options.poll).await;
        }
        Err(ClientError::Unavailable("no read answered".to_string()))
    }

    /// Releases a held lock and waits for the answer.
    ///
    /// # Errors
    /// [`ClientError::Refused`] with `NotHolder` when it was no longer
    /// held with that token; [`ClientError::OwnershipLost`].
    pub async fn unlock(&self, mut guard: Guard) -> Result<(), ClientError> {
        guard.release = None;
        let s = self.session()?;
        let command = Command::Release {
            session: s.id,
            lock: std::mem::take(&mut guard.lock),
            token: guard.token,
        };
        match self.submit(command).await? {
            Response::Ok => Ok(()),
            Response::Refused(e) => Err(self.refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Releases `lock` held by `session` with `token`, whichever client
    /// holds it (an operator's tool: the session need not be this
    /// client's).
    ///
    /// # Errors
    /// `Refused(NotHolder)` when it is not held so;
    /// [`ClientError::Unavailable`].
    pub async fn release(
        &self,
        session: SessionId,
        lock: &str,
        token: u64,
    ) -> Result<(), ClientError> {
        let command = Command::Release {
            session,
            lock: lock.to_string(),
            token,
        };
        match self.submit(command).await? {
            Response::Ok => Ok(()),
            Response::Refused(e) => Err(ClientError::Refused(e)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// An all-or-nothing write to the versioned map; the keys' new version.
    ///
    /// # Errors
    /// [`ClientError::Refused`] when a guard (a stale token) or a version
    /// check fails.
    pub async fn write(&self, write: Write) -> Result<u64, ClientError> {
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
    pub async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, ClientError> {
        match self.read(Query::Get(key.to_string())).await? {
            QueryAnswer::Value(v) => Ok(v),
            _ => Ok(None),
        }
    }

    /// Who holds `lock`: (session, mode, token), read linearizably.
    ///
    /// # Errors
    /// [`ClientError::Unavailable`].
    pub async fn holders(&self, lock: &str) -> Result<Vec<(SessionId, Mode, u64)>, ClientError> {
        match self.read(Query::Holders(lock.to_string())).await? {
            QueryAnswer::Holders(h) => Ok(h),
            _ => Ok(Vec::new()),
        }
    }

    /// Events logged after index `after` (at most `max`), and whether
    /// some were dropped before this client read them (then resynchronise
    /// from [`LockClient::get`] and [`LockClient::holders`]).
    ///
    /// # Errors
    /// [`ClientError::Unavailable`].
    pub async fn events(
        &self,
        after: synod_protocol::Index,
        max: usize,
    ) -> Result<(Vec<(synod_protocol::Index, Event)>, bool), ClientError> {
        match self.read(Query::Events { after, max }).await? {
            QueryAnswer::Events { events, missed } => Ok((events, missed)),
            _ => Ok((Vec::new(), false)),
        }
    }
}
