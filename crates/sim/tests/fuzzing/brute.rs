//! A brute-force linearizability check for small histories, and the cut
//! of a history at a time: the reference the checker is compared with (by
//! tests/models.rs and by the `history_check` fuzz interpreter).

use synod_sim::{Model, ModelOp, Outcome};

/// Whether some order of the operations (returned ones all placed, in an
/// order that respects real time; unknown ones placed or not; failed ones
/// left out) explains every output. Exponential: small histories only.
pub(crate) fn brute<M: Model>(model: &M, ops: &[ModelOp<M::Input, M::Output>]) -> bool {
    let live: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].outcome != Outcome::Failed)
        .collect();
    let mut parts: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
    for i in live {
        parts
            .entry(model.partition(&ops[i].input))
            .or_default()
            .push(i);
    }
    parts
        .values()
        .all(|ids| place(model, ops, ids, &mut vec![false; ops.len()], &model.init()))
}

pub(crate) fn returned<I, O>(op: &ModelOp<I, O>) -> Option<u64> {
    match op.outcome {
        Outcome::Returned { time, .. } => Some(time),
        _ => None,
    }
}

fn place<M: Model>(
    model: &M,
    ops: &[ModelOp<M::Input, M::Output>],
    ids: &[usize],
    done: &mut Vec<bool>,
    state: &M::State,
) -> bool {
    let pending: Vec<usize> = ids.iter().copied().filter(|&i| !done[i]).collect();
    if pending.iter().all(|&i| returned(&ops[i]).is_none()) {
        return true; // unknown ones may never take effect
    }
    // The next may be any pending op invoked before every pending op
    // returned (touching counts as concurrent).
    let horizon = (pending.iter())
        .filter_map(|&i| returned(&ops[i]))
        .min()
        .unwrap_or(u64::MAX);
    for &i in &pending {
        if ops[i].invoked > horizon {
            continue;
        }
        let output = match &ops[i].outcome {
            Outcome::Returned { output, .. } => Some(output),
            _ => None,
        };
        if let Some(next) = model.step(state, &ops[i].input, output) {
            done[i] = true;
            let ok = place(model, ops, ids, done, &next);
            done[i] = false;
            if ok {
                return true;
            }
        }
    }
    false
}

/// `h` as seen at time `t`: operations invoked by then, those answering
/// later still pending.
pub(crate) fn cut<I: Clone, O: Clone>(h: &[ModelOp<I, O>], t: u64) -> Vec<ModelOp<I, O>> {
    (h.iter())
        .filter(|op| op.invoked <= t)
        .map(|op| {
            let mut op = op.clone();
            if returned(&op).is_some_and(|r| r > t) {
                op.outcome = Outcome::UNKNOWN;
            }
            op
        })
        .collect()
}
