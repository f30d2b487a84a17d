//! A linearizability checker for key-value registers: the Wing & Gong
//! search with Lowe's memoization (the approach of Porcupine), partitioned
//! per key, with a step budget.
//!
//! A history is linearizable if every operation can be given a point
//! between its invocation and its completion such that, in that order, each
//! operation's output is what a single register would have answered.
//! Operations that never completed (the client timed out) may take effect at
//! any point after their invocation, or never: they are given a completion
//! at the end of time and any output.

use std::collections::BTreeMap;

use crate::history::{History, Input, Key, OpId, Output, Value};
use crate::model::Model;
use crate::models::{CasInput, CasRegister, RegisterOutput};
use crate::search::{Search, SearchOp, search};

/// The checker's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Some order explains every output.
    Linearizable,
    /// No order does; the report names the smallest window found.
    NotLinearizable(Report),
    /// The step budget ran out before the search finished.
    Unknown,
}

/// Where a history stops being linearizable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The key whose operations fail.
    pub key: Key,
    /// The earliest completion time at which the key's history, cut there,
    /// has no linearization (see [`ModelReport`](crate::ModelReport)).
    pub failed_at: u64,
    /// The operation completing then.
    pub culprit: OpId,
    /// The longest linearization found of the cut history, in order.
    pub linearized: Vec<OpId>,
    /// Every operation concurrent with the culprit (the culprit
    /// included): the smallest failing window.
    pub window: Vec<OpId>,
    /// Whether every earlier cut was decided: false when the budget ran
    /// out first, so `failed_at` is the earliest failing cut proved and
    /// the window may not be the smallest.
    pub narrowed: bool,
}

impl Report {
    /// A readable account of the failing window.
    #[must_use]
    pub fn describe(&self, history: &History) -> String {
        use std::fmt::Write as _;
        let ops = history.operations();
        let mut out = format!(
            "key {}: not linearizable from time {} on, when #{} completes{}; the longest linearization found places {} operation(s)",
            self.key,
            self.failed_at,
            self.culprit,
            if self.narrowed {
                ""
            } else {
                " (the budget ran out before earlier cuts were decided)"
            },
            self.linearized.len()
        );
        if let Some(&last) = self.linearized.last() {
            let _ = write!(out, ", the last #{last} {:?}", ops[last]);
        }
        out.push_str("; the operations concurrent with it:\n");
        for &id in &self.window {
            let placed = if self.linearized.contains(&id) {
                "placed"
            } else {
                "not placed"
            };
            let _ = writeln!(out, "  #{id} {:?} ({placed})", ops[id]);
        }
        out
    }
}

/// Checks every key's operations, spending at most `budget` search steps
/// in all.
#[must_use]
pub fn check(history: &History, budget: u64) -> Verdict {
    let mut by_key: BTreeMap<Key, Vec<OpId>> = BTreeMap::new();
    for (id, op) in history.operations().iter().enumerate() {
        // A read whose answer never arrived constrains nothing and changes
        // nothing: leaving it out keeps the search small.
        if op.input == Input::Get && op.completed.is_none() {
            continue;
        }
        by_key.entry(op.key).or_default().push(id);
    }
    let mut left = budget;
    for (key, ids) in by_key {
        match check_key(history, key, &ids, &mut left) {
            Verdict::Linearizable => {}
            other => return other,
        }
    }
    Verdict::Linearizable
}

/// A register per key, as a [`Model`]: the simulator's own workload, in
/// its own types, checked as the built-in [`CasRegister`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Register;

impl Model for Register {
    type State = Option<Value>;
    type Input = Input;
    type Output = Output;

    fn init(&self) -> Option<Value> {
        None
    }

    fn step(
        &self,
        state: &Option<Value>,
        input: &Input,
        output: Option<&Output>,
    ) -> Option<Option<Value>> {
        let input = match *input {
            Input::Put(v) => CasInput::Write(v),
            Input::Get => CasInput::Read,
            Input::Cas { expect, new } => CasInput::Cas { expect, new },
        };
        let output = output.map(|o| match *o {
            Output::Ok => RegisterOutput::Ok,
            Output::Value(v) => RegisterOutput::Value(v),
            Output::Cas(applied) => RegisterOutput::Cas(applied),
        });
        CasRegister.step(state, &input, output.as_ref())
    }
}

fn check_key(history: &History, key: Key, ids: &[OpId], budget: &mut u64) -> Verdict {
    let all = history.operations();
    let ops: Vec<SearchOp<'_, Register>> = (ids.iter())
        .map(|&id| {
            let op = &all[id];
            SearchOp {
                input: &op.input,
                output: op.completed.as_ref().map(|(_, o)| o),
                invoked: op.invoked,
                returned: op.completed.map_or(u64::MAX, |(t, _)| t),
            }
        })
        .collect();
    match search(&Register, &ops, budget) {
        Search::Linearizable => Verdict::Linearizable,
        Search::Unknown => Verdict::Unknown,
        Search::Stuck(f) => {
            let f = f.in_history(ids);
            Verdict::NotLinearizable(Report {
                key,
                failed_at: f.failed_at,
                culprit: f.culprit,
                linearized: f.linearized,
                window: f.window,
                narrowed: f.narrowed,
            })
        }
    }
}
