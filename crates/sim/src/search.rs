//! The search behind every check: Wing & Gong's, with Lowe's memoization
//! (the approach of Porcupine), over one part's operations, resumable so
//! that many parts can share a budget round by round; and the narrowing of
//! a failure to its smallest failing window.

use crate::memo::Memo;
use crate::model::Model;

/// One operation as the search sees it.
pub(crate) struct SearchOp<'h, M: Model> {
    pub(crate) input: &'h M::Input,
    /// `None`: unknown outcome (any output).
    pub(crate) output: Option<&'h M::Output>,
    pub(crate) invoked: u64,
    /// `u64::MAX` for an unknown outcome.
    pub(crate) returned: u64,
}

/// What a search of one part found.
pub(crate) enum Search {
    Linearizable,
    Unknown,
    Stuck(Failure),
}

/// A failure narrowed to its smallest window (indexes into the part's
/// operations).
pub(crate) struct Failure {
    /// The longest linearization found of the history cut at `failed_at`.
    pub(crate) linearized: Vec<usize>,
    /// Every operation concurrent with the culprit.
    pub(crate) window: Vec<usize>,
    /// The earliest completion time at which the history (cut there) has
    /// no linearization.
    pub(crate) failed_at: u64,
    /// The operation completing then.
    pub(crate) culprit: usize,
    /// Whether every earlier cut was decided (found linearizable); false
    /// when the budget ran out first, so `failed_at` is the earliest
    /// failing cut proved, not necessarily the earliest there is.
    pub(crate) narrowed: bool,
}

impl Failure {
    /// The same failure with every index `k` read as `ids[k]` (the
    /// part's operations' places in the whole history).
    pub(crate) fn in_history(self, ids: &[usize]) -> Self {
        Self {
            linearized: self.linearized.iter().map(|&k| ids[k]).collect(),
            window: self.window.iter().map(|&k| ids[k]).collect(),
            failed_at: self.failed_at,
            culprit: ids[self.culprit],
            narrowed: self.narrowed,
        }
    }
}

