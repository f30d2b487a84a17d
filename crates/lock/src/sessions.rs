//! Sessions: a time-to-live renewed by keep-alives in log time, and what
//! each session holds and waits for (so its end releases all of it).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::command::{ClientId, LockName, SessionId};

/// One open session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    /// The client that opened it.
    pub(crate) client: ClientId,
    pub(crate) ttl_ms: u64,
    /// Invariant: the session is open while `now_ms < expires_ms`.
    pub(crate) expires_ms: u64,
    /// Locks it holds.
    pub(crate) held: BTreeSet<LockName>,
    /// Locks whose queue it is in.
    pub(crate) waiting: BTreeSet<LockName>,
    /// Log time its locks stay ungranted after it expires.
    pub(crate) lock_delay_ms: u64,
}

/// Every open session, by id.
pub(crate) type Sessions = BTreeMap<SessionId, Session>;

/// The sessions whose time ran out at `now_ms`, in id order.
pub(crate) fn expired(sessions: &Sessions, now_ms: u64) -> Vec<SessionId> {
    sessions
        .iter()
        .filter(|(_, s)| s.expires_ms <= now_ms)
        .map(|(&id, _)| id)
        .collect()
}
