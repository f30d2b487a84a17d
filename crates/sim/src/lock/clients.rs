//! The lock clients: each opens a session, acquires a lock (queueing,
//! polling with keep-alives), increments the lock's counter in the
//! resource (a read and a write, both carrying its token), releases, and
//! again. A client believes it holds a lock from when it learns of the
//! grant until it releases it or its conservative deadline passes (its
//! last acknowledged keep-alive's *send* time plus the TTL). It may stall
//! anywhere, and most harmfully between deciding to write and writing.

use rand::{Rng as _, RngExt};
use synod_lock::{Command, LockError, LockName, Mode, Request, Response, SessionId, Token};

use super::nodes::session_gone;
use super::{CLIENT_BASE, RESOURCE, Sim, Wire};
use crate::mutex::LockGrant;
use crate::replica::Replica;

/// Ticks between polls while queued.
const POLL_TICKS: u64 = 5;

/// The semaphore's permits (with [`LockSimConfig::modes`]).
///
/// [`LockSimConfig::modes`]: super::LockSimConfig::modes
pub(super) const PERMITS: u32 = 2;

/// A command sent and not yet answered.
#[derive(Debug)]
struct Pending {
    request: Request,
    watch: Option<LockName>,
    sent_at: u64,
    retry_at: u64,
}

/// Where a holder is in its increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Read,
    Reading,
    /// About to write this value (its clock still says it holds the lock).
    Write(u64),
    /// Stalled after deciding to write; writes on waking, without looking.
    WriteOnWaking(u64),
    Writing(u64),
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NoSession,
    Idle,
    Waiting { lock: u64 },
    Holding { lock: u64, token: Token, step: Step },
}

/// One lock client.
#[derive(Debug)]
pub(super) struct Client {
    target: u64,
    seq: u64,
    /// The session and the client's deadline for it.
    session: Option<(SessionId, u64)>,
    pending: Option<Pending>,
    phase: Phase,
    paused_until: u64,
    /// The resource access in flight: its number, when to give up, the
    /// lock, and whether it writes.
    access: Option<(u64, u64, u64, bool)>,
    accesses: u64,
    next_at: u64,
    /// The grant record (in the run's list) it believes it holds.
    grant: Option<usize>,
    /// The mode of its latest acquire.
    mode: Mode,
}

impl Client {
    pub(super) fn new(target: u64) -> Self {
        Self {
            target,
            seq: 0,
            session: None,
            pending: None,
            phase: Phase::NoSession,
            paused_until: 0,
            access: None,
            accesses: 0,
            next_at: 0,
            grant: None,
            mode: Mode::Exclusive,
        }
    }
}

fn lock_name(lock: u64) -> LockName {
    format!("lock-{lock}")
}

impl<R: Replica> Sim<R> {
    pub(super) fn clients_act(&mut self) {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for c in ids {
            if self.clients[&c].paused_until <= self.now {
                self.client_acts(c);
            }
        }
    }

    fn pause_client(&mut self, c: u64) {
        let (lo, hi) = self.cfg.client_pause_ticks;
        let ticks = lo + self.rng.next_u64() % (hi - lo + 1);
        self.summary.client_pauses += 1;
        let client = self.clients.get_mut(&c).expect("client");
        client.paused_until = self.now + ticks;
        self.event(|| format!("client {c} stalls for {ticks}"));
    }

    fn client_acts(&mut self, c: u64) {
        let now = self.now;
        let cl = &self.clients[&c];
        // Woken from a stall between deciding to write and writing: the
        // write goes out as decided (the case fencing is for).
        if let Phase::Holding {
            lock,
            token,
            step: Step::WriteOnWaking(v),
        } = cl.phase
        {
            self.access(c, lock, token, Some(v));
        }
        let cl = self.clients.get_mut(&c).expect("client");
        if cl.pending.as_ref().is_some_and(|p| now >= p.retry_at) {
            // No answer in time: try the next node.
            cl.target = cl.target % self.cfg.cluster.nodes + 1;
            self.resend(c);
        }
        let cl = &self.clients[&c];
        if let Some((_, deadline)) = cl.session
            && now >= deadline
        {
            self.lose_session(c, deadline);
        }
        if self.rng.random_bool(self.cfg.pause_anywhere) {
            return self.pause_client(c);
        }
        let cl = &self.clients[&c];
        let idle = cl.pending.is_none();
        let Some((session, deadline)) = cl.session else {
            if idle {
                let ttl_ms = self.cfg.ttl_ticks;
                self.send_command(c, Command::OpenSession { ttl_ms }, None);
            }
            return;
        };
        if idle
            && deadline - now < self.cfg.ttl_ticks / 2
            && !matches!(cl.phase, Phase::Waiting { .. })
        {
            // Half the time-to-live left: keep the session alive (a
            // waiter's polls do that already).
            return self.send_command(c, Command::KeepAlive { session }, None);
        }
        match cl.phase {
            Phase::NoSession => {}
            Phase::Idle if idle && now >= cl.next_at => {
                let n = self.rng.next_u64() % self.cfg.locks;
                let mode = self.mode_for(n);
                self.clients.get_mut(&c).expect("client").mode = mode;
                let lock = lock_name(n);
                let command = Command::Acquire {
                    session,
                    lock: lock.clone(),
                    mode,
                    wait_ms: None,
                };
                self.send_command(c, command, Some(lock));
            }
            Phase::Idle => {}
            Phase::Waiting { lock } => {
                if idle && now >= cl.next_at {
                    self.clients.get_mut(&c).expect("client").next_at = now + POLL_TICKS;
                    let command = Command::KeepAlive { session };
                    self.send_command(c, command, Some(lock_name(lock)));
                }
            }
            Phase::Holding { lock, token, step } => {
                self.holder_acts(c, session, lock, token, step);
            }
        }
    }