/// Searches `ops` with at most `budget` steps, narrowing a failure (see
/// [`narrow`]).
pub(crate) fn search<M: Model>(model: &M, ops: &[SearchOp<'_, M>], budget: &mut u64) -> Search {
    match Searcher::new(model, ops).run(model, ops, budget) {
        None => Search::Unknown,
        Some(Once::Linearizable) => Search::Linearizable,
        Some(Once::Stuck(linearized, window)) => {
            Search::Stuck(narrow(model, ops, linearized, window, budget))
        }
    }
}

/// Narrows a failure of `ops` (the longest linearization found and the
/// window where the search stopped) to the smallest failing window: the
/// earliest completion at which the history, cut there (later
/// completions not yet seen: those operations pending), already has no
/// linearization, and every operation concurrent with the operation
/// completing then. Cuts are monotone (a history with no linearization
/// keeps none as it grows), so a binary search over the completion times
/// finds it in log2(n) searches, paid from `budget`; if that runs out,
/// the narrowest cut proved so far stands.
pub(crate) fn narrow<M: Model>(
    model: &M,
    ops: &[SearchOp<'_, M>],
    mut linearized: Vec<usize>,
    mut window: Vec<usize>,
    budget: &mut u64,
) -> Failure {
    // Candidate cuts: every completion time, and the end (u64::MAX, where
    // pending operations "complete"), which is the whole history and so
    // known to fail.
    let mut times: Vec<u64> = ops.iter().map(|op| op.returned).collect();
    times.push(u64::MAX);
    times.sort_unstable();
    times.dedup();
    let (mut lo, mut hi) = (0, times.len() - 1);
    let mut map: Vec<usize> = (0..ops.len()).collect();
    let mut narrowed = true;
    // Where the search got stuck is nearly always the answer: the earliest
    // completion among the operations it could not place next. Probe that
    // cut, then the one before it, before bisecting: two searches instead
    // of log2(n) when the guess is right, and the same answer either way
    // (each probe only narrows `lo..=hi`, which always holds the first
    // failing cut).
    let guess = (window.iter())
        .map(|&k| ops[k].returned)
        .filter(|&t| t != u64::MAX)
        .min()
        .and_then(|t| times.binary_search(&t).ok());
    let mut probes: Vec<usize> = guess.into_iter().collect();
    while lo < hi {
        let mid = match probes.pop() {
            Some(p) if (lo..hi).contains(&p) => p,
            _ => lo + (hi - lo) / 2,
        };
        // The longest linearization found of a failing cut often already
        // linearizes an earlier cut whole (the cut before the guess,
        // nearly always): then that cut needs no search.
        let known = linearized.iter().map(|&k| map[k]);
        if linearizes_cut(model, ops, known, times[mid]) {
            lo = mid + 1;
            continue;
        }
        let (ids, prefix) = cut_at(ops, times[mid]);
        match Searcher::new(model, &prefix).run(model, &prefix, budget) {
            Some(Once::Stuck(l, w)) => {
                hi = mid;
                (linearized, window, map) = (l, w, ids);
                // The guess failed: is the cut before it linearizable?
                if guess == Some(mid) && mid > lo {
                    probes.push(mid - 1);
                }
            }
            Some(Once::Linearizable) => lo = mid + 1,
            // Out of budget: the narrowest cut proved so far stands.
            None => {
                narrowed = false;
                break;
            }
        }
    }
    let mut failed_at = times[hi];
    if failed_at == u64::MAX && ops.iter().all(|op| op.returned != u64::MAX) {
        // Nothing pending: the end is the last completion (reached when
        // the budget ran out before that cut was proved).
        failed_at = times[times.len().saturating_sub(2)];
    }
    let linearized: Vec<usize> = linearized.iter().map(|&k| map[k]).collect();
    // The culprit: an operation completing at the cut (a cut is a
    // completion time, so one does), the one the search was stuck on if
    // it is one.
    let stuck = window.iter().map(|&k| map[k]);
    let culprit = (stuck.chain(0..ops.len()))
        .find(|&k| ops[k].returned == failed_at)
        .unwrap_or_default();
    let from = ops[culprit].invoked;
    // Every operation concurrent with it (as the cut sees them: an
    // operation completing later is still pending there).
    let window = (0..ops.len())
        .filter(|&k| ops[k].invoked <= failed_at && ops[k].returned >= from)
        .collect();
    Failure {
        linearized,
        window,
        failed_at,
        culprit,
        narrowed,
    }
}

/// Whether `order` (operations of `ops`, each once, in an order that
/// respects real time, as every partial linearization the search finds
/// does) yields a linearization of `ops` cut at `cut`: replayed through
/// the model, with the operations invoked after the cut left out and those
/// completing after it as pending (any output), every step is accepted and
/// every operation completing by the cut is placed. A sufficient proof
/// that the cut is linearizable, in one pass; `false` proves nothing.
fn linearizes_cut<M: Model>(
    model: &M,
    ops: &[SearchOp<'_, M>],
    order: impl Iterator<Item = usize>,
    cut: u64,
) -> bool {
    let mut state = model.init();
    let mut placed = 0usize;
    for k in order {
        let op = &ops[k];
        if op.invoked > cut {
            // Not in the cut. Real time puts every operation completing
            // by the cut before it, so only pending ones follow.
            continue;
        }
        let output = if op.returned <= cut { op.output } else { None };
        match model.step(&state, op.input, output) {
            Some(next) => state = next,
            None => return false,
        }
        placed += usize::from(op.returned <= cut);
    }
    placed == ops.iter().filter(|op| op.returned <= cut).count()
}

/// The history `ops` cut at time `cut`: the operations invoked by then
/// (their indexes, and themselves with a completion after the cut not yet
/// seen: pending).
fn cut_at<'h, M: Model>(ops: &[SearchOp<'h, M>], cut: u64) -> (Vec<usize>, Vec<SearchOp<'h, M>>) {
    let ids: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].invoked <= cut).collect();
    let prefix = (ids.iter())
        .map(|&k| {
            let op = &ops[k];
            let seen = op.returned <= cut;
            SearchOp {
                input: op.input,
                output: if seen { op.output } else { None },
                invoked: op.invoked,
                returned: if seen { op.returned } else { u64::MAX },
            }
        })
        .collect();
    (ids, prefix)
}

