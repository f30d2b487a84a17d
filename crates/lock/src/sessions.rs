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
    /// A keep-alive (or the open) was applied after the last stamp: the
    /// next stamp renews the session by its time-to-live from *its* time.
    /// Log time at the keep-alive is the last stamp's, which can predate
    /// the client sending it; counting from it would end the session
    /// before the client's own deadline (sent + TTL) runs out (found by
    /// the lock simulator: two holders at once, seed 573).
    pub(crate) renewing: bool,
    /// Locks it holds.
    pub(crate) held: BTreeSet<LockName>,
    /// Locks whose queue it is in.
    pub(crate) waiting: BTreeSet<LockName>,
    /// Log time its locks stay ungranted after it expires.
    pub(crate) lock_delay_ms: u64,
}

/// Every open session, by id.
pub(crate) type Sessions = BTreeMap<SessionId, Session>;
