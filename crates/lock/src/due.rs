//! What falls due at each clock stamp, indexed by time: session expiries,
//! sessions to renew, waiters' deadlines and lock-delays. Derived from the
//! state (never serialized, rebuilt on restore), so a stamp costs what it
//! ends, not the size of the state: with 100,000 sessions a stamp used to
//! scan all of them.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::{LockName, SessionId};
use crate::locks::Lock;
use crate::sessions::Sessions;

/// The indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Due {
    /// Every open session by (expiry, id).
    pub(crate) expiries: BTreeSet<(u64, SessionId)>,
    /// Sessions kept alive since the last stamp (it renews them).
    pub(crate) renewing: BTreeSet<SessionId>,
    /// Every waiter with a deadline by (deadline, lock, session).
    pub(crate) deadlines: BTreeSet<(u64, LockName, SessionId)>,
    /// Every lock under a lock-delay by (until, lock).
    pub(crate) delays: BTreeSet<(u64, LockName)>,
}

impl Due {
    /// The indexes of `sessions` and `locks`.
    pub(crate) fn of(sessions: &Sessions, locks: &BTreeMap<LockName, Lock>) -> Self {
        let mut due = Self::default();
        for (&id, s) in sessions {
            due.expiries.insert((s.expires_ms, id));
            if s.renewing {
                due.renewing.insert(id);
            }
        }
        for (name, lock) in locks {
            for w in &lock.queue {
                if let Some(d) = w.deadline_ms {
                    due.deadlines.insert((d, name.clone(), w.session));
                }
            }
            if lock.delayed_until_ms != 0 {
                due.delays.insert((lock.delayed_until_ms, name.clone()));
            }
        }
        due
    }

    /// Sessions whose expiry is at or before `now`, in (expiry, id) order.
    pub(crate) fn expired(&self, now: u64) -> Vec<SessionId> {
        (self.expiries.range(..=(now, SessionId::MAX)))
            .map(|&(_, id)| id)
            .collect()
    }

    /// Waiters whose deadline is at or before `now`.
    pub(crate) fn timed_out(&self, now: u64) -> Vec<(u64, LockName, SessionId)> {
        (self.deadlines.iter())
            .take_while(|(d, _, _)| *d <= now)
            .cloned()
            .collect()
    }

    /// Lock-delays that ended at or before `now`.
    pub(crate) fn delays_ended(&self, now: u64) -> Vec<(u64, LockName)> {
        (self.delays.iter())
            .take_while(|(d, _)| *d <= now)
            .cloned()
            .collect()
    }
}
