//! Locks: the holders with their fencing tokens and modes, and the FIFO
//! queue of waiters. One lock name serves as an exclusive lock, a
//! read-write lock (exclusive = writer, shared = readers) or a counting
//! semaphore (permits), by the modes its acquirers ask for.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::command::{Mode, SessionId, Token};

/// A session waiting for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Waiter {
    pub(crate) session: SessionId,
    pub(crate) mode: Mode,
    /// It gives up at this log time (`None`: never).
    pub(crate) deadline_ms: Option<u64>,
}

/// One lock's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Lock {
    /// The holders: their mode and the token each was granted.
    /// Invariant: one exclusive holder alone, or shared holders only, or
    /// at most `capacity` permit holders of one capacity.
    pub(crate) holders: BTreeMap<SessionId, (Mode, Token)>,
    /// Invariant: its head is never admitted (it would have been granted),
    /// so no holders and no delay means no queue.
    pub(crate) queue: VecDeque<Waiter>,
    /// Holds beyond the first, per holder (re-entries of a reentrant
    /// lock). Invariant: every key is a holder.
    pub(crate) reentries: BTreeMap<SessionId, u32>,
    /// Granted to nobody before this log time (a holder's session expired
    /// with a lock-delay).
    pub(crate) delayed_until_ms: u64,
}

impl Lock {
    /// Nothing to keep at log time `now_ms`.
    pub(crate) fn is_idle(&self, now_ms: u64) -> bool {
        self.holders.is_empty() && self.queue.is_empty() && now_ms >= self.delayed_until_ms
    }

    pub(crate) fn position(&self, session: SessionId) -> Option<usize> {
        self.queue.iter().position(|w| w.session == session)
    }

    /// Whether `mode` may be granted at log time `now_ms` next to the
    /// current holders.
    pub(crate) fn admits(&self, mode: Mode, now_ms: u64) -> bool {
        if now_ms < self.delayed_until_ms {
            return false;
        }
        let mut modes = self.holders.values().map(|(m, _)| *m);
        match mode {
            Mode::Exclusive => self.holders.is_empty(),
            Mode::Shared => modes.all(|m| m == Mode::Shared),
            Mode::Permit { capacity } => {
                modes.all(|m| m == mode) && self.holders.len() < capacity as usize
            }
        }
    }

    /// Whether `mode` fits this lock's use at all: one semaphore capacity
    /// per lock, and a semaphore is not a read-write lock.
    pub(crate) fn fits(&self, mode: Mode) -> bool {
        let semaphore = |m: Mode| matches!(m, Mode::Permit { .. });
        self.holders
            .values()
            .map(|(m, _)| *m)
            .chain(self.queue.iter().map(|w| w.mode))
            .all(|m| {
                if semaphore(m) || semaphore(mode) {
                    m == mode
                } else {
                    true
                }
            })
    }
}
