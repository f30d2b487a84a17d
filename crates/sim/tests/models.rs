//! The generic checker against a brute-force search, for every built-in
//! model, on thousands of random small histories with failed and unknown
//! operations; and hand-made histories that are and are not linearizable.

use proptest::prelude::*;
use synod_sim::models::*;
use synod_sim::{
    Model, ModelOp, ModelVerdict, Outcome, PartResult, check_model, check_model_parts,
};

use crate::fuzz_inputs::history::brute::{brute, cut, returned};

/// Random timing and outcomes around the given inputs and outputs.
fn history<I: Clone, O: Clone>(ops: Vec<(I, O, u64, u64, u8)>) -> Vec<ModelOp<I, O>> {
    ops.into_iter()
        .enumerate()
        .map(|(k, (input, output, start, len, kind))| ModelOp {
            client: k as u64,
            input,
            invoked: start,
            outcome: match kind % 8 {
                // A give-up time bounds nothing: the brute force ignores it.
                0 => Outcome::Unknown {
                    gave_up: len.is_multiple_of(2).then_some(start + len),
                },
                1 => Outcome::Failed,
                _ => Outcome::Returned {
                    time: start + len,
                    output,
                },
            },
        })
        .collect()
}

fn agrees<M>(model: &M, h: &[ModelOp<M::Input, M::Output>]) -> Result<(), TestCaseError>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let fast = check_model(model, h, 1_000_000).unwrap();
    let slow = brute(model, h);
    prop_assert!(
        !matches!(fast, ModelVerdict::Unknown { .. }),
        "budget ran out on a tiny history"
    );
    prop_assert_eq!(fast == ModelVerdict::Linearizable, slow, "{:?}", h);
    if let ModelVerdict::NotLinearizable(r) = &fast {
        // The smallest failing window: the failing part cut at `failed_at`
        // has no linearization, cut at its completion before that it has.
        let part: Vec<ModelOp<M::Input, M::Output>> = (h.iter())
            .filter(|op| model.partition(&op.input) == r.part && op.outcome != Outcome::Failed)
            .cloned()
            .collect();
        prop_assert_eq!(returned(&h[r.culprit]), Some(r.failed_at));
        prop_assert!(r.window.contains(&r.culprit));
        prop_assert!(!brute(model, &cut(&part, r.failed_at)), "{:?} {:?}", r, h);
        let before = (part.iter())
            .filter_map(returned)
            .filter(|&t| t < r.failed_at)
            .max();
        if let Some(t) = before {
            prop_assert!(brute(model, &cut(&part, t)), "{:?} {:?}", r, h);
        }
    }
    Ok(())
}

