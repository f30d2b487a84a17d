//! The checker on hand-made histories that are and are not linearizable,
//! and against a brute-force search over every ordering on random small
//! histories.

use proptest::prelude::*;
use synod_sim::*;

/// (client, key, input, invoked, completion)
type RawOp = (u64, Key, Input, u64, Option<(u64, Output)>);

/// Builds a history from raw operations.
fn history(ops: &[RawOp]) -> History {
    let mut h = History::new();
    for &(client, key, input, invoked, completed) in ops {
        let id = h.invoke(client, key, input, invoked);
        if let Some((t, o)) = completed {
            h.complete(id, t, o).unwrap();
        }
    }
    h
}

use Input::*;

const B: u64 = 1_000_000;

#[test]
fn sequential_histories() {
    let ok = history(&[
        (1, 0, Put(1), 0, Some((1, Output::Ok))),
        (1, 0, Get, 2, Some((3, Output::Value(Some(1))))),
        (
            1,
            0,
            Cas {
                expect: Some(1),
                new: 2,
            },
            4,
            Some((5, Output::Cas(true))),
        ),
        (
            1,
            0,
            Cas {
                expect: Some(1),
                new: 3,
            },
            6,
            Some((7, Output::Cas(false))),
        ),
        (1, 0, Get, 8, Some((9, Output::Value(Some(2))))),
    ]);
    assert_eq!(check(&ok, B), Verdict::Linearizable);
    let stale = history(&[
        (1, 0, Put(1), 0, Some((1, Output::Ok))),
        (1, 0, Put(2), 2, Some((3, Output::Ok))),
        (1, 0, Get, 4, Some((5, Output::Value(Some(1))))),
    ]);
    assert!(
        matches!(check(&stale, B), Verdict::NotLinearizable(_)),
        "a read of an overwritten value"
    );
}

// Concurrent operations may take effect in either order.
#[test]
fn concurrency_allows_either_order() {
    let h = history(&[
        (1, 0, Put(1), 0, Some((10, Output::Ok))),
        (2, 0, Put(2), 1, Some((9, Output::Ok))),
        (3, 0, Get, 11, Some((12, Output::Value(Some(1))))),
        (4, 0, Get, 11, Some((13, Output::Value(Some(1))))),
    ]);
    assert_eq!(check(&h, B), Verdict::Linearizable);
    // But two later reads cannot disagree about the final order.
    let h = history(&[
        (1, 0, Put(1), 0, Some((10, Output::Ok))),
        (2, 0, Put(2), 1, Some((9, Output::Ok))),
        (3, 0, Get, 11, Some((12, Output::Value(Some(1))))),
        (4, 0, Get, 13, Some((14, Output::Value(Some(2))))),
    ]);
    let v = check(&h, B);
    let Verdict::NotLinearizable(report) = v else {
        panic!("{v:?}")
    };
    assert_eq!(report.key, 0);
    // The smallest failing window: the history is fine until the second
    // read answers 2 at time 14, and nothing else is concurrent with it.
    assert_eq!((report.failed_at, report.culprit), (14, 3));
    assert_eq!(report.window, vec![3]);
    assert_eq!(report.linearized.len(), 3);
    let text = report.describe(&h);
    assert!(
        text.contains("not linearizable from time 14 on, when #3 completes"),
        "{text}"
    );
}