/// What a search that finished found (indexes into its operations).
pub(crate) enum Once {
    Linearizable,
    /// The longest linearization found and the window where it stopped.
    Stuck(Vec<usize>, Vec<usize>),
}

/// One invocation or completion in time order.
#[derive(Debug, Clone, Copy)]
struct Event {
    op: usize,
    is_call: bool,
}

/// A search of one part's operations that stops when its budget runs out
/// and goes on, exactly where it stopped, when given more: searching a
/// part in slices costs no more steps than searching it at once.
pub(crate) struct Searcher<M: Model> {
    /// Calls and completions, sorted by time (calls first at equal
    /// times: touching operations count as concurrent).
    events: Vec<Event>,
    /// A doubly linked list over the events not yet linearized, with a
    /// head sentinel at `events.len()`.
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Each operation's call and completion in `events`.
    call_at: Vec<usize>,
    ret_at: Vec<usize>,
    /// Per operation whose outcome is unknown: the latest one invoked
    /// before it (`usize::MAX`: none found) that is also unknown and asks
    /// the same. See [`twins`].
    twin_before: Vec<usize>,
    /// The operations linearized, as a bit set.
    linearized: Vec<u64>,
    /// A hash of that set kept up to date as operations are placed and
    /// removed: the XOR of their keys (Zobrist's hashing).
    set_hash: u64,
    /// Each operation's key in `set_hash`.
    op_keys: Vec<u64>,
    /// Every state reached, once: the search holds states by their place
    /// here, so a state is moved in once and never cloned or dropped
    /// again while the search runs.
    memo: Memo<M::State>,
    /// The linearized operations in order, each with the state before it
    /// (a place in the memo).
    stack: Vec<(usize, usize)>,
    /// The current state (a place in the memo).
    state: usize,
    /// The longest linearization found, and the window where it stopped.
    best: Vec<usize>,
    best_window: Vec<usize>,
    /// The event to consider next.
    entry: usize,
}

