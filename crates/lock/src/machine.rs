//! The replicated lock machine: applies requests in log order, answers
//! queries, snapshots and restores itself.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use synod_protocol::Index;

use crate::command::{
    ClientId, Command, Event, LockName, Mode, Reentrancy, Request, Response, SessionId, Token,
    Write,
};
use crate::due::Due;
use crate::error::LockError;
use crate::locks::{Lock, Waiter};
use crate::mutation::Mutation;
use crate::sessions::{Session, Sessions};

/// Limits on what clients can make the machine hold (every replica holds
/// all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Open sessions.
    pub max_sessions: usize,
    /// Locks held or waited for.
    pub max_locks: usize,
    /// Waiters in one lock's queue.
    pub max_waiters_per_lock: usize,
    /// Bytes in a lock's name.
    pub max_name_bytes: usize,
    /// A session's time-to-live.
    pub max_ttl_ms: u64,
    /// A session's lock-delay.
    pub max_lock_delay_ms: u64,
    /// Events kept for watchers (older ones are dropped; a watcher that
    /// fell further behind resynchronises from a query).
    pub max_events: usize,
    /// Keys in the versioned map.
    pub max_keys: usize,
    /// Bytes in a key plus its value.
    pub max_entry_bytes: usize,
}

impl Default for Limits {
    /// 100,000 sessions and locks, 10,000 waiters per lock, 256-byte
    /// names, a one-day time-to-live, a one-minute lock-delay, 100,000
    /// events, 100,000 keys of at most 64 KiB.
    fn default() -> Self {
        Self {
            max_sessions: 100_000,
            max_locks: 100_000,
            max_waiters_per_lock: 10_000,
            max_name_bytes: 256,
            max_ttl_ms: 86_400_000,
            max_lock_delay_ms: 60_000,
            max_events: 100_000,
            max_keys: 100_000,
            max_entry_bytes: 64 << 10,
        }
    }
}

/// A read of the state (answered from one replica: linearizable only
/// through the driver's read path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// Who holds a lock, how, with which token.
    Holders(LockName),
    /// When a session expires (`None`: not open).
    Session(SessionId),
    /// Events after a log index, at most `max`.
    Events {
        /// Events logged after this index.
        after: Index,
        /// At most this many.
        max: usize,
    },
    /// The machine's log time.
    Now,
    /// A key of the versioned map.
    Get(String),
    /// Where a session stands on a lock: holding, waiting, or neither
    /// (one read, so a grant between two reads cannot be missed).
    Standing {
        /// The lock.
        lock: LockName,
        /// The session.
        session: SessionId,
    },
}

/// Where a session stands on a lock ([`Query::Standing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// It holds the lock.
    Holds {
        /// How.
        mode: Mode,
        /// With this token.
        token: Token,
    },
    /// It waits in the lock's queue.
    Waits {
        /// Waiters before it.
        ahead: u64,
    },
    /// Neither (never asked, timed out, cancelled, released, or its
    /// session ended).
    Neither,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryAnswer {
    /// The holders (by session), their modes and tokens.
    Holders(Vec<(SessionId, Mode, Token)>),
    /// The session's expiry, if open.
    Session(Option<u64>),
    /// Events, oldest first, each with the index of the command that
    /// caused it; `missed` when events after `after` were dropped.
    Events {
        /// The events.
        events: Vec<(Index, Event)>,
        /// Some were dropped (the watcher must resynchronise).
        missed: bool,
    },
    /// Log time, milliseconds.
    Now(u64),
    /// A key's value and version (`None`: absent).
    Value(Option<(Vec<u8>, u64)>),
    /// Where the session stands.
    Standing(Standing),
}