    /// How a client takes lock `n`: with [`LockSimConfig::modes`], lock 0
    /// is a read-write lock (half the acquires read) and lock 1 a
    /// semaphore of [`PERMITS`]; otherwise every lock is a mutex.
    ///
    /// [`LockSimConfig::modes`]: super::LockSimConfig::modes
    fn mode_for(&mut self, n: u64) -> Mode {
        match n {
            0 if self.cfg.modes && self.rng.random_bool(0.5) => Mode::Shared,
            1 if self.cfg.modes => Mode::Permit { capacity: PERMITS },
            _ => Mode::Exclusive,
        }
    }

    fn holder_acts(&mut self, c: u64, session: SessionId, lock: u64, token: Token, step: Step) {
        let now = self.now;
        let cl = &self.clients[&c];
        match step {
            // A permit guards no counter: it is held a moment and let go.
            Step::Read if matches!(cl.mode, Mode::Permit { .. }) => {
                self.set_step(c, Step::Release);
            }
            Step::Read => self.access(c, lock, token, None),
            Step::Write(v) => {
                if self.rng.random_bool(self.cfg.pause_before_write) {
                    self.set_step(c, Step::WriteOnWaking(v));
                    self.pause_client(c);
                } else {
                    self.access(c, lock, token, Some(v));
                }
            }
            Step::Reading | Step::Writing(_) | Step::WriteOnWaking(_) => {
                if cl.access.is_none_or(|(_, until, _, _)| now >= until) {
                    // No answer: give up on this increment.
                    self.set_step(c, Step::Release);
                }
            }
            Step::Release => {
                if cl.pending.is_none() {
                    // It stops relying on the lock as it asks to release.
                    self.client_forgets(c, now);
                    let command = Command::Release {
                        session,
                        lock: lock_name(lock),
                        token,
                    };
                    self.send_command(c, command, None);
                    let pause = self.rng.next_u64() % 20;
                    let cl = self.clients.get_mut(&c).expect("client");
                    cl.phase = Phase::Idle;
                    cl.next_at = now + pause;
                }
            }
        }
    }

    fn set_step(&mut self, c: u64, new: Step) {
        let cl = self.clients.get_mut(&c).expect("client");
        if let Phase::Holding { step, .. } = &mut cl.phase {
            *step = new;
        }
    }

    /// Sends a read (`write: None`) or write of the lock's counter to the
    /// resource, under `token`.
    fn access(&mut self, c: u64, lock: u64, token: Token, write: Option<u64>) {
        let until = self.now + self.cfg.request_timeout_ticks;
        let cl = self.clients.get_mut(&c).expect("client");
        cl.accesses += 1;
        let op = cl.accesses;
        cl.access = Some((op, until, lock, write.is_some()));
        let step = write.map_or(Step::Reading, Step::Writing);
        self.set_step(c, step);
        let wire = Wire::Access {
            op,
            lock,
            token,
            write,
        };
        self.net.send(
            self.now,
            CLIENT_BASE + c,
            RESOURCE,
            wire,
            &mut self.rng,
            &self.faults,
        );
    }

    /// Sends the pending command again (same sequence number: the machine
    /// applies it at most once) to the client's current target.
    fn resend(&mut self, c: u64) {
        let now = self.now;
        let cl = self.clients.get_mut(&c).expect("client");
        let Some(p) = cl.pending.as_mut() else { return };
        p.retry_at = now + self.cfg.request_timeout_ticks;
        let wire = Wire::Request {
            request: p.request.clone(),
            watch: p.watch.clone(),
        };
        let to = cl.target;
        self.net
            .send(now, CLIENT_BASE + c, to, wire, &mut self.rng, &self.faults);
    }

    fn send_command(&mut self, c: u64, command: Command, watch: Option<LockName>) {
        let now = self.now;
        let cl = self.clients.get_mut(&c).expect("client");
        cl.seq += 1;
        let request = Request {
            client: c,
            seq: cl.seq,
            command,
        };
        cl.pending = Some(Pending {
            request: request.clone(),
            watch: watch.clone(),
            sent_at: now,
            retry_at: now + self.cfg.request_timeout_ticks,
        });
        let to = cl.target;
        let line = format!("client {c} sends {:?} to {to}", request.command);
        self.event(|| line);
        let wire = Wire::Request { request, watch };
        self.net
            .send(now, CLIENT_BASE + c, to, wire, &mut self.rng, &self.faults);
    }