impl<M: Model> Searcher<M> {
    /// A search of `ops` from the start.
    pub(crate) fn new(model: &M, ops: &[SearchOp<'_, M>]) -> Self {
        let n = ops.len();
        let mut events: Vec<(u64, u8, Event)> = Vec::with_capacity(2 * n);
        for (k, op) in ops.iter().enumerate() {
            let call = Event {
                op: k,
                is_call: true,
            };
            let ret = Event {
                op: k,
                is_call: false,
            };
            events.push((op.invoked, 0, call));
            events.push((op.returned, 1, ret));
        }
        // The key is unique (an operation's call and completion differ in
        // `order`), so an unstable sort gives the one order there is.
        events.sort_unstable_by_key(|&(t, order, e)| (t, order, e.op));
        let events: Vec<Event> = events.into_iter().map(|(_, _, e)| e).collect();
        let len = events.len();
        let head = len;
        // next[i] = i + 1, the last one none; the head points at 0.
        let mut next: Vec<usize> = (1..=len).collect();
        next.push(if len == 0 { usize::MAX } else { 0 });
        if len > 0 {
            next[len - 1] = usize::MAX;
        }
        // prev[i] = i - 1, the first one the head (whose own is unused).
        let prev: Vec<usize> = std::iter::once(head).chain(0..len).collect();
        let mut call_at = vec![0usize; n];
        let mut ret_at = vec![0usize; n];
        for (i, e) in events.iter().enumerate() {
            if e.is_call {
                call_at[e.op] = i;
            } else {
                ret_at[e.op] = i;
            }
        }
        let words = n.div_ceil(64).max(1);
        let entry = next[head];
        let linearized = vec![0; words];
        let mut memo = Memo::new(words);
        // The start: nothing linearized (a set no step records again, as
        // each step adds an operation).
        let state = memo
            .insert(&linearized, 0, model.init())
            .unwrap_or_default();
        let op_keys = (0..n as u64)
            .map(|k| crate::disk::mix(0x5EED_0F5E_7500_0001, k))
            .collect();
        Self {
            twin_before: twins(ops, &events),
            events,
            next,
            prev,
            call_at,
            ret_at,
            linearized,
            set_hash: 0,
            op_keys,
            memo,
            stack: Vec::new(),
            state,
            best: Vec::new(),
            best_window: Vec::new(),
            entry,
        }
    }

    fn unlink(&mut self, i: usize) {
        let (p, nx) = (self.prev[i], self.next[i]);
        self.next[p] = nx;
        if nx != usize::MAX {
            self.prev[nx] = p;
        }
    }

    fn relink(&mut self, i: usize) {
        let (p, nx) = (self.prev[i], self.next[i]);
        self.next[p] = i;
        if nx != usize::MAX {
            self.prev[nx] = i;
        }
    }

    /// Searches on for at most `budget` steps (taken from it); `None` if
    /// they ran out first (call again to go on). `ops` must be the
    /// operations the search was made for.
    pub(crate) fn run(
        &mut self,
        model: &M,
        ops: &[SearchOp<'_, M>],
        budget: &mut u64,
    ) -> Option<Once> {
        let head = self.events.len();
        while self.entry != usize::MAX {
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            let e = self.events[self.entry];
            let (word, bit) = (e.op / 64, 1u64 << (e.op % 64));
            if e.is_call {
                let op = &ops[e.op];
                let twin = self.twin_before[e.op];
                let twin_waits =
                    twin != usize::MAX && self.linearized[twin / 64] & (1u64 << (twin % 64)) == 0;
                if twin_waits {
                    // Its earlier twin, unplaced, may stand in for it.
                } else if let Some(new_state) =
                    model.step(self.memo.state(self.state), op.input, op.output)
                {
                    self.linearized[word] |= bit;
                    self.set_hash ^= self.op_keys[e.op];
                    let set_hash = self.set_hash;
                    if let Some(reached) = self.memo.insert(&self.linearized, set_hash, new_state) {
                        let before = std::mem::replace(&mut self.state, reached);
                        self.stack.push((e.op, before));
                        self.unlink(self.call_at[e.op]);
                        self.unlink(self.ret_at[e.op]);
                        if self.stack.len() > self.best.len() {
                            self.best.clear();
                            self.best.extend(self.stack.iter().map(|(o, _)| *o));
                            self.best_window.clear();
                        }
                        self.entry = self.next[head];
                        continue;
                    }
                    self.linearized[word] &= !bit;
                    self.set_hash ^= self.op_keys[e.op];
                }
                self.entry = self.next[self.entry];
            } else {
                // A completion reached with its operation unplaced: every
                // ordering of the pending calls before it failed. Record
                // the window at the deepest point, then backtrack.
                if self.stack.len() == self.best.len() && self.best_window.is_empty() {
                    let mut i = self.next[head];
                    while i != usize::MAX && i != self.entry {
                        if self.events[i].is_call {
                            self.best_window.push(self.events[i].op);
                        }
                        i = self.next[i];
                    }
                    self.best_window.push(e.op);
                    self.best_window.sort_unstable();
                    self.best_window.dedup();
                }
                let Some((op, before)) = self.stack.pop() else {
                    let best = std::mem::take(&mut self.best);
                    return Some(Once::Stuck(best, std::mem::take(&mut self.best_window)));
                };
                self.state = before;
                self.linearized[op / 64] &= !(1u64 << (op % 64));
                self.set_hash ^= self.op_keys[op];
                self.relink(self.ret_at[op]);
                self.relink(self.call_at[op]);
                self.entry = self.next[self.call_at[op]];
            }
        }
        Some(Once::Linearizable)
    }
}

/// For each operation whose outcome is unknown, its twin before it: the
/// nearest earlier call (in `events`, so invoked no later) of another
/// unknown operation with an equal input; `usize::MAX` for none.
///
/// Two such operations are interchangeable in any linearization: neither
/// has an answer to match or a completion to precede, and the earlier
/// call may go wherever the later one can. So a search that places an
/// unknown operation only once its twin is placed loses no linearization,
/// and k timed-out copies of one write are explored as k+1 choices (how
/// many took effect) instead of 2^k subsets. The scan back is bounded, so
/// an operation with no twin within reach is simply not constrained.
fn twins<M: Model>(ops: &[SearchOp<'_, M>], events: &[Event]) -> Vec<usize> {
    const REACH: usize = 256;
    let mut twin_before = vec![usize::MAX; ops.len()];
    let unknown = |k: usize| ops[k].output.is_none() && ops[k].returned == u64::MAX;
    let calls: Vec<usize> = (events.iter())
        .filter(|e| e.is_call && unknown(e.op))
        .map(|e| e.op)
        .collect();
    for (i, &k) in calls.iter().enumerate() {
        let earlier = calls[i.saturating_sub(REACH)..i].iter().rev();
        if let Some(&j) = earlier.into_iter().find(|&&j| ops[j].input == ops[k].input) {
            twin_before[k] = j;
        }
    }
    twin_before
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng as _, SeedableRng};

    use super::*;
    use crate::models::{CasInput, CasRegister, RegisterOutput};

    /// A random concurrent register history, some of it wrong.
    fn history(rng: &mut StdRng, n: usize) -> Vec<Raw> {
        (0..n)
            .map(|_| {
                let start = rng.next_u64() % 40;
                let end = start + rng.next_u64() % 12;
                let v = rng.next_u64() % 3;
                let (input, output) = match rng.next_u64() % 3 {
                    0 => (CasInput::Write(v), RegisterOutput::Ok),
                    1 => (CasInput::Read, RegisterOutput::Value(Some(v))),
                    _ => (
                        CasInput::Cas {
                            expect: Some(v),
                            new: (v + 1) % 3,
                        },
                        RegisterOutput::Cas(rng.next_u64().is_multiple_of(2)),
                    ),
                };
                let output = (!rng.next_u64().is_multiple_of(7)).then_some(output);
                let end = if output.is_some() { end } else { u64::MAX };
                (input, output, start, end)
            })
            .collect()
    }

    type Raw = (CasInput, Option<RegisterOutput>, u64, u64);

    fn search_ops(raw: &[Raw]) -> Vec<SearchOp<'_, CasRegister>> {
        (raw.iter())
            .map(|(input, output, invoked, returned)| SearchOp {
                input,
                output: output.as_ref(),
                invoked: *invoked,
                returned: *returned,
            })
            .collect()
    }

    fn outcome(o: Option<Once>) -> String {
        match o {
            None => "unknown".into(),
            Some(Once::Linearizable) => "linearizable".into(),
            Some(Once::Stuck(l, w)) => format!("stuck {l:?} {w:?}"),
        }
    }

    // Searching in slices (what check_model's rounds do) finds exactly what
    // one search finds, in exactly as many steps.
    #[test]
    fn a_search_resumed_in_slices_matches_one_search() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut resumed = 0;
        for _ in 0..300 {
            let n = 4 + (rng.next_u64() % 10) as usize;
            let raw = history(&mut rng, n);
            let ops = search_ops(&raw);
            let mut whole = u64::MAX;
            let once =
                outcome(Searcher::new(&CasRegister, &ops).run(&CasRegister, &ops, &mut whole));
            let slice = 1 + rng.next_u64() % 5;
            let mut s = Searcher::new(&CasRegister, &ops);
            let mut spent = 0;
            let sliced = loop {
                let mut left = slice;
                let found = s.run(&CasRegister, &ops, &mut left);
                spent += slice - left;
                if found.is_some() {
                    break outcome(found);
                }
                resumed += 1;
            };
            assert_eq!(sliced, once, "{raw:?}");
            assert_eq!(spent, u64::MAX - whole, "{raw:?}");
        }
        assert!(
            resumed > 1_000,
            "the slices were too large to resume: {resumed}"
        );
    }