// A timed-out write may have happened at any time after its invocation,
// or never.
#[test]
fn unknown_outcomes_may_or_may_not_take_effect() {
    let seen = history(&[
        (1, 0, Put(1), 0, None),
        (2, 0, Get, 5, Some((6, Output::Value(Some(1))))),
    ]);
    assert_eq!(check(&seen, B), Verdict::Linearizable);
    let unseen = history(&[
        (1, 0, Put(1), 0, None),
        (2, 0, Get, 5, Some((6, Output::Value(None)))),
    ]);
    assert_eq!(check(&unseen, B), Verdict::Linearizable);
    // But not before it was invoked.
    let early = history(&[
        (2, 0, Get, 0, Some((1, Output::Value(Some(1))))),
        (1, 0, Put(1), 5, None),
    ]);
    assert!(matches!(check(&early, B), Verdict::NotLinearizable(_)));
    // And once seen, it cannot be unseen.
    let flicker = history(&[
        (1, 0, Put(1), 0, None),
        (2, 0, Get, 5, Some((6, Output::Value(Some(1))))),
        (3, 0, Get, 7, Some((8, Output::Value(None)))),
    ]);
    assert!(matches!(check(&flicker, B), Verdict::NotLinearizable(_)));
}

// Keys are independent registers.
#[test]
fn keys_are_checked_separately() {
    let h = history(&[
        (1, 1, Put(5), 0, Some((1, Output::Ok))),
        (1, 2, Get, 2, Some((3, Output::Value(None)))),
        (1, 1, Get, 4, Some((5, Output::Value(Some(5))))),
        (1, 2, Get, 6, Some((7, Output::Value(Some(5))))),
    ]);
    let Verdict::NotLinearizable(report) = check(&h, B) else {
        panic!()
    };
    assert_eq!(report.key, 2);
}

#[test]
fn a_budget_too_small_answers_unknown() {
    let mut ops = Vec::new();
    for i in 0..12u64 {
        ops.push((i, 0, Put(i), 0, Some((100, Output::Ok))));
    }
    ops.push((99, 0, Get, 101, Some((102, Output::Value(Some(77))))));
    let h = history(&ops);
    assert_eq!(check(&h, 50), Verdict::Unknown);
    assert!(matches!(check(&h, u64::MAX), Verdict::NotLinearizable(_)));
}

#[test]
fn bad_recordings_are_errors() {
    let mut h = History::new();
    let id = h.invoke(1, 0, Get, 10);
    assert_eq!(
        h.complete(id, 9, Output::Value(None)),
        Err(SimError::CompletionBeforeInvocation {
            op: id,
            invoked: 10,
            completed: 9
        })
    );
    h.complete(id, 10, Output::Value(None)).unwrap();
    assert_eq!(
        h.complete(id, 11, Output::Value(None)),
        Err(SimError::BadCompletion { op: id })
    );
    assert_eq!(
        h.complete(42, 11, Output::Ok),
        Err(SimError::BadCompletion { op: 42 })
    );
    assert_eq!(h.outcome_counts(), (1, 0));
}

#[test]
fn fault_configs_are_validated() {
    assert!(FaultConfig::none().validate().is_ok());
    assert!(FaultConfig::safety().validate().is_ok());
    for bad in [-0.1, 1.5, f64::NAN] {
        let c = FaultConfig {
            drop: bad,
            ..FaultConfig::none()
        };
        assert!(
            matches!(
                c.validate(),
                Err(SimError::InvalidProbability { field: "drop", .. })
            ),
            "{bad}"
        );
    }
    let c = FaultConfig {
        delay_ticks: (5, 1),
        ..FaultConfig::none()
    };
    assert_eq!(
        c.validate(),
        Err(SimError::InvalidRange {
            field: "delay_ticks",
            min: 5,
            max: 1
        })
    );
}

/// The definition, by brute force: some ordering of all operations that
/// respects real time (an operation completed before another's invocation
/// comes first) explains every output.
fn brute_force(h: &History) -> bool {
    let ops = h.operations();
    let mut keys: Vec<Key> = ops.iter().map(|o| o.key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().all(|k| {
        let ids: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].key == k).collect();
        orderings(&ids).into_iter().any(|order| explains(h, &order))
    })
}

