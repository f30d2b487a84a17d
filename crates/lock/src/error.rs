//! Why a command was refused (returned in `Response::Refused`, replicated
//! like any answer), and why bytes were not a command.

use serde::{Deserialize, Serialize};

/// A refusal. Every one is decided by the replicated state alone, so every
/// replica answers the same.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LockError {
    /// The bytes proposed are not a request.
    #[error("undecodable request")]
    Undecodable,
    /// A sequence number below the client's latest: an old retry.
    #[error("request {seq} is older than the client's latest ({latest})")]
    StaleRequest {
        /// The request's.
        seq: u64,
        /// The latest seen from that client.
        latest: u64,
    },
    /// The session does not exist or has ended.
    #[error("session {0} is not open")]
    NoSession(u64),
    /// A time-to-live of zero, or past the limit.
    #[error("time-to-live {0} ms is out of range")]
    BadTtl(u64),
    /// A lock-delay past the limit.
    #[error("lock-delay {0} ms is out of range")]
    BadLockDelay(u64),
    /// The session already holds the lock (locks are not reentrant).
    #[error("already held by this session")]
    AlreadyHeld,
    /// The session already waits for the lock.
    #[error("already waiting for this lock")]
    AlreadyWaiting,
    /// The mode does not fit the lock's use: a semaphore of another
    /// capacity, a semaphore asked for as a read-write lock or the reverse,
    /// a capacity of 0, or a downgrade of a hold that is not exclusive.
    #[error("mode does not fit the lock")]
    WrongMode,
    /// A try-lock (or a full queue) found the lock held.
    #[error("the lock is held")]
    Busy,
    /// The session does not hold the lock with that token.
    #[error("not the holder with that token")]
    NotHolder,
    /// The session does not wait for the lock.
    #[error("not waiting")]
    NotWaiting,
    /// A write's guard failed: the lock is not held with that token (it
    /// was released or taken over).
    #[error("lock {lock:?} is not held with token {token}")]
    GuardFailed {
        /// The lock.
        lock: String,
        /// The token the writer presented.
        token: u64,
    },
    /// A write's version check failed.
    #[error("key {key:?} is at version {actual}, not {expected}")]
    VersionMismatch {
        /// The key.
        key: String,
        /// The version the writer expected.
        expected: u64,
        /// The version it is at.
        actual: u64,
    },
    /// A lock name too long, or a limit on locks, waiters or sessions.
    #[error("limit reached: {0}")]
    Limit(String),
}
