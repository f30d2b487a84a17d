//! What clients and the leader propose, and what the machine answers.

use serde::{Deserialize, Serialize};

use crate::error::LockError;

/// A client library instance: picked at random by the client (64 bits),
/// names its exactly-once table entry.
pub type ClientId = u64;
/// A session: the log index of the command that opened it (unique).
pub type SessionId = u64;
/// A fencing token: strictly increasing across every grant of every lock.
pub type Token = u64;
/// A lock's name.
pub type LockName = String;

impl Request {
    /// The bytes to propose.
    #[must_use]
    pub fn encode(&self) -> bytes::Bytes {
        // Plain data: encoding to a Vec cannot fail.
        bytes::Bytes::from(postcard::to_stdvec(self).unwrap_or_default())
    }

    /// A request from proposed bytes.
    ///
    /// # Errors
    /// [`LockError::Undecodable`] for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, LockError> {
        postcard::from_bytes(bytes).map_err(|_| LockError::Undecodable)
    }
}

/// One proposed command with its exactly-once envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The client that sends it.
    pub client: ClientId,
    /// Its sequence number from that client: a repeat of the latest is a
    /// retry (answered from the table), anything older is refused.
    pub seq: u64,
    /// What it asks.
    pub command: Command,
}

/// What a request asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The leader's time stamp (log time, milliseconds) in its term. Sent
    /// by the service, not by clients.
    Clock {
        /// The proposing leader's term.
        term: u64,
        /// Its clock, milliseconds.
        now_ms: u64,
    },
    /// Opens a session that expires `ttl_ms` after its last keep-alive.
    OpenSession {
        /// The time-to-live.
        ttl_ms: u64,
    },
    /// Extends a session by its time-to-live from the next clock stamp
    /// (log time now is the last stamp's, which may predate the client
    /// sending this; the client counts from its send time, so the service
    /// must count from later than that).
    KeepAlive {
        /// The session.
        session: SessionId,
    },
    /// Sets the session's lock-delay (Chubby's, for holders that cannot
    /// pass fencing tokens to what they guard): when the session *expires*
    /// (not when it is closed), each lock it held is granted to nobody for
    /// `delay_ms` of log time, so a paused holder's late writes land before
    /// anyone else holds the lock. At most `Limits::max_lock_delay_ms`.
    SetLockDelay {
        /// The session.
        session: SessionId,
        /// The delay.
        delay_ms: u64,
    },
    /// Closes a session, releasing what it holds.
    CloseSession {
        /// The session.
        session: SessionId,
    },
    /// Acquires a lock in `mode`: granted now, or queued (FIFO: once
    /// anyone waits, later acquirers wait behind them) until it can be, at
    /// most until `wait_ms` from now (`None`: until granted or cancelled;
    /// `Some(0)`: a try-lock that never queues).
    Acquire {
        /// The session that will hold it.
        session: SessionId,
        /// The lock.
        lock: LockName,
        /// Exclusive, shared (a reader of a read-write lock), or a permit
        /// of a semaphore.
        mode: Mode,
        /// How long to wait in the queue.
        wait_ms: Option<u64>,
    },
    /// Turns an exclusive hold into a shared one (same token), letting the
    /// readers queued behind in.
    Downgrade {
        /// The holder's session.
        session: SessionId,
        /// The lock.
        lock: LockName,
        /// The token it was granted with.
        token: Token,
    },
    /// Releases a lock held with `token`.
    Release {
        /// The holder's session.
        session: SessionId,
        /// The lock.
        lock: LockName,
        /// The token it was granted with.
        token: Token,
    },
    /// Leaves a lock's queue.
    Cancel {
        /// The waiting session.
        session: SessionId,
        /// The lock.
        lock: LockName,
    },
    /// Sets how often one session may hold `lock` at once (kept for the
    /// name whether or not the lock is in use). A re-entry is granted with
    /// the same token and needs as many releases.
    SetReentrancy {
        /// The lock.
        lock: LockName,
        /// The rule.
        reentrancy: Reentrancy,
    },
    /// An all-or-nothing write to the versioned map (the etcd transaction
    /// pattern): applied only if every guard and every version check
    /// holds, so a writer whose lock was taken over (a stale token) writes
    /// nothing.
    Write(Write),
}

/// Whether a session that holds a lock may acquire it again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reentrancy {
    /// No: a second acquire is refused (`AlreadyHeld`). The default.
    #[default]
    Off,
    /// Up to this many holds at once.
    Limit(u32),
    /// Any number of holds.
    Unlimited,
}

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Alone (a mutex, or the writer of a read-write lock).
    Exclusive,
    /// With other shared holders (readers of a read-write lock).
    Shared,
    /// One of at most `capacity` permits (a counting semaphore); every
    /// acquirer of the lock must name the same capacity.
    Permit {
        /// The semaphore's permits.
        capacity: u32,
    },
}

/// A guarded write to the versioned map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// Each lock must be held with exactly this token.
    pub guards: Vec<(LockName, Token)>,
    /// Each key must be at this version (0: absent).
    pub checks: Vec<(String, u64)>,
    /// The new values, in order (`None` deletes).
    pub puts: Vec<(String, Option<Vec<u8>>)>,
}

/// What a command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// Done, nothing to report.
    Ok,
    /// A session was opened.
    Opened {
        /// Its id.
        session: SessionId,
        /// When it expires, log time.
        expires_ms: u64,
    },
    /// The lock is granted.
    Granted {
        /// The fencing token to pass to every resource it guards.
        token: Token,
    },
    /// Queued behind `ahead` waiters; the grant arrives as an
    /// [`Event::Granted`].
    Queued {
        /// Waiters before this one.
        ahead: u64,
    },
    /// A write was applied; every key it put is now at `version` (the log
    /// index of the write: versions only rise).
    Written {
        /// The keys' new version.
        version: u64,
    },
    /// Refused.
    Refused(LockError),
}

/// Something that happened, in log order, for clients that watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A lock was granted (at once or from its queue).
    Granted {
        /// The lock.
        lock: LockName,
        /// The new holder.
        session: SessionId,
        /// How it holds it.
        mode: Mode,
        /// Its token.
        token: Token,
    },
    /// A lock was released (by its holder, or because its session ended).
    Released {
        /// The lock.
        lock: LockName,
        /// The former holder.
        session: SessionId,
        /// Its token.
        token: Token,
    },
    /// A waiter's deadline passed; it left the queue.
    TimedOut {
        /// The lock.
        lock: LockName,
        /// The waiter.
        session: SessionId,
    },
    /// A session expired (no keep-alive within its time-to-live).
    Expired {
        /// The session.
        session: SessionId,
    },
}