fn orderings(ids: &[usize]) -> Vec<Vec<usize>> {
    if ids.is_empty() {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for (i, &first) in ids.iter().enumerate() {
        let mut rest = ids.to_vec();
        rest.remove(i);
        for mut tail in orderings(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

fn explains(h: &History, order: &[usize]) -> bool {
    let ops = h.operations();
    let ret = |i: usize| ops[i].completed.map_or(u64::MAX, |(t, _)| t);
    for (a, &x) in order.iter().enumerate() {
        for &y in &order[a + 1..] {
            if ret(y) < ops[x].invoked {
                return false; // y finished before x began, yet comes after it
            }
        }
    }
    let mut state: Option<Value> = None;
    for &i in order {
        let out = ops[i].completed.map(|(_, o)| o);
        match ops[i].input {
            Put(v) => {
                if !matches!(out, None | Some(Output::Ok)) {
                    return false;
                }
                state = Some(v);
            }
            Get => {
                if out.is_some_and(|o| o != Output::Value(state)) {
                    return false;
                }
            }
            Cas { expect, new } => {
                let applies = state == expect;
                if out.is_some_and(|o| o != Output::Cas(applies)) {
                    return false;
                }
                if applies {
                    state = Some(new);
                }
            }
        }
    }
    true
}

fn arb_op() -> impl Strategy<Value = RawOp> {
    let input = prop_oneof![
        (0u64..3).prop_map(Put),
        Just(Get),
        (prop::option::of(0u64..3), 0u64..3).prop_map(|(expect, new)| Cas { expect, new }),
    ];
    let output = prop_oneof![
        Just(Output::Ok),
        prop::option::of(0u64..3).prop_map(Output::Value),
        any::<bool>().prop_map(Output::Cas),
    ];
    (
        0u64..3,
        0u64..2,
        input,
        0u64..20,
        0u64..6,
        prop::option::weighted(0.85, output),
    )
        .prop_map(|(client, key, input, start, len, out)| {
            // Keep outputs of the right kind, so histories are plausible.
            let out = out.map(|o| match (input, o) {
                (Put(_), _) => Output::Ok,
                (Get, Output::Value(v)) => Output::Value(v),
                (Get, _) => Output::Value(None),
                (Cas { .. }, Output::Cas(b)) => Output::Cas(b),
                (Cas { .. }, _) => Output::Cas(false),
            });
            (client, key, input, start, out.map(|o| (start + len, o)))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn agrees_with_brute_force(ops in prop::collection::vec(arb_op(), 1..7)) {
        let h = history(&ops);
        let fast = match check(&h, u64::MAX) {
            Verdict::Linearizable => true,
            Verdict::NotLinearizable(_) => false,
            Verdict::Unknown => unreachable!("unlimited budget"),
        };
        prop_assert_eq!(fast, brute_force(&h), "{:?}", h);
    }
}

// A run's failing key, as a page: what `simulate --html DIR` writes.
#[test]
fn a_run_report_draws_its_failing_key() {
    let bad = history(&[
        (1, 0, Put(1), 0, Some((2, Output::Ok))),
        (2, 5, Put(9), 0, Some((1, Output::Ok))),
        (3, 0, Get, 3, Some((4, Output::Value(None)))),
    ]);
    let report = |h: History| RunReport {
        seed: 7,
        protocol: "raft",
        profile: "safety",
        summary: Summary::default(),
        violation: None,
        history: h,
        trace_hash: 0,
        events: Vec::new(),
        check_unknown: false,
    };
    let page = report(bad)
        .history_html(B)
        .expect("a page for a failing key");
    assert!(page.contains("seed 7 (raft): key 0"), "{page}");
    // Key 0's two operations only; the read is the culprit at time 4.
    assert_eq!(page.matches("<g class=\"op").count(), 2, "{page}");
    assert!(page.contains("from time 4 on, when #1"), "{page}");
    assert_eq!(page.matches("culprit\"").count(), 1);
    let good = history(&[(1, 0, Put(1), 0, Some((2, Output::Ok)))]);
    assert_eq!(report(good).history_html(B), None);
}