/// The lock service's state machine (see the crate docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockMachine {
    limits: Limits,
    /// Log time: the highest clock stamp applied. Never goes backwards.
    now_ms: u64,
    /// The term of the last stamp: whose leader's clock log time follows.
    term: u64,
    /// The last token granted. Invariant: every grant takes a larger one.
    last_token: Token,
    sessions: Sessions,
    /// Locks held or waited for (idle locks are dropped).
    locks: BTreeMap<LockName, Lock>,
    /// Exactly-once: each client's latest sequence number, its answer,
    /// and the log time of that request. Kept while the client has an open
    /// session, and for `max_ttl_ms` of log time after its last request
    /// (a retry later than that is taken as new).
    clients: BTreeMap<ClientId, (u64, Response, u64)>,
    events: VecDeque<(Index, Event)>,
    /// Reentrancy rules by lock name (absent: off).
    reentrancy: BTreeMap<LockName, Reentrancy>,
    /// The versioned map: value and version (the index of the write that
    /// put it).
    map: BTreeMap<String, (Vec<u8>, u64)>,
    /// Whether events were ever dropped, and the latest index dropped.
    dropped_through: Index,
    /// The index being applied (events are tagged with it); 0 between
    /// applies.
    #[serde(skip)]
    applying: Index,
    /// What falls due at each stamp, by time (derived; rebuilt on
    /// restore).
    #[serde(skip)]
    due: Due,
    /// The planted bug, if any (never serialized: set it again after a
    /// restore).
    #[cfg(feature = "mutations")]
    #[serde(skip)]
    mutation: Option<Mutation>,
}

impl LockMachine {
    /// An empty machine with the default [`Limits`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty machine with `limits`.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Plants `mutation` (test builds only; see [`crate::mutation`]).
    #[cfg(feature = "mutations")]
    pub fn set_mutation(&mut self, mutation: Option<Mutation>) {
        self.mutation = mutation;
    }

    /// Whether the planted bug `m` is on (always false without the
    /// `mutations` feature, and then compiled away).
    #[allow(clippy::unused_self, clippy::needless_return)]
    fn mutated(&self, m: Mutation) -> bool {
        #[cfg(feature = "mutations")]
        return self.mutation == Some(m);
        #[cfg(not(feature = "mutations"))]
        {
            let _ = m;
            false
        }
    }

    /// Log time, milliseconds.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The last fencing token granted.
    #[must_use]
    pub fn last_token(&self) -> Token {
        self.last_token
    }

    /// Applies the request encoded in `bytes`, committed at `index`.
    pub fn apply_bytes(&mut self, index: Index, bytes: &[u8]) -> Response {
        match Request::decode(bytes) {
            Ok(request) => self.apply(index, request),
            Err(e) => Response::Refused(e),
        }
    }

    /// Applies `request`, committed at `index`.
    pub fn apply(&mut self, index: Index, request: Request) -> Response {
        self.applying = index;
        let response = self.apply_request(index, request);
        // Only events logged while applying carry it; the state holds none.
        self.applying = 0;
        response
    }

    fn apply_request(&mut self, index: Index, request: Request) -> Response {
        if let Command::Clock { term, now_ms } = request.command {
            // The service's own stamps: a repeat is harmless (time only
            // moves forward), so they skip the exactly-once table.
            self.on_clock(term, now_ms);
            return Response::Ok;
        }
        if let Some((seq, response, _)) = self.clients.get(&request.client) {
            if request.seq == *seq {
                return response.clone();
            }
            if request.seq < *seq {
                return Response::Refused(LockError::StaleRequest {
                    seq: request.seq,
                    latest: *seq,
                });
            }
        }
        let response = self.execute(index, request.client, request.command);
        self.clients
            .insert(request.client, (request.seq, response.clone(), self.now_ms));
        response
    }

    fn execute(&mut self, index: Index, client: ClientId, command: Command) -> Response {
        let result = match command {
            Command::Clock { .. } => Ok(Response::Ok),
            Command::OpenSession { ttl_ms } => self.open(index, client, ttl_ms),
            Command::KeepAlive { session } => self.keep_alive(session),
            Command::CloseSession { session } => self.close(session),
            Command::SetLockDelay { session, delay_ms } => self.set_lock_delay(session, delay_ms),
            Command::Acquire {
                session,
                lock,
                mode,
                wait_ms,
            } => self.acquire(session, lock, mode, wait_ms),
            Command::Downgrade {
                session,
                lock,
                token,
            } => self.downgrade(session, &lock, token),
            Command::Release {
                session,
                lock,
                token,
            } => self.release(session, &lock, token),
            Command::Cancel { session, lock } => self.cancel(session, &lock),
            Command::Write(write) => self.write(index, write),
            Command::SetReentrancy { lock, reentrancy } => self.set_reentrancy(lock, reentrancy),
        };
        result.unwrap_or_else(Response::Refused)
    }

