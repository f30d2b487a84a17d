//! Checks on the replicated log of lock commands: every replica answers
//! each entry alike, and the grants, releases and expiries it logs keep
//! mutual exclusion, rising tokens and the session re-check, in log order.

use std::collections::{BTreeMap, BTreeSet};

use synod_lock::{Event, LockName, Mode, Response, SessionId, Token};

use super::LockViolation;

/// What the first replica to apply an index made of it.
type FirstApplied<P> = (u64, P, Response, Vec<Event>);

/// The log-order state of the checks.
#[derive(Debug)]
pub(super) struct LogChecks<P> {
    first: BTreeMap<u64, FirstApplied<P>>,
    holders: BTreeMap<LockName, BTreeMap<SessionId, (Mode, Token)>>,
    last_token: Token,
    expired_sessions: BTreeSet<SessionId>,
    /// Sessions that expired, so far.
    pub(super) expired: u64,
}

impl<P> Default for LogChecks<P> {
    fn default() -> Self {
        Self {
            first: BTreeMap::new(),
            holders: BTreeMap::new(),
            last_token: 0,
            expired_sessions: BTreeSet::new(),
            expired: 0,
        }
    }
}

impl<P: Clone + PartialEq> LogChecks<P> {
    /// Replica `node` applied `payload` (committed in `term`) at `index`,
    /// answering `response` and logging `events`.
    pub(super) fn applied(
        &mut self,
        node: u64,
        index: u64,
        term: u64,
        payload: &P,
        response: &Response,
        events: Vec<Event>,
    ) -> Option<LockViolation> {
        if let Some((t, p, r, ev)) = self.first.get(&index) {
            let same = *t == term && p == payload && r == response && *ev == events;
            return (!same).then_some(LockViolation::Diverged { index, node });
        }
        // Replicas apply in index order and a snapshot holds only applied
        // entries, so first applications arrive in log order.
        let verdict = self.in_log_order(index, &events);
        self.first
            .insert(index, (term, payload.clone(), response.clone(), events));
        verdict
    }

    fn in_log_order(&mut self, index: u64, events: &[Event]) -> Option<LockViolation> {
        let bad = |what: String| Some(LockViolation::BadGrant { index, what });
        let mut granted_here = BTreeSet::new();
        for event in events {
            match event {
                Event::Granted {
                    lock,
                    session,
                    mode,
                    token,
                } => {
                    if *token <= self.last_token {
                        return bad(format!("token {token} after {}", self.last_token));
                    }
                    self.last_token = *token;
                    if self.expired_sessions.contains(session) {
                        return Some(LockViolation::GrantedToExpired {
                            index,
                            session: *session,
                        });
                    }
                    let holders = self.holders.entry(lock.clone()).or_default();
                    let clash = holders
                        .values()
                        .any(|(m, _)| *m == Mode::Exclusive || *mode == Mode::Exclusive);
                    if clash {
                        return bad(format!("{lock:?} granted to {session} while held"));
                    }
                    if let Mode::Permit { capacity } = mode
                        && holders.len() >= *capacity as usize
                    {
                        return bad(format!("{lock:?}: a permit past its {capacity}"));
                    }
                    holders.insert(*session, (*mode, *token));
                    granted_here.insert(*session);
                }
                Event::Released {
                    lock,
                    session,
                    token,
                } => {
                    let held = self.holders.get_mut(lock).and_then(|h| h.remove(session));
                    if held.map(|(_, t)| t) != Some(*token) {
                        return bad(format!("{lock:?} released by non-holder {session}"));
                    }
                }
                Event::Expired { session } => {
                    self.expired += 1;
                    self.expired_sessions.insert(*session);
                    if granted_here.contains(session) {
                        return Some(LockViolation::GrantedToExpired {
                            index,
                            session: *session,
                        });
                    }
                }
                _ => {}
            }
        }
        None
    }
}