    // Narrowing (probing where the search got stuck, then bisecting) finds
    // exactly the first failing cut that trying every cut in order finds,
    // on hundreds of random failing histories.
    #[test]
    fn narrowing_finds_the_first_failing_cut_a_linear_scan_finds() {
        let mut rng = StdRng::seed_from_u64(12);
        let (mut failing, mut guessed_wrong) = (0, 0);
        for _ in 0..3_000 {
            let n = 3 + (rng.next_u64() % 9) as usize;
            let raw = history(&mut rng, n);
            let ops = search_ops(&raw);
            let Some(Once::Stuck(l, w)) =
                Searcher::new(&CasRegister, &ops).run(&CasRegister, &ops, &mut u64::MAX.clone())
            else {
                continue;
            };
            failing += 1;
            let guess = (w.iter())
                .map(|&k| ops[k].returned)
                .filter(|&t| t != u64::MAX)
                .min();
            let f = narrow(&CasRegister, &ops, l, w, &mut u64::MAX.clone());
            assert!(f.narrowed);
            let mut times: Vec<u64> = ops.iter().map(|op| op.returned).collect();
            times.push(u64::MAX);
            times.sort_unstable();
            times.dedup();
            let first = times
                .iter()
                .copied()
                .find(|&cut| {
                    let (_, prefix) = cut_at(&ops, cut);
                    matches!(
                        Searcher::new(&CasRegister, &prefix).run(
                            &CasRegister,
                            &prefix,
                            &mut u64::MAX.clone()
                        ),
                        Some(Once::Stuck(..))
                    )
                })
                .expect("the whole history fails");
            let want = if first == u64::MAX {
                times[times.len().saturating_sub(2)]
            } else {
                first
            };
            let want = if first == u64::MAX && ops.iter().any(|op| op.returned == u64::MAX) {
                u64::MAX
            } else {
                want
            };
            assert_eq!(f.failed_at, want, "{raw:?}");
            if guess != Some(first) {
                guessed_wrong += 1;
            }
        }
        assert!(failing > 500, "too few failing histories: {failing}");
        // The probe is sometimes wrong (a cut that is linearizable after
        // all): bisection must then still find the first failing one.
        assert!(guessed_wrong > 0, "the guess was always right");
    }