    /// A leader's stamp: time moves forward only; a stamp from another
    /// term than the last (another leader, whose clock may run ahead of the
    /// last one's) first extends every session by its time-to-live from the
    /// new time (a failover never shortens a lease), then whatever ran out
    /// ends. Any other term, not only a later one: a deposed leader's stamp
    /// can commit after its successor's (it read its term, then proposed
    /// late), and its clock is another clock too.
    fn on_clock(&mut self, term: u64, now_ms: u64) {
        let now = self.now_ms.max(now_ms);
        if term != self.term && !self.mutated(Mutation::NoFailoverExtension) {
            self.term = term;
            // Every session changes: rebuild the index once (failovers
            // are rare).
            for s in self.sessions.values_mut() {
                s.expires_ms = s.expires_ms.max(now.saturating_add(s.ttl_ms));
            }
            self.due.expiries = (self.sessions.iter())
                .map(|(&id, s)| (s.expires_ms, id))
                .collect();
        }
        let before = self.now_ms;
        self.now_ms = now;
        for id in std::mem::take(&mut self.due.renewing) {
            if let Some(s) = self.sessions.get_mut(&id) {
                s.renewing = false;
                let renewed = s.expires_ms.max(now.saturating_add(s.ttl_ms));
                self.set_expiry(id, renewed);
            }
        }
        for session in self.due.expired(now) {
            self.end_session(session, true);
            self.log(Event::Expired { session });
        }
        self.time_out_waiters();
        self.end_lock_delays();
        // The scan is over every client: run it once per hundredth of the
        // time an idle client is kept (the table holds idle clients at
        // most 1% longer), not at every stamp.
        let every = (self.limits.max_ttl_ms / 100).max(1_000);
        if before / every != now / every {
            self.forget_idle_clients();
        }
    }

    /// Moves `session`'s expiry to `expires_ms`, in the index too.
    fn set_expiry(&mut self, session: SessionId, expires_ms: u64) {
        if let Some(s) = self.sessions.get_mut(&session) {
            self.due.expiries.remove(&(s.expires_ms, session));
            s.expires_ms = expires_ms;
            self.due.expiries.insert((expires_ms, session));
        }
    }

    /// Marks `session` for renewal at the next stamp.
    fn renew_at_next_stamp(&mut self, session: SessionId) {
        if self.mutated(Mutation::RenewFromLastStamp) {
            return;
        }
        if let Some(s) = self.sessions.get_mut(&session) {
            s.renewing = true;
            self.due.renewing.insert(session);
        }
    }

    /// Forgets a waiter's deadline (it left the queue).
    fn forget_deadline(&mut self, name: &str, w: &Waiter) {
        if let Some(d) = w.deadline_ms {
            self.due.deadlines.remove(&(d, name.to_string(), w.session));
        }
    }

    /// Exactly-once entries of clients with no open session and no request
    /// for `max_ttl_ms` of log time go (the table stays bounded; a retry
    /// that late, of an `OpenSession`, would open a second session, which
    /// expires unused).
    fn forget_idle_clients(&mut self) {
        let (now, keep_ms) = (self.now_ms, self.limits.max_ttl_ms);
        let active: std::collections::BTreeSet<ClientId> =
            self.sessions.values().map(|s| s.client).collect();
        self.clients
            .retain(|c, (_, _, at)| active.contains(c) || now.saturating_sub(*at) < keep_ms);
    }

