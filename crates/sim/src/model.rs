//! Linearizability for any sequential specification: a [`Model`] a user
//! implements (or one of the built-in ones in [`models`](crate::models)),
//! histories of [`ModelOp`]s whose outcomes may be known, failed or
//! unknown, and [`check_model`], the same Wing & Gong search with Lowe's
//! memoization that checks the simulator's registers, run per partition.

use std::collections::BTreeMap;

use crate::search::{Once, SearchOp, Searcher, narrow};
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification: what one correct, single copy of the
/// object answers.
pub trait Model {
    /// The object's state (hashed for memoization).
    type State: Clone + Eq + Hash + Debug;
    /// An operation's input. Compared only between operations whose
    /// outcome is unknown: the search places the earlier-invoked of two
    /// equal ones first (either may stand for the other), which keeps
    /// histories full of timed-out writes tractable.
    type Input: Clone + PartialEq + Debug;
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

impl<I, O> ModelOp<I, O> {
    /// When it ran, for reports: `[invoked, returned]`, with `?` for an
    /// outcome not known and the give-up time when there is one.
    pub(crate) fn span(&self) -> String {
        match self.outcome {
            Outcome::Returned { time, .. } => format!("[{}, {time}]", self.invoked),
            Outcome::Unknown {
                gave_up: Some(time),
            } => format!("[{}, ?, gave up at {time}]", self.invoked),
            _ => format!("[{}, ?]", self.invoked),
        }
    }
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
    /// `u64::MAX` when only the whole history fails, its pending
    /// operations included (a model that refuses some operation whatever
    /// it answered).
    pub failed_at: u64,
    /// The operation completing at `failed_at` (pending, at `u64::MAX`):
    /// no order of what came before explains its output together with
    /// the rest.
    pub culprit: usize,
    /// The longest linearization found of the cut history, in order.
    pub linearized: Vec<usize>,
    /// Every operation concurrent with the culprit (the culprit
    /// included): the smallest failing window.
    pub window: Vec<usize>,
    /// Whether every earlier cut was decided: false when the narrowing
    /// budget ran out first, so `failed_at` is the earliest failing cut
    /// proved and the window may not be the smallest.
    pub narrowed: bool,
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
        // Cut at `failed_at`: a later answer is not seen yet.
        let output = |op: &ModelOp<M::Input, M::Output>| match &op.outcome {
            Outcome::Returned { time, output } if *time <= self.failed_at => Some(output.clone()),
            _ => None,
        };
        let at = if self.failed_at == u64::MAX {
            "only at the end".to_string()
        } else {
            format!("from time {} on", self.failed_at)
        };
        let earlier = if self.narrowed {
            "cut at any earlier completion, an order was found"
        } else {
            "the budget ran out before the earlier cuts were decided: the window may not be the smallest"
        };
        let mut out = format!(
            "part {}: not linearizable {at}, when #{} completes ({earlier}); \
             the longest linearization found of the history up to then places {} operation(s):\n",
            self.part,
            self.culprit,
            self.linearized.len()
        );
        let mut state = model.init();
        for (n, &i) in self.linearized.iter().enumerate() {
            let op = &history[i];
            let o = output(op);
            let _ = writeln!(
                out,
                "  {}. #{i} client {} {} {}",
                n + 1,
                op.client,
                op.span(),
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
            let o = output(op);
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
                op.span(),
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
    /// Search steps it took (narrowing a failure included).
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
/// A verdict needs only one failing part, so the parts are searched in
/// rounds, each round letting every undecided part search on (from where
/// it stopped: no step is spent twice) up to a total that grows by a
/// quarter each round, from 10,000 steps to `budget_per_part`, until one
/// fails or all are decided: a violation cheap to prove in one part is
/// found without first spending the budget of a costly part, and only
/// the failure reported is narrowed (with a budget of `budget_per_part`
/// of its own, so a failure found late is still narrowed; see
/// [`ModelReport::narrowed`]). The failing part reported is the
/// first in part order among those that fail in the same round: it
/// depends on the history and the budget only, never on the threads.
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
    let parts = parts_of(model, history)?;
    let mut unknown = Vec::new();
    for searched in run_parts(model, history, &parts, budget_per_part, true) {
        match searched.found {
            Some(Once::Linearizable) => {}
            None => unknown.push(parts[searched.k].0),
            Some(Once::Stuck(..)) => {
                // The first failing part in part order: the only one the
                // verdict narrows.
                let check = finish(model, history, &parts, searched, budget_per_part);
                if let PartResult::NotLinearizable(report) = check.result {
                    return Ok(ModelVerdict::NotLinearizable(report));
                }
            }
        }
    }
    Ok(if unknown.is_empty() {
        ModelVerdict::Linearizable
    } else {
        ModelVerdict::Unknown { parts: unknown }
    })
}

/// Checks every part of `history` on its own to the end (or its budget),
/// in parallel (one thread per core, parts dealt out in order; the
/// results do not depend on the threads), and reports each part's
/// operations, steps and result, in part order.
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
    let searched = run_parts(model, history, &parts, budget_per_part, false);
    Ok((searched.into_iter())
        .map(|p| finish(model, history, &parts, p, budget_per_part))
        .collect())
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

/// Searches `parts` on one thread per core, each thread keeping the parts
/// it was dealt (the k-th part goes to thread k mod threads). With
/// `until_one_fails`, in rounds whose totals grow by a quarter from
/// 10,000 steps, stopping at the end of the first round in which a part
/// fails (the threads meet between rounds, so which round that is does
/// not depend on them); else in one round of the whole budget. What each
/// part found (`None`: undecided), in part order; failures not yet
/// narrowed (see [`finish`]).
fn run_parts<M>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    parts: &[(u64, Vec<usize>)],
    budget_per_part: u64,
    until_one_fails: bool,
) -> Vec<Searched>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(parts.len())
        .max(1);
    let barrier = std::sync::Barrier::new(threads);
    // The first part (in part order) found failing so far: in this round,
    // a part after it cannot be the one reported, so it waits.
    let first_failing = AtomicUsize::new(usize::MAX);
    let open = AtomicUsize::new(parts.len());
    let work = |t: usize| -> Vec<Searched> {
        // A part's searcher (and its memo, the bulk of the memory) is
        // dropped as soon as the part is decided.
        let mut mine: Vec<_> = (t..parts.len())
            .step_by(threads)
            .map(|k| {
                let ops = part_ops(history, &parts[k].1);
                let searched = Searched {
                    k,
                    steps: 0,
                    found: None,
                };
                (searched, Some(Searcher::new(model, &ops)), ops)
            })
            .collect();
        let mut cap = if until_one_fails {
            budget_per_part.min(10_000)
        } else {
            budget_per_part
        };
        loop {
            for (p, slot, ops) in &mut mine {
                let Some(searcher) = slot else { continue };
                if until_one_fails && p.k > first_failing.load(Ordering::SeqCst) {
                    continue;
                }
                let mut left = cap.saturating_sub(p.steps);
                let given = left;
                p.found = searcher.run(model, ops, &mut left);
                p.steps += given - left;
                match p.found {
                    Some(Once::Stuck(..)) => {
                        first_failing.fetch_min(p.k, Ordering::SeqCst);
                        open.fetch_sub(1, Ordering::SeqCst);
                        *slot = None;
                    }
                    Some(Once::Linearizable) => {
                        open.fetch_sub(1, Ordering::SeqCst);
                        *slot = None;
                    }
                    None if p.steps >= budget_per_part => *slot = None,
                    None => {}
                }
            }
            barrier.wait();
            let failed = first_failing.load(Ordering::SeqCst) != usize::MAX;
            let done = failed && until_one_fails
                || open.load(Ordering::SeqCst) == 0
                || cap >= budget_per_part;
            // Everyone reads before anyone starts the next round.
            barrier.wait();
            if done {
                break;
            }
            cap = cap.saturating_add(cap / 4).min(budget_per_part);
        }
        mine.into_iter().map(|(p, ..)| p).collect()
    };
    let mut all: Vec<Searched> = if threads == 1 {
        work(0)
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let work = &work;
                    scope.spawn(move || work(t))
                })
                .collect();
            // A worker panics only if the model's own code does: pass it on.
            (workers.into_iter())
                .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    all.sort_by_key(|p| p.k);
    all
}

