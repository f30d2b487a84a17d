//! Client calls waiting on the log: proposals until their index is
//! applied, reads until confirmed and applied.

use std::collections::BTreeMap;

use futures::channel::oneshot;
use synod_protocol::{Index, ReadId, Term};

use crate::error::Error;
use crate::state_machine::StateMachine;

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A linearizable read in flight.
pub(crate) struct PendingRead<S: StateMachine> {
    pub(crate) query: S::Query,
    pub(crate) reply: Reply<S::Answer>,
    /// The tick after which it fails with `Error::Timeout`.
    pub(crate) deadline_tick: u64,
}

/// Every waiting call. Keys are (index, term): a proposal is this
/// command only if the entry applied at its index has its term, and two
/// proposals can wait on one index (appended in different terms, after a
/// leader change truncated the first): the entry decides which, if any.
pub(crate) struct Pending<S: StateMachine> {
    proposals: BTreeMap<(Index, Term), Reply<S::Response>>,
    changes: BTreeMap<(Index, Term), Reply<Index>>,
    unconfirmed: BTreeMap<ReadId, PendingRead<S>>,
    confirmed: BTreeMap<(Index, ReadId), PendingRead<S>>,
    /// Answers sent so far (proposals and reads served).
    pub(crate) answered: u64,
}

impl<S: StateMachine> Default for Pending<S> {
    fn default() -> Self {
        Self {
            proposals: BTreeMap::new(),
            changes: BTreeMap::new(),
            unconfirmed: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            answered: 0,
        }
    }
}

impl<S: StateMachine> Pending<S> {
    pub(crate) fn proposals(&self) -> usize {
        self.proposals.len() + self.changes.len()
    }

    pub(crate) fn reads(&self) -> usize {
        self.unconfirmed.len() + self.confirmed.len()
    }

    pub(crate) fn add_proposal(&mut self, index: Index, term: Term, reply: Reply<S::Response>) {
        // A second call for the same (index, term) cannot happen: the
        // protocol appends one entry per index per term.
        self.proposals.insert((index, term), reply);
    }

    pub(crate) fn add_change(&mut self, index: Index, term: Term, reply: Reply<Index>) {
        self.changes.insert((index, term), reply);
    }

    pub(crate) fn add_read(&mut self, id: ReadId, read: PendingRead<S>) {
        self.unconfirmed.insert(id, read);
    }

    /// The entry (index, term) was applied and produced `response` if it
    /// was a command. Resolves every call waiting on that index.
    pub(crate) fn applied(&mut self, index: Index, term: Term, response: Option<S::Response>) {
        let mut response = response;
        let keys: Vec<(Index, Term)> = self
            .proposals
            .range((index, 0)..=(index, Term::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            if let Some(reply) = self.proposals.remove(&key) {
                let answer = match (key.1 == term, response.take()) {
                    (true, Some(r)) => Ok(r),
                    _ => Err(Error::Lost),
                };
                // The caller may have stopped waiting; nothing to do then.
                let _ = reply.send(answer);
                self.answered += 1;
            }
        }
        let keys: Vec<(Index, Term)> = self
            .changes
            .range((index, 0)..=(index, Term::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            if let Some(reply) = self.changes.remove(&key) {
                let answer = if key.1 == term && response.is_none() {
                    Ok(index)
                } else {
                    Err(Error::Lost)
                };
                let _ = reply.send(answer);
            }
        }
    }

    /// A snapshot replaced the state up to `index`: calls waiting at or
    /// below it cannot learn their entry.
    pub(crate) fn restored(&mut self, index: Index) {
        for (_, reply) in take_through(&mut self.proposals, index) {
            let _ = reply.send(Err(Error::Unknown));
        }
        for (_, reply) in take_through(&mut self.changes, index) {
            let _ = reply.send(Err(Error::Unknown));
        }
    }

    /// The protocol confirmed read `id`: it may be served once `index` is
    /// applied.
    pub(crate) fn confirm(&mut self, id: ReadId, index: Index) {
        if let Some(read) = self.unconfirmed.remove(&id) {
            self.confirmed.insert((index, id), read);
        }
    }

    /// Serves the confirmed reads whose index is applied.
    pub(crate) fn serve(&mut self, applied: Index, state: &S) {
        for (_, read) in take_through(&mut self.confirmed, applied) {
            let _ = read.reply.send(Ok(state.query(&read.query)));
            self.answered += 1;
        }
    }

    /// Fails reads past their deadline and forgets calls whose callers
    /// stopped waiting.
    pub(crate) fn expire(&mut self, now_tick: u64) {
        let late: Vec<ReadId> = self
            .unconfirmed
            .iter()
            .filter(|(_, r)| r.deadline_tick < now_tick || r.reply.is_canceled())
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some(read) = self.unconfirmed.remove(&id) {
                let _ = read.reply.send(Err(Error::Timeout));
            }
        }
        self.confirmed.retain(|_, r| !r.reply.is_canceled());
        self.proposals.retain(|_, r| !r.is_canceled());
        self.changes.retain(|_, r| !r.is_canceled());
    }

    /// Fails everything with `Error::Stopped`; returns (proposals, reads).
    pub(crate) fn stop(&mut self) -> (usize, usize) {
        let counts = (self.proposals(), self.reads());
        for (_, r) in std::mem::take(&mut self.proposals) {
            let _ = r.send(Err(Error::Stopped));
        }
        for (_, r) in std::mem::take(&mut self.changes) {
            let _ = r.send(Err(Error::Stopped));
        }
        for (_, r) in std::mem::take(&mut self.unconfirmed) {
            let _ = r.reply.send(Err(Error::Stopped));
        }
        for (_, r) in std::mem::take(&mut self.confirmed) {
            let _ = r.reply.send(Err(Error::Stopped));
        }
        counts
    }
}

/// Removes and returns the entries keyed at or below `index` (the second
/// key, a term or a read id, is a `u64` in every map here).
fn take_through<V>(map: &mut BTreeMap<(Index, u64), V>, index: Index) -> BTreeMap<(Index, u64), V> {
    match index.checked_add(1) {
        Some(next) => {
            let later = map.split_off(&(next, 0));
            std::mem::replace(map, later)
        }
        None => std::mem::take(map),
    }
}