    fn open(&mut self, index: Index, client: ClientId, ttl_ms: u64) -> Result<Response, LockError> {
        if ttl_ms == 0 || ttl_ms > self.limits.max_ttl_ms {
            return Err(LockError::BadTtl(ttl_ms));
        }
        if self.sessions.len() >= self.limits.max_sessions {
            return Err(LockError::Limit("sessions".to_string()));
        }
        let expires_ms = self.now_ms.saturating_add(ttl_ms);
        self.sessions.insert(
            index,
            Session {
                client,
                ttl_ms,
                expires_ms,
                held: Default::default(),
                waiting: Default::default(),
                lock_delay_ms: 0,
                renewing: false,
            },
        );
        self.due.expiries.insert((expires_ms, index));
        self.renew_at_next_stamp(index);
        Ok(Response::Opened {
            session: index,
            expires_ms,
        })
    }

    fn keep_alive(&mut self, session: SessionId) -> Result<Response, LockError> {
        let now = self.now_ms;
        let s = self
            .sessions
            .get(&session)
            .ok_or(LockError::NoSession(session))?;
        let renewed = s.expires_ms.max(now.saturating_add(s.ttl_ms));
        self.set_expiry(session, renewed);
        self.renew_at_next_stamp(session);
        Ok(Response::Ok)
    }

    fn close(&mut self, session: SessionId) -> Result<Response, LockError> {
        if !self.sessions.contains_key(&session) {
            return Err(LockError::NoSession(session));
        }
        self.end_session(session, false);
        Ok(Response::Ok)
    }

    fn set_lock_delay(&mut self, session: SessionId, delay_ms: u64) -> Result<Response, LockError> {
        if delay_ms > self.limits.max_lock_delay_ms {
            return Err(LockError::BadLockDelay(delay_ms));
        }
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(LockError::NoSession(session))?;
        s.lock_delay_ms = delay_ms;
        Ok(Response::Ok)
    }

    fn acquire(
        &mut self,
        session: SessionId,
        name: LockName,
        mode: Mode,
        wait_ms: Option<u64>,
    ) -> Result<Response, LockError> {
        if !self.sessions.contains_key(&session) {
            return Err(LockError::NoSession(session));
        }
        if name.len() > self.limits.max_name_bytes {
            return Err(LockError::Limit("lock name length".to_string()));
        }
        if mode == (Mode::Permit { capacity: 0 }) {
            return Err(LockError::WrongMode);
        }
        if !self.locks.contains_key(&name) && self.locks.len() >= self.limits.max_locks {
            return Err(LockError::Limit("locks".to_string()));
        }
        let now = self.now_ms;
        let max_waiters = self.limits.max_waiters_per_lock;
        let rule = self.reentrancy.get(&name).copied().unwrap_or_default();
        let lock = self.locks.entry(name.clone()).or_default();
        if let Some(&(held_mode, token)) = lock.holders.get(&session) {
            let again = lock.reentries.get(&session).copied().unwrap_or(0);
            let allowed = match rule {
                Reentrancy::Off => false,
                Reentrancy::Limit(n) => again.saturating_add(1) < n,
                Reentrancy::Unlimited => again < u32::MAX,
            };
            if !allowed || held_mode != mode {
                return Err(LockError::AlreadyHeld);
            }
            lock.reentries.insert(session, again + 1);
            return Ok(Response::Granted { token });
        }
        if lock.position(session).is_some() {
            return Err(LockError::AlreadyWaiting);
        }
        if !lock.fits(mode) {
            self.drop_if_idle(&name);
            return Err(LockError::WrongMode);
        }
        // FIFO: once anyone waits, later acquirers wait behind them (a
        // stream of readers never starves a writer).
        if lock.queue.is_empty() && lock.admits(mode, now) {
            let token = self.grant(&name, session, mode);
            return Ok(Response::Granted { token });
        }
        if wait_ms == Some(0) {
            return Err(LockError::Busy);
        }
        if lock.queue.len() >= max_waiters {
            return Err(LockError::Limit("waiters".to_string()));
        }
        let ahead = lock.queue.len() as u64;
        let deadline_ms = wait_ms.map(|w| now.saturating_add(w));
        lock.queue.push_back(Waiter {
            session,
            mode,
            deadline_ms,
        });
        if let Some(d) = deadline_ms {
            self.due.deadlines.insert((d, name.clone(), session));
        }
        if let Some(s) = self.sessions.get_mut(&session) {
            s.waiting.insert(name);
        }
        Ok(Response::Queued { ahead })
    }