    // The one-pass proof narrowing trusts in place of a search: on random
    // histories, every cut it calls linearizable is one a search finds
    // linearizable, and it does call some (else it saves nothing).
    #[test]
    fn a_cut_the_replay_proves_is_one_the_search_finds_linearizable() {
        let mut rng = StdRng::seed_from_u64(13);
        let (mut proved, mut refused) = (0, 0);
        for _ in 0..3_000 {
            let n = 3 + (rng.next_u64() % 9) as usize;
            let raw = history(&mut rng, n);
            let ops = search_ops(&raw);
            let Some(Once::Stuck(best, _)) =
                Searcher::new(&CasRegister, &ops).run(&CasRegister, &ops, &mut u64::MAX.clone())
            else {
                continue;
            };
            for cut in ops.iter().map(|op| op.returned) {
                if !linearizes_cut(&CasRegister, &ops, best.iter().copied(), cut) {
                    refused += 1;
                    continue;
                }
                proved += 1;
                let (_, prefix) = cut_at(&ops, cut);
                let searched = Searcher::new(&CasRegister, &prefix).run(
                    &CasRegister,
                    &prefix,
                    &mut u64::MAX.clone(),
                );
                assert!(
                    matches!(searched, Some(Once::Linearizable)),
                    "cut {cut} of {raw:?} proved by {best:?}"
                );
            }
        }
        assert!(
            proved > 500 && refused > 500,
            "{proved} proved, {refused} refused"
        );
    }