fn times() -> impl Strategy<Value = (u64, u64, u8)> {
    (0..12u64, 0..6u64, any::<u8>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn register_agrees(ops in prop::collection::vec(
        (prop_oneof![Just(RegisterInput::Read), (0..3u64).prop_map(RegisterInput::Write)],
         prop_oneof![Just(RegisterOutput::Ok), prop::option::of(0..3u64).prop_map(RegisterOutput::Value)],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&Register, &h)?;
    }

    #[test]
    fn cas_register_agrees(ops in prop::collection::vec(
        (prop_oneof![
            Just(CasInput::Read),
            (0..3u64).prop_map(CasInput::Write),
            (prop::option::of(0..3u64), 0..3u64).prop_map(|(expect, new)| CasInput::Cas { expect, new }),
        ],
         prop_oneof![
            Just(RegisterOutput::Ok),
            prop::option::of(0..3u64).prop_map(RegisterOutput::Value),
            any::<bool>().prop_map(RegisterOutput::Cas),
        ],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&CasRegister, &h)?;
    }

    #[test]
    fn counter_agrees(ops in prop::collection::vec(
        (prop_oneof![Just(CounterInput::Read), (-2..3i64).prop_map(CounterInput::Add)],
         prop_oneof![Just(CollectionOutput::Ok), (-3..5i64).prop_map(CollectionOutput::Count)],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&Counter, &h)?;
    }

    #[test]
    fn set_agrees(ops in prop::collection::vec(
        (prop_oneof![
            (0..3u64).prop_map(SetInput::Add),
            (0..3u64).prop_map(SetInput::Remove),
            (0..3u64).prop_map(SetInput::Contains),
            Just(SetInput::ReadAll),
        ],
         prop_oneof![
            any::<bool>().prop_map(CollectionOutput::Bool),
            prop::collection::btree_set(0..3u64, 0..3).prop_map(CollectionOutput::All),
        ],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&Set, &h)?;
    }

    #[test]
    fn queue_agrees(ops in prop::collection::vec(
        (prop_oneof![(0..3u64).prop_map(QueueInput::Enqueue), Just(QueueInput::Dequeue)],
         prop_oneof![Just(CollectionOutput::Ok), prop::option::of(0..3u64).prop_map(CollectionOutput::Item)],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&Queue, &h)?;
    }

    #[test]
    fn key_value_agrees(ops in prop::collection::vec(
        ((0..3u8, 0..2u8, 0..2u8),
         prop_oneof![Just(KvOutput::Ok), prop::option::of(prop_oneof![
            Just("a".to_string()), Just("b".to_string()), Just("ab".to_string()), Just("aa".to_string()),
         ]).prop_map(KvOutput::Value)],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|((kind, key, val), o, (s, l, k))| {
            let (key, val) = (format!("k{key}"), ["a", "b"][val as usize].to_string());
            let input = match kind {
                0 => KvInput::Get(key),
                1 => KvInput::Put(key, val),
                _ => KvInput::Append(key, val),
            };
            (input, o, s, l, k)
        }).collect());
        agrees(&KeyValue, &h)?;
    }

    #[test]
    fn fenced_mutex_agrees(ops in prop::collection::vec(
        (prop_oneof![
            (0..2u64).prop_map(|client| MutexInput::Acquire { client }),
            (0..2u64).prop_map(|client| MutexInput::Release { client }),
        ],
         prop_oneof![
            (1..5u64).prop_map(MutexOutput::Granted),
            Just(MutexOutput::Released),
            Just(MutexOutput::Refused),
        ],
         times()), 0..7)) {
        let h = history(ops.into_iter().map(|(i, o, (s, l, k))| (i, o, s, l, k)).collect());
        agrees(&FencedMutex, &h)?;
    }
}

fn op<I, O>(input: I, invoked: u64, returned: u64, output: O) -> ModelOp<I, O> {
    ModelOp {
        client: 0,
        input,
        invoked,
        outcome: Outcome::Returned {
            time: returned,
            output,
        },
    }
}

#[test]
fn hand_made_histories() {
    use CollectionOutput as C;
    // A queue must not hand out the later item first.
    let fifo = [
        op(QueueInput::Enqueue(1), 0, 1, C::Ok),
        op(QueueInput::Enqueue(2), 2, 3, C::Ok),
        op(QueueInput::Dequeue, 4, 5, C::Item(Some(2))),
    ];
    assert!(matches!(
        check_model(&Queue, &fifo, 1_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
    // Concurrent enqueues may land in either order.
    let racing = [
        op(QueueInput::Enqueue(1), 0, 3, C::Ok),
        op(QueueInput::Enqueue(2), 1, 3, C::Ok),
        op(QueueInput::Dequeue, 4, 5, C::Item(Some(2))),
    ];
    assert_eq!(
        check_model(&Queue, &racing, 1_000).unwrap(),
        ModelVerdict::Linearizable
    );
    // A lost counter increment: two adds of 1, then a read of 1.
    let lost = [
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Read, 2, 3, C::Count(1)),
    ];
    assert!(matches!(
        check_model(&Counter, &lost, 1_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
    // The same with one add failed (it did not happen): fine.
    let mut failed = lost.clone();
    failed[1].outcome = Outcome::Failed;
    assert_eq!(
        check_model(&Counter, &failed, 1_000).unwrap(),
        ModelVerdict::Linearizable
    );
    // Two holders of a mutex at once, and a token going back.
    let two = [
        op(
            MutexInput::Acquire { client: 1 },
            0,
            1,
            MutexOutput::Granted(1),
        ),
        op(
            MutexInput::Acquire { client: 2 },
            2,
            3,
            MutexOutput::Granted(2),
        ),
    ];
    assert!(matches!(
        check_model(&FencedMutex, &two, 1_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
    let back = [
        op(
            MutexInput::Acquire { client: 1 },
            0,
            1,
            MutexOutput::Granted(5),
        ),
        op(
            MutexInput::Release { client: 1 },
            2,
            3,
            MutexOutput::Released,
        ),
        op(
            MutexInput::Acquire { client: 2 },
            4,
            5,
            MutexOutput::Granted(3),
        ),
    ];
    assert!(matches!(
        check_model(&FencedMutex, &back, 1_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
    // Keys are independent parts: a stale read of one key is reported on
    // its own part.
    let kv = [
        op(KvInput::Put("x".into(), "1".into()), 0, 1, KvOutput::Ok),
        op(KvInput::Get("y".into()), 0, 1, KvOutput::Value(None)),
        op(KvInput::Get("x".into()), 2, 3, KvOutput::Value(None)),
    ];
    match check_model(&KeyValue, &kv, 1_000).unwrap() {
        ModelVerdict::NotLinearizable(r) => assert_eq!(r.part, KeyValue.partition(&kv[0].input)),
        other => panic!("{other:?}"),
    }
    // A completion before its invocation is a malformed record.
    let bad = [op(RegisterInput::Read, 5, 4, RegisterOutput::Value(None))];
    assert!(check_model(&Register, &bad, 10).is_err());
}

/// Part "a": many concurrent writes and reads (a large search); part "b":
/// a stale read.
fn costly_a_and_stale_b() -> Vec<ModelOp<KvInput, KvOutput>> {
    let mut h = Vec::new();
    for i in 0..12u64 {
        h.push(op(
            KvInput::Put("a".into(), i.to_string()),
            0,
            100,
            KvOutput::Ok,
        ));
        h.push(op(
            KvInput::Get("a".into()),
            0,
            100,
            KvOutput::Value(Some(((i + 5) % 12).to_string())),
        ));
    }
    h.push(op(KvInput::Put("b".into(), "1".into()), 0, 1, KvOutput::Ok));
    h.push(op(KvInput::Get("b".into()), 2, 3, KvOutput::Value(None)));
    h
}

#[test]
fn a_part_out_of_budget_does_not_hide_a_violation_in_another() {
    // With a tiny budget per part, "b" is still found.
    let h = costly_a_and_stale_b();
    let verdict = check_model(&KeyValue, &h, 40).unwrap();
    assert!(
        matches!(verdict, ModelVerdict::NotLinearizable(ref r) if r.part == KeyValue.partition(&KvInput::Get("b".into()))),
        "{verdict:?}"
    );
}

#[test]
fn each_part_reports_its_operations_steps_and_result_the_same_every_time() {
    let mut h = costly_a_and_stale_b();
    for k in 0..20u64 {
        h.push(op(
            KvInput::Put(format!("c{k}"), "v".into()),
            0,
            1,
            KvOutput::Ok,
        ));
    }
    let parts = check_model_parts(&KeyValue, &h, 40).unwrap();
    assert_eq!(parts.len(), 22);
    assert_eq!(parts.iter().map(|p| p.operations).sum::<usize>(), h.len());
    let part_of = |key: &str| KeyValue.partition(&KvInput::Get(key.into()));
    let a = parts.iter().find(|p| p.part == part_of("a")).unwrap();
    assert_eq!((a.result.clone(), a.steps), (PartResult::Unknown, 40));
    let b = parts.iter().find(|p| p.part == part_of("b")).unwrap();
    assert!(matches!(b.result, PartResult::NotLinearizable(_)) && b.steps > 0);
    assert!(
        parts.windows(2).all(|w| w[0].part < w[1].part),
        "not in part order"
    );
    // Checked on several threads: the same answer every time.
    for _ in 0..5 {
        assert_eq!(check_model_parts(&KeyValue, &h, 40).unwrap(), parts);
    }
}

#[test]
fn a_report_says_what_was_placed_and_why_the_rest_cannot_go() {
    use CollectionOutput as C;
    let lost = [
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Read, 2, 3, C::Count(1)),
    ];
    let ModelVerdict::NotLinearizable(report) = check_model(&Counter, &lost, 1_000).unwrap() else {
        panic!("linearizable?");
    };
    let text = report.describe(&Counter, &lost);
    assert!(text.contains("places 2 operation(s)"), "{text}");
    assert!(text.contains("leaving the state 2"), "{text}");
    assert!(
        text.contains(
            "#2 client 0 [2, 3] Read -> Count(1) (completes at the cut): its output is impossible"
        ),
        "{text}"
    );
    assert_eq!((report.failed_at, report.culprit), (3, 2));
    assert_eq!(
        report.window,
        vec![2],
        "only the read is concurrent with itself"
    );
}

// The smallest failing window: a long history that goes wrong once, in
// the middle, is cut at the first completion no order explains, and the
// window holds only the operations concurrent with it; what came after
// is left out of the report.
#[test]
fn the_report_narrows_a_long_history_to_the_first_failing_completion() {
    use CollectionOutput as C;
    let mut h = Vec::new();
    let mut t = 0;
    // 40 increments, each read back: fine.
    for n in 1..=40i64 {
        h.push(op(CounterInput::Add(1), t, t + 2, C::Ok));
        h.push(op(CounterInput::Read, t + 3, t + 4, C::Count(n)));
        t += 5;
    }
    // An increment overlapping a read that saw it and one that did not
    // (fine: either order), then a read that lost it (the failure).
    let at = t;
    h.push(op(CounterInput::Add(1), at, at + 4, C::Ok));
    h.push(op(CounterInput::Read, at + 1, at + 2, C::Count(41)));
    h.push(op(CounterInput::Read, at + 5, at + 6, C::Count(40)));
    // 40 more operations after it, all consistent with one another.
    for n in 0..40u64 {
        h.push(op(
            CounterInput::Read,
            at + 10 + n,
            at + 10 + n,
            C::Count(41),
        ));
    }
    for (k, o) in h.iter_mut().enumerate() {
        o.client = k as u64 % 4;
    }
    let ModelVerdict::NotLinearizable(report) = check_model(&Counter, &h, 1_000_000).unwrap()
    else {
        panic!("linearizable?");
    };
    let culprit = 82;
    assert_eq!((report.failed_at, report.culprit), (at + 6, culprit));
    assert_eq!(report.window, vec![culprit]);
    // Everything before the failing read is placed, nothing after it.
    assert_eq!(report.linearized.len(), 82);
    assert!(report.linearized.iter().all(|&i| i < culprit));
    let text = report.describe(&Counter, &h);
    assert!(
        text.contains("not linearizable from time 206 on, when #82 completes"),
        "{text}"
    );
}

/// Histories and verdicts save and load as JSON (the `serde` feature).
#[cfg(feature = "serde")]
#[test]
fn histories_and_verdicts_round_trip_through_json() {
    let h = vec![
        op(KvInput::Put("x".into(), "1".into()), 0, 1, KvOutput::Ok),
        ModelOp {
            client: 3,
            input: KvInput::Append("x".into(), "2".into()),
            invoked: 1,
            outcome: Outcome::UNKNOWN,
        },
        op(
            KvInput::Get("x".into()),
            2,
            3,
            KvOutput::Value(Some("12".into())),
        ),
    ];
    let json = serde_json::to_string(&h).unwrap();
    let back: Vec<ModelOp<KvInput, KvOutput>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h);
    let verdict = check_model(&KeyValue, &back, 1_000).unwrap();
    assert_eq!(verdict, ModelVerdict::Linearizable);
    let parts = check_model_parts(&KeyValue, &back, 1_000).unwrap();
    let parts_json = serde_json::to_string(&parts).unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<synod_sim::PartCheck>>(&parts_json).unwrap(),
        parts
    );
    // Malformed JSON is an error, not a panic.
    assert!(serde_json::from_str::<Vec<ModelOp<KvInput, KvOutput>>>("[{\"client\":1}]").is_err());
}

#[test]
fn the_html_page_shows_every_operation_with_the_failure_marked() {
    use CollectionOutput as C;
    let mut lost = vec![
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Add(1), 0, 1, C::Ok),
        op(CounterInput::Read, 2, 3, C::Count(1)),
    ];
    lost.push(ModelOp {
        client: 9,
        input: CounterInput::Add(5),
        invoked: 1,
        outcome: Outcome::Unknown { gave_up: Some(2) },
    });
    for (k, o) in lost.iter_mut().enumerate() {
        o.client = k as u64 % 3;
    }
    let ModelVerdict::NotLinearizable(report) = check_model(&Counter, &lost, 1_000).unwrap() else {
        panic!("linearizable?");
    };
    let page = synod_sim::history_html(&Counter, &lost, Some(&report), "a <lost> increment");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        page.matches("<g class=\"op").count(),
        lost.len(),
        "one bar per operation"
    );
    let unplaced = (report.window.iter())
        .filter(|i| !report.linearized.contains(i))
        .count();
    assert_eq!(page.matches("op stuck").count(), unplaced);
    assert_eq!(
        page.matches("culprit\"").count(),
        1,
        "the culprit is outlined"
    );
    assert_eq!(page.matches("class=\"cut\"").count(), 1, "the cut is drawn");
    assert_eq!(
        page.matches("op placed").count() + page.matches("op unknown placed").count(),
        report.linearized.len()
    );
    assert!(
        page.contains("op unknown"),
        "the unknown outcome is drawn open-ended"
    );
    assert_eq!(
        page.matches("class=\"gaveup\"").count(),
        1,
        "the give-up time is marked"
    );
    assert!(page.contains("[1, ?, gave up at 2]"), "{page}");
    assert!(
        page.contains("a &lt;lost&gt; increment") && !page.contains("<lost>"),
        "not escaped"
    );
    assert!(
        page.contains("<title>#2 Read -&gt; Count(1) [2, 3]</title>"),
        "{page}"
    );
    assert!(
        !page.contains("http://") || page.contains("xmlns=\"http://www.w3.org/2000/svg\""),
        "self-contained"
    );
}

/// Key `key`: `writes` overlapping puts of distinct values, then a read
/// that sees `seen` (one of them: linearizable; another value: not, and
/// proving it takes every order of the puts).
fn costly_key(key: &str, writes: u64, seen: &str) -> Vec<ModelOp<KvInput, KvOutput>> {
    let mut h: Vec<_> = (0..writes)
        .map(|v| {
            op(
                KvInput::Put(key.into(), v.to_string()),
                v,
                100,
                KvOutput::Ok,
            )
        })
        .collect();
    h.push(op(
        KvInput::Get(key.into()),
        101,
        102,
        KvOutput::Value(Some(seen.into())),
    ));
    h
}

// check_model's rounds search a costly part in slices, resumed where they
// stopped: the verdict and the report are those of searching every part
// to the end, and one failing part ends the check.
#[test]
fn rounds_resume_costly_parts_and_agree_with_searching_each_to_the_end() {
    let mut h = costly_key("a", 12, "0");
    h.extend(costly_key("b", 12, "99"));
    let parts = check_model_parts(&KeyValue, &h, 10_000_000).unwrap();
    assert_eq!(parts.len(), 2);
    for p in &parts {
        assert!(
            p.steps > 40_000,
            "part {} needs several rounds: {p:?}",
            p.part
        );
    }
    let failing = (parts.iter())
        .find_map(|p| match &p.result {
            PartResult::NotLinearizable(r) => Some(r.clone()),
            _ => None,
        })
        .expect("key b fails");
    assert_eq!(
        check_model(&KeyValue, &h, 10_000_000).unwrap(),
        ModelVerdict::NotLinearizable(failing.clone())
    );
    assert_eq!(failing.culprit, 25, "the read of 99");
    // Without the failing key, the costly part alone is linearizable.
    assert_eq!(
        check_model(&KeyValue, &costly_key("a", 12, "0"), 10_000_000).unwrap(),
        ModelVerdict::Linearizable
    );
    // And a budget below what it needs leaves it unknown, not passed.
    assert!(matches!(
        check_model(&KeyValue, &costly_key("a", 12, "0"), 20_000).unwrap(),
        ModelVerdict::Unknown { .. }
    ));
}

// With just the budget to find the failure, the report still names a real
// completion and the operation completing there (not the end of time and
// operation 0); with a few times that budget, narrowing (which has a
// budget of its own) decides every earlier cut and says so.
#[test]
fn a_failure_found_at_the_end_of_the_budget_names_its_culprit() {
    let h = costly_key("b", 5, "99");
    let (budget, report) = (1..100_000u64)
        .find_map(|b| {
            match check_model_parts(&KeyValue, &h, b)
                .unwrap()
                .remove(0)
                .result
            {
                PartResult::NotLinearizable(r) => Some((b, r)),
                _ => None,
            }
        })
        .expect("found within the budgets tried");
    assert!(budget > 10, "{budget}");
    assert_eq!(report.failed_at, 102, "{report:?}");
    assert_eq!(report.culprit, 5, "the read of 99: {report:?}");
    assert!(report.window.contains(&5));
    let PartResult::NotLinearizable(wide) = (check_model_parts(&KeyValue, &h, 3 * budget).unwrap())
        .remove(0)
        .result
    else {
        panic!("a larger budget finds the failure too");
    };
    assert!(wide.narrowed, "{wide:?}");
    assert_eq!((wide.failed_at, wide.culprit), (102, 5));
}

// Several cheap failing parts beside costly ones: whichever thread finds
// which failure first, and though a part after a failing one stops
// searching, the part reported is always the first failing one in part
// order, with the same report as searching every part to the end.
#[test]
fn the_first_failing_part_is_reported_whatever_the_threads_find_first() {
    let mut h = Vec::new();
    for (i, key) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
        if i % 3 == 1 {
            h.extend(costly_key(key, 9, "0"));
        } else {
            // A read of a value never written: fails at once.
            h.extend(costly_key(key, 2, "9"));
        }
    }
    let parts = check_model_parts(&KeyValue, &h, 10_000_000).unwrap();
    let first = (parts.iter())
        .find_map(|p| match &p.result {
            PartResult::NotLinearizable(r) => Some(r.clone()),
            _ => None,
        })
        .expect("some part fails");
    for _ in 0..50 {
        let ModelVerdict::NotLinearizable(r) = check_model(&KeyValue, &h, 10_000_000).unwrap()
        else {
            panic!("not linearizable");
        };
        assert_eq!(r, first);
    }
}