    fn release(
        &mut self,
        session: SessionId,
        name: &str,
        token: Token,
    ) -> Result<Response, LockError> {
        let held = self
            .locks
            .get(name)
            .and_then(|l| l.holders.get(&session))
            .is_some_and(|&(_, t)| t == token);
        if !held {
            return Err(LockError::NotHolder);
        }
        if let Some(lock) = self.locks.get_mut(name)
            && let Some(again) = lock.reentries.get_mut(&session)
        {
            // One of several holds: the lock stays held.
            *again -= 1;
            if *again == 0 {
                lock.reentries.remove(&session);
            }
            return Ok(Response::Ok);
        }
        self.let_go(name, session);
        Ok(Response::Ok)
    }

    fn set_reentrancy(&mut self, lock: LockName, rule: Reentrancy) -> Result<Response, LockError> {
        if lock.len() > self.limits.max_name_bytes {
            return Err(LockError::Limit("lock name length".to_string()));
        }
        if rule == Reentrancy::Off {
            self.reentrancy.remove(&lock);
        } else {
            if !self.reentrancy.contains_key(&lock)
                && self.reentrancy.len() >= self.limits.max_locks
            {
                return Err(LockError::Limit("reentrancy rules".to_string()));
            }
            self.reentrancy.insert(lock, rule);
        }
        Ok(Response::Ok)
    }

    fn downgrade(
        &mut self,
        session: SessionId,
        name: &str,
        token: Token,
    ) -> Result<Response, LockError> {
        let Some(hold) = self
            .locks
            .get_mut(name)
            .and_then(|l| l.holders.get_mut(&session))
        else {
            return Err(LockError::NotHolder);
        };
        if hold.1 != token {
            return Err(LockError::NotHolder);
        }
        if hold.0 != Mode::Exclusive {
            return Err(LockError::WrongMode);
        }
        hold.0 = Mode::Shared;
        self.wake(name);
        Ok(Response::Ok)
    }

    fn cancel(&mut self, session: SessionId, name: &str) -> Result<Response, LockError> {
        let Some(lock) = self.locks.get_mut(name) else {
            return Err(LockError::NotWaiting);
        };
        let Some(at) = lock.position(session) else {
            return Err(LockError::NotWaiting);
        };
        if let Some(w) = lock.queue.remove(at) {
            self.forget_deadline(name, &w);
        }
        if let Some(s) = self.sessions.get_mut(&session) {
            s.waiting.remove(name);
        }
        // The head may have changed: those behind it may fit now.
        self.wake(name);
        Ok(Response::Ok)
    }

    /// All or nothing: every guard and check holds, then every put.
    fn write(&mut self, index: Index, w: Write) -> Result<Response, LockError> {
        for (lock, token) in &w.guards {
            let held = self
                .locks
                .get(lock)
                .is_some_and(|l| l.holders.values().any(|&(_, t)| t == *token));
            if !held {
                return Err(LockError::GuardFailed {
                    lock: lock.clone(),
                    token: *token,
                });
            }
        }
        for (key, expected) in &w.checks {
            let actual = self.map.get(key).map_or(0, |(_, v)| *v);
            if actual != *expected {
                return Err(LockError::VersionMismatch {
                    key: key.clone(),
                    expected: *expected,
                    actual,
                });
            }
        }
        let mut new_keys = 0;
        for (key, value) in &w.puts {
            let size = key.len() + value.as_ref().map_or(0, Vec::len);
            if size > self.limits.max_entry_bytes {
                return Err(LockError::Limit("entry size".to_string()));
            }
            if value.is_some() && !self.map.contains_key(key) {
                new_keys += 1;
            }
        }
        if self.map.len() + new_keys > self.limits.max_keys {
            return Err(LockError::Limit("keys".to_string()));
        }
        for (key, value) in w.puts {
            match value {
                Some(v) => {
                    self.map.insert(key, (v, index));
                }
                None => {
                    self.map.remove(&key);
                }
            }
        }
        Ok(Response::Written { version: index })
    }