    #[test]
    fn the_replay_refuses_an_order_missing_a_completed_operation_or_the_model() {
        let (w1, w2, read) = (CasInput::Write(1), CasInput::Write(2), CasInput::Read);
        let (ok, saw1) = (RegisterOutput::Ok, RegisterOutput::Value(Some(1)));
        let op = |input, output, invoked, returned| SearchOp::<CasRegister> {
            input,
            output,
            invoked,
            returned,
        };
        let ops = [
            op(&w1, Some(&ok), 0, 1),
            op(&w2, Some(&ok), 2, 3),
            op(&read, Some(&saw1), 4, 5),
        ];
        // Both writes, in order: the cut at 3 is linearized.
        assert!(linearizes_cut(&CasRegister, &ops, [0, 1].into_iter(), 3));
        // One completed write left out.
        assert!(!linearizes_cut(&CasRegister, &ops, [0].into_iter(), 3));
        // The read of 1 after the write of 2: the model refuses it at 5.
        assert!(!linearizes_cut(
            &CasRegister,
            &ops,
            [0, 1, 2].into_iter(),
            5
        ));
        // Before 5 the read is not in the cut at all; at 4 it is pending
        // and may read anything.
        assert!(linearizes_cut(&CasRegister, &ops, [0, 1, 2].into_iter(), 4));
    }

    // A failure narrowed with no budget at all names the last completion
    // (nothing is pending) and the operation completing there, and says
    // it was not narrowed.
    #[test]
    fn narrowing_with_no_budget_keeps_the_last_completion_and_says_so() {
        let (w1, w2, read) = (CasInput::Write(1), CasInput::Write(2), CasInput::Read);
        let (ok, seen) = (RegisterOutput::Ok, RegisterOutput::Value(Some(3)));
        let ops = [
            SearchOp::<CasRegister> {
                input: &w1,
                output: Some(&ok),
                invoked: 0,
                returned: 1,
            },
            SearchOp {
                input: &w2,
                output: Some(&ok),
                invoked: 2,
                returned: 3,
            },
            SearchOp {
                input: &read,
                output: Some(&seen),
                invoked: 4,
                returned: 5,
            },
        ];
        let f = narrow(&CasRegister, &ops, vec![0, 1], vec![2], &mut 0);
        assert!(!f.narrowed);
        assert_eq!((f.failed_at, f.culprit), (5, 2));
        let f = narrow(&CasRegister, &ops, vec![0, 1], vec![2], &mut 1_000);
        assert!(f.narrowed);
        assert_eq!((f.failed_at, f.culprit), (5, 2));
    }

    // Unknown operations asking the same are explored as how many took
    // effect, not which: 40 timed-out increments and a read of 40 decide
    // in a few thousand steps (2^40 subsets without the twins).
    #[test]
    fn timed_out_twins_are_explored_as_a_count() {
        use crate::models::{CollectionOutput, Counter, CounterInput};
        let add = CounterInput::Add(1);
        let (read, seen) = (CounterInput::Read, CollectionOutput::Count(40));
        let wrong = CollectionOutput::Count(41);
        for (output, linearizable) in [(&seen, true), (&wrong, false)] {
            let mut ops: Vec<SearchOp<'_, Counter>> = (0..40)
                .map(|k| SearchOp {
                    input: &add,
                    output: None,
                    invoked: k,
                    returned: u64::MAX,
                })
                .collect();
            ops.push(SearchOp {
                input: &read,
                output: Some(output),
                invoked: 100,
                returned: 101,
            });
            let mut budget = 200_000;
            let found = Searcher::new(&Counter, &ops).run(&Counter, &ops, &mut budget);
            assert_eq!(
                matches!(found, Some(Once::Linearizable)),
                linearizable,
                "{}",
                outcome(found)
            );
            assert!(budget > 0, "decided within the budget");
        }
    }
}