/// How far the search of the k-th part went.
struct Searched {
    k: usize,
    steps: u64,
    /// `None`: undecided when it stopped.
    found: Option<Once>,
}

/// The k-th part's operations as the search sees them.
fn part_ops<'h, M: Model>(
    history: &'h [ModelOp<M::Input, M::Output>],
    ids: &[usize],
) -> Vec<SearchOp<'h, M>> {
    (ids.iter())
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
        .collect()
}

/// A part's account, a failure narrowed to its smallest window with a
/// budget of its own.
fn finish<M: Model>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    parts: &[(u64, Vec<usize>)],
    searched: Searched,
    budget: u64,
) -> PartCheck {
    let (part, ids) = &parts[searched.k];
    let mut steps = searched.steps;
    let result = match searched.found {
        None => PartResult::Unknown,
        Some(Once::Linearizable) => PartResult::Linearizable,
        Some(Once::Stuck(linearized, window)) => {
            // Narrowing has a budget of its own: a failure found at the
            // end of a part's budget is still worth its smallest window.
            let ops = part_ops(history, ids);
            let mut left = budget;
            let f = narrow(model, &ops, linearized, window, &mut left).in_history(ids);
            steps += budget - left;
            PartResult::NotLinearizable(ModelReport {
                part: *part,
                failed_at: f.failed_at,
                culprit: f.culprit,
                linearized: f.linearized,
                window: f.window,
                narrowed: f.narrowed,
            })
        }
    };
    PartCheck {
        part: *part,
        operations: ids.len(),
        steps,
        result,
    }
}