    /// Grants `name` to `session` in `mode` with a new token.
    fn grant(&mut self, name: &str, session: SessionId, mode: Mode) -> Token {
        self.last_token += 1;
        let token = self.last_token;
        if let Some(lock) = self.locks.get_mut(name) {
            lock.holders.insert(session, (mode, token));
        }
        if let Some(s) = self.sessions.get_mut(&session) {
            s.held.insert(name.to_string());
        }
        self.log(Event::Granted {
            lock: name.to_string(),
            session,
            mode,
            token,
        });
        token
    }

    /// `session` lets go of `name`; those waiting that now fit get it.
    fn let_go(&mut self, name: &str, session: SessionId) {
        let Some((_, token)) = self.locks.get_mut(name).and_then(|l| {
            l.reentries.remove(&session);
            l.holders.remove(&session)
        }) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&session) {
            s.held.remove(name);
        }
        self.log(Event::Released {
            lock: name.to_string(),
            session,
            token,
        });
        self.wake(name);
    }

    /// Grants the lock to the waiters at the head of its queue, in order,
    /// while each fits beside the holders (one writer, or a run of
    /// readers, or permits while any are left). A waiter whose session is
    /// no longer open (checked now, at grant time: the etcd 3.4.3 case) or
    /// whose deadline passed leaves instead.
    fn wake(&mut self, name: &str) {
        let now = self.now_ms;
        let unchecked = self.mutated(Mutation::GrantWithoutSessionCheck);
        loop {
            let Some(lock) = self.locks.get_mut(name) else {
                return;
            };
            let Some(&w) = lock.queue.front() else {
                break;
            };
            let open = self
                .sessions
                .get(&w.session)
                .is_some_and(|s| unchecked || now < s.expires_ms);
            let live = open && w.deadline_ms.is_none_or(|d| now < d);
            if live && !lock.admits(w.mode, now) {
                break;
            }
            lock.queue.pop_front();
            self.forget_deadline(name, &w);
            if let Some(s) = self.sessions.get_mut(&w.session) {
                s.waiting.remove(name);
            }
            if live {
                self.grant(name, w.session, w.mode);
            }
        }
        self.drop_if_idle(name);
    }

    /// Locks whose lock-delay ran out go to their waiters.
    fn end_lock_delays(&mut self) {
        for (until, name) in self.due.delays_ended(self.now_ms) {
            self.due.delays.remove(&(until, name.clone()));
            if let Some(l) = self.locks.get_mut(&name) {
                l.delayed_until_ms = 0;
            }
            self.wake(&name);
        }
    }

    /// A session ends (closed, or `expired`): it releases what it holds
    /// (an expired one with its lock-delay) and leaves every queue.
    fn end_session(&mut self, session: SessionId, expired: bool) {
        let Some(s) = self.sessions.remove(&session) else {
            return;
        };
        self.due.expiries.remove(&(s.expires_ms, session));
        self.due.renewing.remove(&session);
        if expired && s.lock_delay_ms > 0 {
            let until = self.now_ms.saturating_add(s.lock_delay_ms);
            for name in &s.held {
                if let Some(l) = self.locks.get_mut(name) {
                    let old = l.delayed_until_ms;
                    l.delayed_until_ms = old.max(until);
                    self.due.delays.remove(&(old, name.clone()));
                    self.due.delays.insert((l.delayed_until_ms, name.clone()));
                }
            }
        }
        for name in &s.waiting {
            if let Some(lock) = self.locks.get_mut(name)
                && let Some(at) = lock.position(session)
                && let Some(w) = lock.queue.remove(at)
            {
                self.forget_deadline(name, &w);
            }
            self.wake(name);
        }
        for name in &s.held {
            if let Some((_, token)) = self.locks.get_mut(name).and_then(|l| {
                l.reentries.remove(&session);
                l.holders.remove(&session)
            }) {
                self.log(Event::Released {
                    lock: name.clone(),
                    session,
                    token,
                });
            }
            self.wake(name);
        }
    }

    /// Waiters whose deadline passed leave their queues.
    fn time_out_waiters(&mut self) {
        let mut gone = Vec::new();
        for (deadline, name, session) in self.due.timed_out(self.now_ms) {
            self.due
                .deadlines
                .remove(&(deadline, name.clone(), session));
            if let Some(lock) = self.locks.get_mut(&name)
                && let Some(at) = lock.position(session)
            {
                lock.queue.remove(at);
                gone.push((name, session));
            }
        }
        for (name, session) in gone {
            if let Some(s) = self.sessions.get_mut(&session) {
                s.waiting.remove(&name);
            }
            self.log(Event::TimedOut {
                lock: name.clone(),
                session,
            });
            self.wake(&name);
        }
    }

    fn drop_if_idle(&mut self, name: &str) {
        let now = self.now_ms;
        if self.locks.get(name).is_some_and(|l| l.is_idle(now))
            && let Some(l) = self.locks.remove(name)
            && l.delayed_until_ms != 0
        {
            // A delay that ran out before the stamp that ends it.
            self.due
                .delays
                .remove(&(l.delayed_until_ms, name.to_string()));
        }
    }

    fn log(&mut self, event: Event) {
        self.events.push_back((self.applying, event));
        while self.events.len() > self.limits.max_events {
            if let Some((index, _)) = self.events.pop_front() {
                self.dropped_through = self.dropped_through.max(index);
            }
        }
    }

    /// Checks the machine's invariants (for tests and fuzzing): every lock
    /// is held or waited for; its holders are compatible (one exclusive
    /// holder alone, shared holders only, or permits within one capacity);
    /// the head of a queue does not fit beside the holders (so a lock
    /// without holders has no queue); every holder and waiter is an open
    /// session that records it, at most once, never both holding and
    /// waiting; every token is at most the last granted; every session's
    /// records point back.
    ///
    /// # Errors
    /// The first invariant broken, described.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.due != Due::of(&self.sessions, &self.locks) {
            return Err("the due-time index is out of step with the state".to_string());
        }
        for (name, lock) in &self.locks {
            if lock.is_idle(self.now_ms) {
                return Err(format!("lock {name:?} is kept idle"));
            }
            let modes: Vec<Mode> = lock.holders.values().map(|(m, _)| *m).collect();
            let exclusive = modes.iter().filter(|m| **m == Mode::Exclusive).count();
            let permits: Vec<Mode> = modes
                .iter()
                .copied()
                .filter(|m| matches!(m, Mode::Permit { .. }))
                .collect();
            let compatible = if exclusive > 0 {
                modes.len() == 1
            } else if let Some(&Mode::Permit { capacity }) = permits.first() {
                permits.len() == modes.len()
                    && permits.iter().all(|m| *m == permits[0])
                    && modes.len() <= capacity as usize
            } else {
                true
            };
            if !compatible {
                return Err(format!("lock {name:?} holders clash: {modes:?}"));
            }
            if let Some(head) = lock.queue.front()
                && lock.admits(head.mode, self.now_ms)
            {
                return Err(format!(
                    "lock {name:?} head waiter {} fits but waits",
                    head.session
                ));
            }
            if let Some(s) = lock
                .reentries
                .keys()
                .find(|s| !lock.holders.contains_key(s))
            {
                return Err(format!("lock {name:?} counts re-entries of non-holder {s}"));
            }
            for (holder, (_, token)) in &lock.holders {
                if *token > self.last_token {
                    return Err(format!(
                        "lock {name:?} token {token} > last {}",
                        self.last_token
                    ));
                }
                let held = self
                    .sessions
                    .get(holder)
                    .is_some_and(|s| s.held.contains(name));
                if !held {
                    return Err(format!(
                        "lock {name:?} holder {holder} is not an open session holding it"
                    ));
                }
            }
            for (i, w) in lock.queue.iter().enumerate() {
                if lock.holders.contains_key(&w.session) || lock.position(w.session) != Some(i) {
                    return Err(format!(
                        "lock {name:?} waiter {} repeated or holding",
                        w.session
                    ));
                }
                let waiting = self
                    .sessions
                    .get(&w.session)
                    .is_some_and(|s| s.waiting.contains(name));
                if !waiting {
                    return Err(format!(
                        "lock {name:?} waiter {} does not record it",
                        w.session
                    ));
                }
            }
        }
        for (id, session) in &self.sessions {
            for name in &session.held {
                if !self
                    .locks
                    .get(name)
                    .is_some_and(|l| l.holders.contains_key(id))
                {
                    return Err(format!("session {id} records holding {name:?}"));
                }
            }
            for name in &session.waiting {
                if self.locks.get(name).and_then(|l| l.position(*id)).is_none() {
                    return Err(format!("session {id} records waiting for {name:?}"));
                }
            }
        }
        Ok(())
    }

    /// Answers `query` from this replica's state.
    #[must_use]
    pub fn answer(&self, query: &Query) -> QueryAnswer {
        match query {
            Query::Holders(name) => QueryAnswer::Holders(
                self.locks
                    .get(name)
                    .map(|l| l.holders.iter().map(|(&s, &(m, t))| (s, m, t)).collect())
                    .unwrap_or_default(),
            ),
            Query::Session(id) => QueryAnswer::Session(self.sessions.get(id).map(|s| s.expires_ms)),
            Query::Events { after, max } => QueryAnswer::Events {
                // Events are kept in index order: skip the older ones by
                // binary search (a watcher polls this often).
                events: self
                    .events
                    .range(self.events.partition_point(|(i, _)| i <= after)..)
                    .take(*max)
                    .cloned()
                    .collect(),
                missed: self.dropped_through > *after,
            },
            Query::Now => QueryAnswer::Now(self.now_ms),
            Query::Get(key) => QueryAnswer::Value(self.map.get(key).cloned()),
            Query::Standing { lock, session } => {
                let standing = self.locks.get(lock).map_or(Standing::Neither, |l| {
                    if let Some(&(mode, token)) = l.holders.get(session) {
                        Standing::Holds { mode, token }
                    } else if let Some(at) = l.position(*session) {
                        Standing::Waits { ahead: at as u64 }
                    } else {
                        Standing::Neither
                    }
                });
                QueryAnswer::Standing(standing)
            }
        }
    }

    /// The whole state, encoded.
    #[must_use]
    pub fn encode(&self) -> Bytes {
        if self.mutated(Mutation::TokenNotInSnapshot) {
            let mut wrong = self.clone();
            wrong.last_token = (self.locks.values())
                .flat_map(|l| l.holders.values().map(|&(_, t)| t))
                .max()
                .unwrap_or(0);
            return Bytes::from(postcard::to_stdvec(&wrong).unwrap_or_default());
        }
        // Every field is plain data; encoding to a Vec cannot fail.
        Bytes::from(postcard::to_stdvec(self).unwrap_or_default())
    }

    /// A state encoded by [`LockMachine::encode`].
    ///
    /// # Errors
    /// A description when the bytes are not one.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut m: Self =
            postcard::from_bytes(bytes).map_err(|e| format!("not a lock machine snapshot: {e}"))?;
        m.due = Due::of(&m.sessions, &m.locks);
        Ok(m)
    }
}

impl synod_node::StateMachine for LockMachine {
    type Response = Response;
    type Query = Query;
    type Answer = QueryAnswer;

    fn apply(&mut self, index: Index, command: &Bytes) -> Response {
        self.apply_bytes(index, command)
    }

    fn query(&self, query: &Query) -> QueryAnswer {
        self.answer(query)
    }

    fn snapshot(&self) -> Bytes {
        self.encode()
    }

    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String> {
        *self = Self::decode(snapshot)?;
        Ok(())
    }
}
