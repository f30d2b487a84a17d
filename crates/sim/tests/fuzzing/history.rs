//! The `history_check` fuzz interpreter. The first byte picks what the
//! rest is: Jepsen register log lines, Porcupine key-value log lines (both
//! as text, through the importers), or a key-value or compare-and-set
//! register history built directly from the bytes (small, so the brute
//! force can judge it). Every history the importers accept is checked two
//! ways, whole (`check_model`) and part by part (`check_model_parts`);
//! a failure's report is described and drawn.
//!
//! Must hold: no panic; the two checks refuse the same histories and agree
//! on the verdict; a failure reported whole is a failure of that part; on
//! a history small enough, the verdict is the brute force's.
//!
//! Shared with the `fuzz_inputs` test in crates/sim/tests, so a crash found
//! by the fuzzer becomes a pinned input there.

use synod_sim::models::{CasInput, CasRegister, KeyValue, KvInput, KvOutput, RegisterOutput};
use synod_sim::{
    Model, ModelOp, ModelVerdict, Outcome, PartResult, check_model, check_model_parts,
    history_html, jepsen_register_history, porcupine_kv_history,
};

// Only `brute` is used here; tests/models.rs uses the rest, through this
// module (the test suite may load brute.rs once).
#[allow(dead_code)]
#[path = "brute.rs"]
pub(crate) mod brute;

/// Search steps per part: enough for every history built here, small
/// enough that a fuzz run stays fast on imported text.
const BUDGET: u64 = 100_000;

/// Operations built from bytes: a part of at most this many is also
/// judged by the brute force (factorial in the part's size).
const BRUTE_MAX: usize = 7;

/// Runs one input.
pub(crate) fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(ops) = jepsen_register_history(&String::from_utf8_lossy(rest)) {
                check(&CasRegister, &ops);
            }
        }
        1 => {
            if let Ok(ops) = porcupine_kv_history(&String::from_utf8_lossy(rest)) {
                check(&KeyValue, &ops);
            }
        }
        2 => check(&KeyValue, &built(rest, kv_op)),
        _ => check(&CasRegister, &built(rest, cas_op)),
    }
}

/// A history of up to 10 operations, 4 bytes each: client, timing,
/// outcome, and what `op` makes of the last byte. Times start at 0 and
/// step by 0-3, so operations often touch and overlap.
fn built<I, O>(bytes: &[u8], op: fn(u8) -> (I, O)) -> Vec<ModelOp<I, O>> {
    let mut clock = 0u64;
    (bytes.chunks_exact(4).take(10))
        .map(|b| {
            let invoked = clock;
            clock += u64::from(b[1] & 3);
            let len = u64::from((b[1] >> 2) & 7);
            let (input, output) = op(b[3]);
            let outcome = match b[2] % 8 {
                0 => Outcome::Unknown {
                    gave_up: (b[2] & 8 != 0).then_some(invoked + len),
                },
                1 => Outcome::Failed,
                _ => Outcome::Returned {
                    time: invoked + len,
                    output,
                },
            };
            ModelOp {
                client: u64::from(b[0] % 8),
                input,
                invoked,
                outcome,
            }
        })
        .collect()
}

/// A key-value operation on one of two keys and three values.
fn kv_op(b: u8) -> (KvInput, KvOutput) {
    let key = ["a", "b"][usize::from(b & 1)].to_string();
    let value = ["x", "yy", "x"][usize::from((b >> 1) % 3)].to_string();
    match (b >> 3) % 4 {
        0 => {
            let seen = (b & 0x20 != 0).then_some(value);
            (KvInput::Get(key), KvOutput::Value(seen))
        }
        1 => (KvInput::Put(key, value), KvOutput::Ok),
        2 => (KvInput::Append(key, value), KvOutput::Ok),
        _ => (KvInput::Delete(key), KvOutput::Ok),
    }
}

/// A compare-and-set register operation over three values.
fn cas_op(b: u8) -> (CasInput, RegisterOutput) {
    let v = u64::from(b % 3);
    match (b >> 2) % 3 {
        0 => {
            let seen = (b & 0x20 != 0).then_some(v);
            (CasInput::Read, RegisterOutput::Value(seen))
        }
        1 => (CasInput::Write(v), RegisterOutput::Ok),
        _ => (
            CasInput::Cas {
                expect: (b & 0x40 != 0).then_some(v),
                new: (v + 1) % 3,
            },
            RegisterOutput::Cas(b & 0x80 != 0),
        ),
    }
}

fn check<M>(model: &M, ops: &[ModelOp<M::Input, M::Output>])
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let (verdict, parts) = match (
        check_model(model, ops, BUDGET),
        check_model_parts(model, ops, BUDGET),
    ) {
        (Ok(verdict), Ok(parts)) => (verdict, parts),
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            return;
        }
        (a, b) => panic!("one check refused the history: {a:?} / {b:?}"),
    };
    let failing: Vec<_> = (parts.iter())
        .filter_map(|p| match &p.result {
            PartResult::NotLinearizable(r) => Some(r),
            _ => None,
        })
        .collect();
    let unknown = parts.iter().any(|p| p.result == PartResult::Unknown);
    match &verdict {
        ModelVerdict::Linearizable => assert!(failing.is_empty() && !unknown),
        ModelVerdict::Unknown { .. } => assert!(failing.is_empty() && unknown),
        ModelVerdict::NotLinearizable(r) => {
            assert!(
                failing
                    .iter()
                    .any(|f| f.part == r.part && f.failed_at == r.failed_at),
                "{r:?} is not among the parts' failures {failing:?}"
            );
            assert!(r.window.contains(&r.culprit));
            let _ = r.describe(model, ops);
            let _ = history_html(model, ops, Some(r), "fuzz");
        }
    }
    let largest_part = parts.iter().map(|p| p.operations).max().unwrap_or(0);
    if largest_part <= BRUTE_MAX && !unknown {
        assert_eq!(
            verdict == ModelVerdict::Linearizable,
            brute::brute(model, ops),
            "{verdict:?}"
        );
    }
}
