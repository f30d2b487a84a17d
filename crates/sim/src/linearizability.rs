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

use std::collections::{BTreeMap, HashSet};

use crate::history::{History, Input, Key, OpId, Output, Value};

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
    /// The longest prefix of operations that could be linearized, in order.
    pub linearized: Vec<OpId>,
    /// Operations concurrent with the first one that could not be placed:
    /// the failing window.
    pub window: Vec<OpId>,
}

impl Report {
    /// A readable account of the failing window.
    #[must_use]
    pub fn describe(&self, history: &History) -> String {
        use std::fmt::Write as _;
        let ops = history.operations();
        let mut out = format!(
            "key {}: after linearizing {} operation(s), none of these fits:\n",
            self.key,
            self.linearized.len()
        );
        if let Some(&last) = self.linearized.last() {
            let _ = writeln!(out, "  last placed: #{last} {:?}", ops[last]);
        }
        for &id in &self.window {
            let _ = writeln!(out, "  #{id} {:?}", ops[id]);
        }
        out
    }
}

/// A single register's state after an operation, or `None` if the output
/// is impossible in `state`.
fn step(state: Option<Value>, input: Input, output: Option<Output>) -> Option<Option<Value>> {
    match input {
        Input::Put(v) => match output {
            None | Some(Output::Ok) => Some(Some(v)),
            Some(_) => None,
        },
        Input::Get => match output {
            None => Some(state),
            Some(Output::Value(v)) if v == state => Some(state),
            Some(_) => None,
        },
        Input::Cas { expect, new } => {
            let applies = state == expect;
            match output {
                None => Some(if applies { Some(new) } else { state }),
                Some(Output::Cas(true)) if applies => Some(Some(new)),
                Some(Output::Cas(false)) if !applies => Some(state),
                Some(_) => None,
            }
        }
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

/// One invocation or completion in time order.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// Index into the key's operations.
    op: usize,
    is_call: bool,
}

fn check_key(history: &History, key: Key, ids: &[OpId], budget: &mut u64) -> Verdict {
    let all = history.operations();
    let n = ids.len();
    if n == 0 {
        return Verdict::Linearizable;
    }
    // Events sorted by time; at equal times calls come first, so touching
    // operations count as concurrent (the permissive reading).
    let mut events: Vec<(u64, u8, Event)> = Vec::with_capacity(2 * n);
    for (k, &id) in ids.iter().enumerate() {
        let op = &all[id];
        events.push((
            op.invoked,
            0,
            Event {
                op: k,
                is_call: true,
            },
        ));
        let ret = op.completed.map_or(u64::MAX, |(t, _)| t);
        events.push((
            ret,
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
    if len > 0 {
        next[head] = 0;
        next[len - 1] = usize::MAX;
    }
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
    let mut cache: HashSet<(Vec<u64>, Option<Value>)> = HashSet::new();
    // (op, state before it)
    let mut stack: Vec<(usize, Option<Value>)> = Vec::new();
    let mut state: Option<Value> = None;
    let mut best: Vec<usize> = Vec::new();
    let mut best_window: Vec<usize> = Vec::new();
    let mut entry = next[head];

    while entry != usize::MAX {
        if *budget == 0 {
            return Verdict::Unknown;
        }
        *budget -= 1;
        let e = events[entry];
        if e.is_call {
            let op = &all[ids[e.op]];
            let output = op.completed.map(|(_, o)| o);
            if let Some(new_state) = step(state, op.input, output) {
                linearized[e.op / 64] |= 1 << (e.op % 64);
                if cache.insert((linearized.clone(), new_state)) {
                    stack.push((e.op, state));
                    state = new_state;
                    unlink(call_at[e.op], &mut next, &mut prev);
                    unlink(ret_at[e.op], &mut next, &mut prev);
                    if stack.len() > best.len() {
                        best = stack.iter().map(|&(o, _)| o).collect();
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
                let report = Report {
                    key,
                    linearized: best.iter().map(|&k| ids[k]).collect(),
                    window: best_window.iter().map(|&k| ids[k]).collect(),
                };
                return Verdict::NotLinearizable(report);
            };
            state = before;
            linearized[op / 64] &= !(1 << (op % 64));
            relink(ret_at[op], &mut next, &mut prev);
            relink(call_at[op], &mut next, &mut prev);
            entry = next[call_at[op]];
        }
    }
    Verdict::Linearizable
}