    /// The client stops believing it holds its lock, as of `at` (or its
    /// deadline, if earlier).
    pub(super) fn client_forgets(&mut self, c: u64, at: u64) {
        let cl = self.clients.get_mut(&c).expect("client");
        let deadline = cl.session.map_or(at, |(_, d)| d);
        if let Some(i) = cl.grant.take() {
            let g = &mut self.grants[i];
            g.released = Some(at.min(deadline).max(g.acquired));
        }
    }

    /// The session is over (its deadline passed, or the service says it is
    /// gone): whatever it held is let go of, and the client starts over.
    fn lose_session(&mut self, c: u64, at: u64) {
        self.client_forgets(c, at);
        let cl = self.clients.get_mut(&c).expect("client");
        cl.session = None;
        cl.phase = Phase::NoSession;
        // A resource access in flight stays in flight: a write the resource
        // takes is an increment this client was told it made.
        cl.pending = None;
        self.event(|| format!("client {c} loses its session"));
    }

    /// The client learns it holds `lock` with `token`.
    fn granted(&mut self, c: u64, lock: u64, token: Token) {
        let now = self.now;
        let cl = self.clients.get_mut(&c).expect("client");
        if cl.session.is_none_or(|(_, d)| now >= d) {
            return;
        }
        cl.phase = Phase::Holding {
            lock,
            token,
            step: Step::Read,
        };
        cl.grant = Some(self.grants.len());
        self.grant_modes.push(cl.mode);
        self.grants.push(LockGrant {
            lock,
            holder: c,
            token,
            acquired: now,
            released: None,
        });
        self.summary.grants += 1;
        self.event(|| format!("client {c} holds lock {lock} with token {token}"));
    }

    pub(super) fn client_receives(&mut self, c: u64, wire: Wire<R::Message>) {
        let Some(cl) = self.clients.get_mut(&c) else {
            return;
        };
        match wire {
            Wire::Reply { seq, result } => {
                if cl.pending.as_ref().is_none_or(|p| p.request.seq != seq) {
                    return;
                }
                match result {
                    Err(leader) => {
                        let nodes = self.cfg.cluster.nodes;
                        cl.target = leader.unwrap_or(cl.target % nodes + 1);
                        self.resend(c);
                    }
                    Ok((response, hold)) => {
                        let p = cl.pending.take().expect("pending");
                        self.answered(c, &p, &response, hold);
                    }
                }
            }
            Wire::Accessed { op, ok } => {
                let Some((_, _, lock, write)) = cl.access.filter(|a| a.0 == op) else {
                    return;
                };
                cl.access = None;
                if write && ok.is_some() {
                    *self.acknowledged.entry(lock).or_insert(0) += 1;
                    self.summary.increments += 1;
                }
                let Phase::Holding { step, .. } = cl.phase else {
                    return;
                };
                let next = match (step, ok) {
                    // Only a writer increments; a reader read under its token.
                    (Step::Reading, Some(v)) if cl.mode == Mode::Exclusive => Step::Write(v + 1),
                    _ => Step::Release,
                };
                self.set_step(c, next);
            }
            _ => {}
        }
    }

    fn answered(&mut self, c: u64, p: &Pending, response: &Response, hold: Option<Token>) {
        let now = self.now;
        self.event(|| format!("client {c} gets {response:?} hold {hold:?}"));
        if session_gone(response) {
            return self.lose_session(c, now);
        }
        let ttl = self.cfg.ttl_ticks;
        let cl = self.clients.get_mut(&c).expect("client");
        match (&p.request.command, response) {
            (Command::OpenSession { .. }, Response::Opened { session, .. }) => {
                cl.session = Some((*session, p.sent_at + ttl));
                cl.phase = Phase::Idle;
            }
            (Command::KeepAlive { session }, Response::Ok) => {
                if let Some((id, deadline)) = cl.session.as_mut()
                    && id == session
                {
                    *deadline = (*deadline).max(p.sent_at + ttl);
                }
                if let (Phase::Waiting { lock }, Some(token)) = (cl.phase, hold) {
                    self.granted(c, lock, token);
                }
            }
            (Command::Acquire { lock, .. }, answer) => {
                let lock = lock
                    .strip_prefix("lock-")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                match answer {
                    Response::Granted { token } => self.granted(c, lock, *token),
                    Response::Queued { .. } | Response::Refused(LockError::AlreadyWaiting) => {
                        cl.phase = Phase::Waiting { lock };
                        cl.next_at = now + POLL_TICKS;
                    }
                    _ => cl.next_at = now + 10,
                }
            }
            _ => {}
        }
    }
}
