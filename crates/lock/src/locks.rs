//! Locks: the holder with its fencing token, and the FIFO queue of waiters.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::command::{SessionId, Token};

/// A session waiting for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Waiter {
    pub(crate) session: SessionId,
    /// It gives up at this log time (`None`: never).
    pub(crate) deadline_ms: Option<u64>,
}

/// One lock's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Lock {
    /// The holder and the token it was granted.
    pub(crate) holder: Option<(SessionId, Token)>,
    /// Invariant: empty when there is no holder (a release grants the
    /// next live waiter at once).
    pub(crate) queue: VecDeque<Waiter>,
}

impl Lock {
    pub(crate) fn is_idle(&self) -> bool {
        self.holder.is_none() && self.queue.is_empty()
    }

    pub(crate) fn position(&self, session: SessionId) -> Option<usize> {
        self.queue.iter().position(|w| w.session == session)
    }
}
