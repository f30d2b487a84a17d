//! Linearizability for any sequential specification: a [`Model`] a user
//! implements (or one of the built-in ones in [`models`](crate::models)),
//! histories of [`ModelOp`]s whose outcomes may be known, failed or
//! unknown, and [`check_model`], the same Wing & Gong search with Lowe's
//! memoization that checks the simulator's registers, run per partition.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification: what one correct, single copy of the
/// object answers.
pub trait Model {
    /// The object's state (hashed for memoization).
    type State: Clone + Eq + Hash + Debug;
    /// An operation's input.
    type Input: Clone + Debug;
    /// An operation's output.
    type Output: Clone + PartialEq + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` in `state`, if the object could have
    /// answered `output` (`None`: the answer never arrived, so any answer
    /// is allowed); `None` if it could not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Which independent part of the object `input` touches (a key): parts
    /// are checked separately, each from [`Model::init`]. One part by
    /// default.
    fn partition(&self, input: &Self::Input) -> u64 {
        let _ = input;
        0
    }

    /// One operation, for reports.
    fn describe(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(o) => format!("{input:?} -> {o:?}"),
            None => format!("{input:?} -> ?"),
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Outcome<O> {
    /// It returned `output` at `time`.
    Returned {
        /// When.
        time: u64,
        /// What.
        output: O,
    },
    /// It definitely did not take effect (the service said so): left out.
    Failed,
    /// No answer: it may take effect at any time after its invocation,
    /// or never, even after the client gave up on it (a request can sit in
    /// a queue or a log long after its sender timed out).
    Unknown {
        /// When the client stopped waiting (it timed out, or the history
        /// ended), if known: for reports and pictures only, since it does
        /// not bound when the operation may take effect.
        gave_up: Option<u64>,
    },
}

impl<O> Outcome<O> {
    /// An unknown outcome with no give-up time.
    pub const UNKNOWN: Self = Self::Unknown { gave_up: None };

    /// Whether the outcome is unknown (with or without a give-up time).
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown { .. })
    }
}

/// One operation of a history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModelOp<I, O> {
    /// Who invoked it (for reports).
    pub client: u64,
    /// What it asked.
    pub input: I,
    /// When it was invoked.
    pub invoked: u64,
    /// How it ended.
    pub outcome: Outcome<O>,
}

/// The verdict of [`check_model`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ModelVerdict {
    /// Some order explains every output.
    Linearizable,
    /// A part cannot be linearized.
    NotLinearizable(ModelReport),
    /// Some part ran out of budget and none failed.
    Unknown {
        /// The parts that ran out.
        parts: Vec<u64>,
    },
}

/// Where a part stops being linearizable (indexes into the history).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModelReport {
    /// The part.
    pub part: u64,
    /// The smallest failing window ends here: the earliest completion
    /// time at which the part's history, cut there (operations completing
    /// later still pending), has no linearization. Cut at the completion
    /// before it, one was found (or the budget ran out looking).
    pub failed_at: u64,
    /// The operation completing at `failed_at`: no order of what came
    /// before explains its output together with the rest.
    pub culprit: usize,
    /// The longest linearization found of the cut history, in order.
    pub linearized: Vec<usize>,
    /// Every operation concurrent with the culprit (the culprit
    /// included): the smallest failing window.
    pub window: Vec<usize>,
}

impl ModelReport {
    /// A readable account: where the history stops being linearizable,
    /// the longest linearization found up to there, the state it leaves,
    /// and for each operation of the smallest failing window whether it
    /// was placed or why it cannot go next.
    #[must_use]
    pub fn describe<M: Model>(
        &self,
        model: &M,
        history: &[ModelOp<M::Input, M::Output>],
    ) -> String {
        use std::fmt::Write as _;
        let output = |op: &ModelOp<M::Input, M::Output>| match &op.outcome {
            Outcome::Returned { output, .. } => Some(output.clone()),
            _ => None,
        };
        let returned = |op: &ModelOp<M::Input, M::Output>| match &op.outcome {
            Outcome::Returned { time, .. } => *time,
            _ => u64::MAX,
        };
        let span = |op: &ModelOp<M::Input, M::Output>| match &op.outcome {
            Outcome::Returned { time, .. } => format!("[{}, {time}]", op.invoked),
            Outcome::Unknown {
                gave_up: Some(time),
            } => format!("[{}, ?, gave up at {time}]", op.invoked),
            _ => format!("[{}, ?]", op.invoked),
        };
        let mut out = format!(
            "part {}: not linearizable from time {} on, when #{} completes (cut at any earlier completion, an order was found); \
             the longest linearization found of the history up to then places {} operation(s):\n",
            self.part,
            self.failed_at,
            self.culprit,
            self.linearized.len()
        );
        let mut state = model.init();
        for (n, &i) in self.linearized.iter().enumerate() {
            let op = &history[i];
            // Cut at `failed_at`: a later answer is not seen yet.
            let o = output(op).filter(|_| returned(op) <= self.failed_at);
            let _ = writeln!(
                out,
                "  {}. #{i} client {} {} {}",
                n + 1,
                op.client,
                span(op),
                model.describe(&op.input, o.as_ref())
            );
            if let Some(next) = model.step(&state, &op.input, o.as_ref()) {
                state = next;
            }
        }
        let _ = writeln!(
            out,
            "leaving the state {state:?}. The smallest failing window, every operation concurrent with #{}:",
            self.culprit
        );
        for &i in &self.window {
            let op = &history[i];
            let o = output(op).filter(|_| returned(op) <= self.failed_at);
            let why = if let Some(n) = self.linearized.iter().position(|&k| k == i) {
                format!("placed {}.", n + 1)
            } else if model.step(&state, &op.input, o.as_ref()).is_some() {
                "fits next, but then the rest cannot be placed".to_string()
            } else {
                "its output is impossible next".to_string()
            };
            let culprit = if i == self.culprit {
                " (completes at the cut)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  #{i} client {} {} {}{culprit}: {why}",
                op.client,
                span(op),
                model.describe(&op.input, o.as_ref())
            );
        }
        out
    }
}

/// How one part of a history checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PartCheck {
    /// The part ([`Model::partition`]).
    pub part: u64,
    /// Its operations (failed ones left out).
    pub operations: usize,
    /// Search steps it took.
    pub steps: u64,
    /// What the search found.
    pub result: PartResult,
}

/// What the search found in one part.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PartResult {
    /// Linearizable.
    Linearizable,
    /// Not linearizable.
    NotLinearizable(ModelReport),
    /// The part's budget ran out first.
    Unknown,
}

/// Checks `history` against `model`, each part with its own budget of
/// `budget_per_part` search steps, so a part that runs out cannot hide a
/// violation in another: a failing part, else the parts that ran out, else
/// linearizable. See [`check_model_parts`] for every part's account.
///
/// A verdict needs only one failing part, so the parts are searched with
/// budgets that grow fourfold from 10,000 steps up to `budget_per_part`,
/// the parts still undecided each round searched again from the start: a
/// violation that is cheap to prove in one part is found without first
/// exhausting the budget on a costly part, and a part that needs N steps
/// costs at most 7N/3 (the earlier rounds sum to less than a third of the
/// last one, which is under 4N).
/// The failing part reported is the first in part order among those
/// proved at the smallest budget that proves one: it depends on the
/// history and the budget only, never on the threads.
///
/// # Errors
/// [`crate::SimError::CompletionBeforeInvocation`] for an operation that
/// returned (or was given up on) before it was invoked.
pub fn check_model<M>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    budget_per_part: u64,
) -> Result<ModelVerdict, crate::SimError>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let mut open = parts_of(model, history)?;
    let mut budget = budget_per_part.min(10_000);
    loop {
        let checks = run_parts(model, history, &open, budget);
        let mut unknown = Vec::new();
        for p in checks {
            match p.result {
                PartResult::Linearizable => {}
                PartResult::Unknown => unknown.push(p.part),
                PartResult::NotLinearizable(report) => {
                    return Ok(ModelVerdict::NotLinearizable(report));
                }
            }
        }
        if unknown.is_empty() {
            return Ok(ModelVerdict::Linearizable);
        }
        if budget >= budget_per_part {
            return Ok(ModelVerdict::Unknown { parts: unknown });
        }
        budget = budget.saturating_mul(4).min(budget_per_part);
        open.retain(|(part, _)| unknown.binary_search(part).is_ok());
    }
}

/// Checks every part of `history` on its own with the whole budget, in
/// parallel (one thread per core, parts dealt out in order; the results do
/// not depend on the threads), and reports each part's operations, steps
/// and result, in part order.
///
/// # Errors
/// As [`check_model`].
pub fn check_model_parts<M>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    budget_per_part: u64,
) -> Result<Vec<PartCheck>, crate::SimError>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let parts = parts_of(model, history)?;
    Ok(run_parts(model, history, &parts, budget_per_part))
}

/// The operations of each part (failed ones left out), in part order.
fn parts_of<M: Model>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
) -> Result<Vec<(u64, Vec<usize>)>, crate::SimError> {
    let mut parts: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        if let Outcome::Returned { time, .. }
        | Outcome::Unknown {
            gave_up: Some(time),
        } = op.outcome
            && time < op.invoked
        {
            return Err(crate::SimError::CompletionBeforeInvocation {
                op: i,
                invoked: op.invoked,
                completed: time,
            });
        }
        if op.outcome != Outcome::Failed {
            parts.entry(model.partition(&op.input)).or_default().push(i);
        }
    }
    Ok(parts.into_iter().collect())
}

/// Searches each of `parts` with `budget` steps, on one thread per core.
fn run_parts<M>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    parts: &[(u64, Vec<usize>)],
    budget_per_part: u64,
) -> Vec<PartCheck>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(parts.len())
        .max(1);
    if threads == 1 {
        let check = |(part, ids): &(u64, Vec<usize>)| {
            check_part(model, history, *part, ids, budget_per_part)
        };
        return parts.iter().map(check).collect();
    }
    let mut results: Vec<Option<PartCheck>> = vec![None; parts.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..parts.len())
                        .step_by(threads)
                        .map(|k| {
                            (
                                k,
                                check_part(
                                    model,
                                    history,
                                    parts[k].0,
                                    &parts[k].1,
                                    budget_per_part,
                                ),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            // A worker panics only if the model's own code does: pass it on.
            let done = w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (k, check) in done {
                results[k] = Some(check);
            }
        }
    });
    results.into_iter().flatten().collect()
}

fn check_part<M: Model>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    part: u64,
    ids: &[usize],
    budget: u64,
) -> PartCheck {
    let ops: Vec<SearchOp<'_, M>> = (ids.iter())
        .map(|&i| {
            let op = &history[i];
            let (returned, output) = match &op.outcome {
                Outcome::Returned { time, output } => (*time, Some(output)),
                _ => (u64::MAX, None),
            };
            SearchOp {
                input: &op.input,
                output,
                invoked: op.invoked,
                returned,
            }
        })
        .collect();
    let mut left = budget;
    let result = match search(model, &ops, &mut left) {
        Search::Linearizable => PartResult::Linearizable,
        Search::Unknown => PartResult::Unknown,
        Search::Stuck {
            linearized,
            window,
            failed_at,
            culprit,
        } => PartResult::NotLinearizable(ModelReport {
            part,
            failed_at,
            culprit: ids[culprit],
            linearized: linearized.iter().map(|&k| ids[k]).collect(),
            window: window.iter().map(|&k| ids[k]).collect(),
        }),
    };
    PartCheck {
        part,
        operations: ids.len(),
        steps: budget - left,
        result,
    }
}

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
    /// Indexes into the part's operations.
    Stuck {
        linearized: Vec<usize>,
        window: Vec<usize>,
        /// The earliest completion time at which the history (cut there)
        /// has no linearization.
        failed_at: u64,
        /// The operation completing then.
        culprit: usize,
    },
}

/// Searches `ops`; when no order explains them, narrows the failure to the
/// smallest failing window: the earliest completion at which the history,
/// cut there (later completions not yet seen: those operations pending),
/// already has no linearization, and every operation concurrent with the
/// operation completing then. Cuts are monotone (a history with no
/// linearization keeps none as it grows), so a binary search over the
/// completion times finds it in log2(n) searches, paid from what is left
/// of `budget`; if that runs out, the narrowest cut proved so far stands.
pub(crate) fn search<M: Model>(model: &M, ops: &[SearchOp<'_, M>], budget: &mut u64) -> Search {
    let (mut linearized, mut window) = match search_once(model, ops, budget) {
        Search::Stuck {
            linearized, window, ..
        } => (linearized, window),
        other => return other,
    };
    let mut times: Vec<u64> = (ops.iter())
        .map(|op| op.returned)
        .filter(|&t| t != u64::MAX)
        .collect();
    times.sort_unstable();
    times.dedup();
    let Some(&last) = times.last() else {
        // Nothing completed: nothing can fail. Unreachable, but harmless.
        return Search::Stuck {
            linearized,
            window,
            failed_at: 0,
            culprit: 0,
        };
    };
    // The cut after the last completion fails (pending operations invoked
    // after it can always be left out); find the first cut that does.
    let (mut lo, mut hi) = (0, times.len() - 1);
    let mut failed_at = last;
    let mut map: Vec<usize> = (0..ops.len()).collect();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let cut = times[mid];
        let ids: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].invoked <= cut).collect();
        let prefix: Vec<SearchOp<'_, M>> = (ids.iter())
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
        match search_once(model, &prefix, budget) {
            Search::Stuck {
                linearized: l,
                window: w,
                ..
            } => {
                hi = mid;
                failed_at = cut;
                linearized = l;
                window = w;
                map = ids;
            }
            Search::Linearizable => lo = mid + 1,
            Search::Unknown => break,
        }
    }
    let linearized: Vec<usize> = linearized.iter().map(|&k| map[k]).collect();
    let stuck: Vec<usize> = window.iter().map(|&k| map[k]).collect();
    // The culprit: an operation completing at the cut, the one the search
    // was stuck on if it is one.
    let culprit = (stuck.iter().copied())
        .find(|&k| ops[k].returned == failed_at)
        .or_else(|| (0..ops.len()).find(|&k| ops[k].returned == failed_at))
        .unwrap_or(0);
    let (from, to) = (ops[culprit].invoked, failed_at);
    // Every operation concurrent with it (as the cut sees them: an
    // operation completing later is still pending there).
    let window = (0..ops.len())
        .filter(|&k| ops[k].invoked <= to && ops[k].returned >= from)
        .collect();
    Search::Stuck {
        linearized,
        window,
        failed_at,
        culprit,
    }
}

/// One invocation or completion in time order.
#[derive(Debug, Clone, Copy)]
struct Event {
    op: usize,
    is_call: bool,
}

/// The Wing & Gong search with Lowe's memoization over one part's
/// operations, spending at most `budget` steps.
fn search_once<M: Model>(model: &M, ops: &[SearchOp<'_, M>], budget: &mut u64) -> Search {
    let n = ops.len();
    if n == 0 {
        return Search::Linearizable;
    }
    // Events sorted by time; at equal times calls come first, so touching
    // operations count as concurrent (the permissive reading).
    let mut events: Vec<(u64, u8, Event)> = Vec::with_capacity(2 * n);
    for (k, op) in ops.iter().enumerate() {
        events.push((
            op.invoked,
            0,
            Event {
                op: k,
                is_call: true,
            },
        ));
        events.push((
            op.returned,
            1,
            Event {
                op: k,
                is_call: false,
            },
        ));
    }
    events.sort_by_key(|&(t, order, e)| (t, order, e.op));
    let events: Vec<Event> = events.into_iter().map(|(_, _, e)| e).collect();

    // A doubly linked list over the events, with a head sentinel at len.
    let len = events.len();
    let head = len;
    let mut next: Vec<usize> = (1..=len).collect();
    next.push(0);
    let mut prev: Vec<usize> = std::iter::once(head).chain(0..len - 1).collect();
    prev.push(len); // the head's prev is unused
    next[head] = 0;
    next[len - 1] = usize::MAX;
    let mut call_at = vec![0usize; n];
    let mut ret_at = vec![0usize; n];
    for (i, e) in events.iter().enumerate() {
        if e.is_call {
            call_at[e.op] = i;
        } else {
            ret_at[e.op] = i;
        }
    }
    let unlink = |i: usize, next: &mut Vec<usize>, prev: &mut Vec<usize>| {
        let (p, nx) = (prev[i], next[i]);
        next[p] = nx;
        if nx != usize::MAX {
            prev[nx] = p;
        }
    };
    let relink = |i: usize, next: &mut Vec<usize>, prev: &mut Vec<usize>| {
        let (p, nx) = (prev[i], next[i]);
        next[p] = i;
        if nx != usize::MAX {
            prev[nx] = i;
        }
    };

    let words = n.div_ceil(64).max(1);
    let mut linearized = vec![0u64; words];
    let mut cache = Memo::<M::State>::default();
    // (op, state before it)
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut state = model.init();
    let mut best: Vec<usize> = Vec::new();
    let mut best_window: Vec<usize> = Vec::new();
    let mut entry = next[head];

    while entry != usize::MAX {
        if *budget == 0 {
            return Search::Unknown;
        }
        *budget -= 1;
        let e = events[entry];
        if e.is_call {
            let op = &ops[e.op];
            if let Some(new_state) = model.step(&state, op.input, op.output) {
                linearized[e.op / 64] |= 1 << (e.op % 64);
                if cache.insert(&linearized, &new_state) {
                    stack.push((e.op, std::mem::replace(&mut state, new_state)));
                    unlink(call_at[e.op], &mut next, &mut prev);
                    unlink(ret_at[e.op], &mut next, &mut prev);
                    if stack.len() > best.len() {
                        best = stack.iter().map(|(o, _)| *o).collect();
                        best_window.clear();
                    }
                    entry = next[head];
                    continue;
                }
                linearized[e.op / 64] &= !(1 << (e.op % 64));
            }
            entry = next[entry];
        } else {
            // A completion reached with its operation unplaced: every
            // ordering of the pending calls before it failed. Record the
            // window at the deepest point, then backtrack.
            if stack.len() == best.len() && best_window.is_empty() {
                let mut i = next[head];
                while i != usize::MAX && i != entry {
                    if events[i].is_call {
                        best_window.push(events[i].op);
                    }
                    i = next[i];
                }
                best_window.push(e.op);
                best_window.sort_unstable();
                best_window.dedup();
            }
            let Some((op, before)) = stack.pop() else {
                return Search::Stuck {
                    linearized: best,
                    window: best_window,
                    failed_at: 0,
                    culprit: 0,
                };
            };
            state = before;
            linearized[op / 64] &= !(1 << (op % 64));
            relink(ret_at[op], &mut next, &mut prev);
            relink(call_at[op], &mut next, &mut prev);
            entry = next[call_at[op]];
        }
    }
    Search::Linearizable
}

/// Lowe's memo of (linearized set, state) pairs already explored. Looked
/// up without allocating (a pair is copied only when it is new), hashed
/// with a fixed, fast function: the search's result never depends on the
/// hash, only its speed.
struct Memo<S> {
    buckets: std::collections::HashMap<u64, Vec<Explored<S>>, FixedHash>,
}

/// A linearized set and the state it left.
type Explored<S> = (Box<[u64]>, S);

impl<S> Default for Memo<S> {
    fn default() -> Self {
        Self {
            buckets: std::collections::HashMap::default(),
        }
    }
}

impl<S: Eq + Hash + Clone> Memo<S> {
    /// Records the pair; false if it was there already.
    fn insert(&mut self, set: &[u64], state: &S) -> bool {
        use std::hash::Hasher as _;
        // The set and the state pick the bucket (by the set alone, as
        // Porcupine does, one set met thousands of states on its c50
        // key-value history: 50x slower).
        let mut h = Fx::default();
        set.hash(&mut h);
        state.hash(&mut h);
        let bucket = self.buckets.entry(h.finish()).or_default();
        if bucket.iter().any(|(b, s)| **b == *set && s == state) {
            return false;
        }
        bucket.push((set.into(), state.clone()));
        true
    }
}

/// Builds [`Fx`] hashers.
type FixedHash = std::hash::BuildHasherDefault<Fx>;

/// A fast multiplicative hash (the one rustc uses), fixed so runs behave
/// alike.
#[derive(Default)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }

    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }

    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
