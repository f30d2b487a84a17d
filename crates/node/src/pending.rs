//! Client calls waiting on the log: proposals until their index is
//! applied, reads until confirmed and applied.

use std::collections::{BTreeMap, VecDeque};

use synod_protocol::{Index, ReadId, Term};

use crate::error::Error;
use crate::reply;
use crate::state_machine::StateMachine;

type Reply<T> = reply::Sender<Result<T, Error>>;

/// A proposal waiting for the entry at `index` to be applied.
struct Proposal<R> {
    index: Index,
    term: Term,
    reply: Reply<R>,
}

impl<R> Proposal<R> {
    fn key(&self) -> (Index, Term) {
        (self.index, self.term)
    }
}

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
    /// Sorted by (index, term). A leader appends at rising indexes, so a
    /// proposal almost always goes at the back and is answered from the
    /// front: a queue, not a search tree, on the path every write takes.
    proposals: VecDeque<Proposal<S::Response>>,
    changes: BTreeMap<(Index, Term), Reply<Index>>,
    unconfirmed: BTreeMap<ReadId, PendingRead<S>>,
    confirmed: BTreeMap<(Index, ReadId), PendingRead<S>>,
    /// Answers sent so far (proposals and reads served).
    pub(crate) answered: u64,
}

impl<S: StateMachine> Default for Pending<S> {
    fn default() -> Self {
        Self {
            proposals: VecDeque::new(),
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
        let proposal = Proposal { index, term, reply };
        match self.proposals.back() {
            Some(last) if last.key() >= (index, term) => {
                // Below a proposal of an earlier term that a leader change
                // cut off (the node leads again and appends lower).
                let at = self.proposals.partition_point(|p| p.key() < (index, term));
                self.proposals.insert(at, proposal);
            }
            _ => self.proposals.push_back(proposal),
        }
    }

    pub(crate) fn add_change(&mut self, index: Index, term: Term, reply: Reply<Index>) {
        self.changes.insert((index, term), reply);
    }

    pub(crate) fn add_read(&mut self, id: ReadId, read: PendingRead<S>) {
        self.unconfirmed.insert(id, read);
    }

    /// The entry (index, term) was applied and produced `response` if it
    /// was a command. Resolves every call waiting on that index.
    #[inline]
    pub(crate) fn applied(&mut self, index: Index, term: Term, response: Option<S::Response>) {
        // A follower applies every entry and waits on none of them: one
        // check, without the call below (whose prologue alone cost more).
        if self.proposals.is_empty() && self.changes.is_empty() {
            return;
        }
        self.resolve(index, term, response);
    }

    fn resolve(&mut self, index: Index, term: Term, response: Option<S::Response>) {
        let is_command = response.is_some();
        let mut response = response;
        // Every call keyed at this index is decided now: the one appended
        // in the applied entry's term gets its response; any other (a
        // proposal this node appended in an earlier term and lost to a
        // leader change) is lost.
        while let Some(front) = self.proposals.front()
            && front.index <= index
        {
            let Some(p) = self.proposals.pop_front() else {
                break;
            };
            let answer = if p.index < index {
                // Entries are applied in order and a snapshot takes the
                // calls below it, so none waits below the applied index;
                // if one ever did, its outcome is not known here.
                Err(Error::Unknown)
            } else {
                match response.take_if(|_| p.term == term) {
                    Some(r) => Ok(r),
                    None => Err(Error::Lost),
                }
            };
            // The caller may have stopped waiting; nothing to do then.
            let _ = p.reply.send(answer);
            self.answered += 1;
        }
        if self.changes.is_empty() {
            return;
        }
        while let Some((&key, _)) = self.changes.range((index, 0)..=(index, Term::MAX)).next() {
            let Some(reply) = self.changes.remove(&key) else {
                break;
            };
            let answer = if key.1 == term && !is_command {
                Ok(index)
            } else {
                Err(Error::Lost)
            };
            let _ = reply.send(answer);
            self.answered += 1;
        }
    }

    /// A snapshot replaced the state up to `index`: calls waiting at or
    /// below it cannot learn their entry.
    pub(crate) fn restored(&mut self, index: Index) {
        while let Some(front) = self.proposals.front()
            && front.index <= index
        {
            if let Some(p) = self.proposals.pop_front() {
                let _ = p.reply.send(Err(Error::Unknown));
            }
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
        self.proposals.retain(|p| !p.reply.is_canceled());
        self.changes.retain(|_, r| !r.is_canceled());
    }

    /// Fails everything; returns (proposals, reads). Proposals and
    /// membership changes get `Error::Unknown`, never `Error::Stopped`:
    /// they were appended and sent to followers, so they may still commit
    /// under another leader (seen in the nemesis suite: a leader whose
    /// disk failed answered "stopped" for a write the next leader
    /// committed). Reads change nothing and get `Error::Stopped`.
    pub(crate) fn stop(&mut self) -> (usize, usize) {
        let counts = (self.proposals(), self.reads());
        for p in std::mem::take(&mut self.proposals) {
            let _ = p.reply.send(Err(Error::Unknown));
        }
        for (_, r) in std::mem::take(&mut self.changes) {
            let _ = r.send(Err(Error::Unknown));
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::FutureExt;
    use futures::task::noop_waker;

    use super::*;

    /// A state machine that is never applied: the tests drive `Pending`
    /// with responses directly.
    #[derive(Debug, Default)]
    struct Unused;

    impl StateMachine for Unused {
        type Response = &'static str;
        type Query = ();
        type Answer = ();
        fn apply(&mut self, _: u64, _: &Bytes) -> &'static str {
            ""
        }
        fn query(&self, (): &()) {}
        fn snapshot(&self) -> Bytes {
            Bytes::new()
        }
        fn restore(&mut self, _: &Bytes) -> Result<(), String> {
            Ok(())
        }
    }

    fn answer<T>(rx: reply::Receiver<T>) -> Option<T> {
        rx.now_or_never().and_then(Result::ok)
    }

    fn channel<T>() -> (reply::Sender<T>, reply::Receiver<T>) {
        reply::channel(noop_waker())
    }

    #[test]
    fn the_proposal_of_the_applied_term_gets_the_response_whatever_waits_before_it() {
        // Appended at 5 in term 2, lost when a new leader truncated it;
        // appended at 5 again in term 4, which is what commits.
        let mut p = Pending::<Unused>::default();
        let (old, old_rx) = channel();
        let (new, new_rx) = channel();
        let (later, later_rx) = channel();
        p.add_proposal(5, 2, old);
        p.add_proposal(5, 4, new);
        p.add_proposal(5, 6, later);
        p.applied(5, 4, Some("done"));
        assert_eq!(answer(new_rx), Some(Ok("done")));
        assert_eq!(answer(old_rx), Some(Err(Error::Lost)));
        assert_eq!(answer(later_rx), Some(Err(Error::Lost)));
        assert_eq!(p.proposals(), 0);
        assert_eq!(p.answered, 3);
    }

    #[test]
    fn a_leader_that_appends_below_its_earlier_proposals_keeps_them_in_order() {
        // Proposed at 7 and 8 in term 2; the node lost leadership, led
        // again in term 4 and appended at 6 (the log was truncated).
        let mut p = Pending::<Unused>::default();
        let (seven, seven_rx) = channel();
        let (eight, eight_rx) = channel();
        let (six, six_rx) = channel();
        let (seven_again, seven_again_rx) = channel();
        p.add_proposal(7, 2, seven);
        p.add_proposal(8, 2, eight);
        p.add_proposal(6, 4, six);
        p.add_proposal(7, 4, seven_again);
        p.applied(6, 4, Some("six"));
        assert_eq!(answer(six_rx), Some(Ok("six")));
        assert_eq!(p.proposals(), 3, "nothing above 6 answered yet");
        p.applied(7, 4, Some("seven"));
        assert_eq!(answer(seven_rx), Some(Err(Error::Lost)));
        assert_eq!(answer(seven_again_rx), Some(Ok("seven")));
        p.applied(8, 4, Some("eight"));
        assert_eq!(answer(eight_rx), Some(Err(Error::Lost)));
        assert_eq!(p.proposals(), 0);
    }

    #[test]
    fn a_call_left_below_the_applied_index_is_answered_unknown_not_kept() {
        let mut p = Pending::<Unused>::default();
        let (stale, stale_rx) = channel();
        let (due, due_rx) = channel();
        p.add_proposal(3, 1, stale);
        p.add_proposal(5, 1, due);
        p.applied(5, 1, Some("five"));
        assert_eq!(answer(stale_rx), Some(Err(Error::Unknown)));
        assert_eq!(answer(due_rx), Some(Ok("five")));
        assert_eq!(p.proposals(), 0);
    }

    #[test]
    fn a_membership_change_succeeds_only_on_its_own_entry() {
        let mut p = Pending::<Unused>::default();
        let (change, change_rx) = channel();
        let (lost, lost_rx) = channel();
        p.add_change(7, 3, change);
        p.add_change(8, 3, lost);
        p.applied(7, 3, None);
        // A command took index 8.
        p.applied(8, 3, Some("x"));
        assert_eq!(answer(change_rx), Some(Ok(7)));
        assert_eq!(answer(lost_rx), Some(Err(Error::Lost)));
    }

    #[test]
    fn a_snapshot_over_waiting_calls_leaves_their_outcome_unknown() {
        let mut p = Pending::<Unused>::default();
        let (below, below_rx) = channel();
        let (above, above_rx) = channel();
        p.add_proposal(3, 1, below);
        p.add_proposal(9, 1, above);
        p.restored(5);
        assert_eq!(answer(below_rx), Some(Err(Error::Unknown)));
        assert_eq!(p.proposals(), 1);
        p.restored(u64::MAX);
        assert_eq!(answer(above_rx), Some(Err(Error::Unknown)));
    }
}
