//! Histories recorded elsewhere: ordered event lists and Jepsen's register
//! histories (EDN maps and jepsen.util log lines), checked with the
//! compare-and-set register model; and what malformed input gets.

use synod_sim::models::{CasInput, CasRegister, RegisterOutput};
use synod_sim::*;

#[test]
fn an_ordered_event_list_needs_no_timestamps() {
    use HistoryEvent::*;
    let events = vec![
        Call {
            id: 1,
            client: 1,
            input: CasInput::Write(3),
        },
        Call {
            id: 2,
            client: 2,
            input: CasInput::Read,
        },
        Return {
            id: 1,
            output: RegisterOutput::Ok,
        },
        Return {
            id: 2,
            output: RegisterOutput::Value(Some(3)),
        },
        Call {
            id: 3,
            client: 1,
            input: CasInput::Cas {
                expect: Some(1),
                new: 2,
            },
        },
        Fail { id: 3 },
        Call {
            id: 4,
            client: 2,
            input: CasInput::Write(9),
        },
        Info { id: 4 },
        Call {
            id: 5,
            client: 3,
            input: CasInput::Read,
        },
    ];
    let ops = history_from_events(events).unwrap();
    assert_eq!(ops.len(), 5);
    assert_eq!(ops[2].outcome, Outcome::Failed);
    assert_eq!(ops[3].outcome, Outcome::Unknown { gave_up: Some(7) });
    assert_eq!(ops[4].outcome, Outcome::UNKNOWN, "still pending at the end");
    assert_eq!(
        check_model(&CasRegister, &ops, 10_000).unwrap(),
        ModelVerdict::Linearizable
    );
}

#[test]
fn bad_event_lists_are_typed_errors() {
    use HistoryEvent::*;
    let orphan: Vec<HistoryEvent<CasInput, RegisterOutput>> = vec![Return {
        id: 7,
        output: RegisterOutput::Ok,
    }];
    assert_eq!(
        history_from_events(orphan),
        Err(ImportError::NoInvocation { at: 0, id: 7 })
    );
    let twice = vec![
        Call {
            id: 1,
            client: 1,
            input: CasInput::Read,
        },
        Return {
            id: 1,
            output: RegisterOutput::Value(None),
        },
        Return {
            id: 1,
            output: RegisterOutput::Value(None),
        },
    ];
    assert_eq!(
        history_from_events(twice),
        Err(ImportError::NoInvocation { at: 2, id: 1 })
    );
    let reused = vec![
        Call {
            id: 1,
            client: 1,
            input: CasInput::Read,
        },
        Call {
            id: 1,
            client: 2,
            input: CasInput::Read,
        },
    ];
    assert_eq!(
        history_from_events::<_, RegisterOutput>(reused),
        Err(ImportError::InvokedTwice { at: 1, id: 1 })
    );
}

const EDN: &str = r#"
{:type :invoke, :f :write, :value 1, :process 0, :time 10, :index 0}
{:type :ok, :f :write, :value 1, :process 0, :time 20, :index 1}
{:type :invoke, :f :cas, :value [1 4], :process 1, :time 30, :index 2}
{:type :invoke, :f :read, :value nil, :process 2, :time 31, :index 3}
{:type :ok, :f :cas, :value [1 4], :process 1, :time 40, :index 4}
{:type :ok, :f :read, :value 4, :process 2, :time 41, :index 5}
{:type :invoke, :f :cas, :value [1 7], :process 0, :time 50, :index 6}
{:type :fail, :f :cas, :value [1 7], :process 0, :time 60, :index 7}
{:type :invoke, :f :write, :value 5, :process 1, :time 70, :index 8}
{:type :info, :f :write, :value 5, :process 1, :time 80, :index 9}
{:type :invoke, :f :read, :value nil, :process 2, :time 90, :index 10}
{:type :ok, :f :read, :value 5, :process 2, :time 95, :index 11}
"#;

#[test]
fn jepsen_edn_histories_check() {
    let ops = jepsen_register_history(EDN).unwrap();
    assert_eq!(ops.len(), 6);
    assert_eq!(
        check_model(&CasRegister, &ops, 10_000).unwrap(),
        ModelVerdict::Linearizable
    );
    // The same, but the last read sees the failed cas's value: not
    // linearizable.
    let stale = EDN.replace(":ok, :f :read, :value 5", ":ok, :f :read, :value 7");
    let ops = jepsen_register_history(&stale).unwrap();
    assert!(matches!(
        check_model(&CasRegister, &ops, 10_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
}

#[test]
fn jepsen_util_log_lines_check() {
    // The form of Porcupine's etcd test data (jepsen.util log lines).
    let log = "\
INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:ok\t:read\t3
some other log line
INFO  jepsen.util - 2\t:invoke\t:cas\t[3 1]
INFO  jepsen.util - 2\t:ok\t:cas\t[3 1]
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t3
";
    let ops = jepsen_register_history(log).unwrap();
    assert_eq!(ops.len(), 4);
    assert!(matches!(
        check_model(&CasRegister, &ops, 10_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
}

#[test]
fn malformed_jepsen_lines_name_the_line() {
    let cases = [
        (
            "{:type :ok, :f :read, :value 1, :process 4}",
            ImportError::NoInvocation { at: 1, id: 4 },
        ),
        (
            "{:type :invoke, :f :read, :process 1}\n{:type :invoke, :f :read, :process 1}",
            ImportError::InvokedTwice { at: 2, id: 1 },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(jepsen_register_history(text), Err(want), "{text}");
    }
    for text in [
        "{:type :invoke, :f :write, :value x, :process 1}",
        "{:type :invoke, :f :cas, :value [1], :process 1}",
        "{:type :maybe, :f :read, :process 1}",
        "{:type :invoke, :f :read, :process one}",
        "{:type :invoke, :f :read, :process 1",
        "{:type :invoke :f}",
        "{:type :invoke, :f :write, :value [1 2, :process 1}",
        "INFO  jepsen.util - x\t:invoke\t:read\tnil",
        "INFO  jepsen.util - 1\t:invoke\t:write\t-3",
        "INFO  jepsen.util - 1\t:invoke\t:write\t:x",
    ] {
        match jepsen_register_history(text) {
            Err(ImportError::Malformed { line: 1, .. }) => {}
            other => panic!("{text}: {other:?}"),
        }
    }
}

proptest::proptest! {
    /// Whatever the text, a typed answer: never a panic.
    #[test]
    fn any_text_gets_an_answer(lines in proptest::collection::vec(
        proptest::prop_oneof![
            ".*",
            "\\{(:[a-z]+ [\\[\\]0-9a-z: ]*,? ?){0,5}\\}",
            "INFO  jepsen\\.util - [0-9x]{1,3}\t:[a-z]{2,6}\t:[a-z]{3,5}\t[\\[\\]0-9 nil-]{0,8}",
        ], 0..12)) {
        let _ = jepsen_register_history(&lines.join("\n"));
    }
}

#[test]
fn porcupine_key_value_logs_check() {
    let ok = r#"
{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "0", :value ""}
{:process 1, :type :invoke, :f :put, :key "1", :value "a \"q\" b"}
{:process 1, :type :ok, :f :put, :key "1", :value "a \"q\" b"}
{:process 0, :type :invoke, :f :get, :key "1", :value nil}
{:process 0, :type :ok, :f :get, :key "1", :value "a \"q\" b"}
"#;
    let ops = porcupine_kv_history(ok).unwrap();
    assert_eq!(ops.len(), 4);
    assert_eq!(
        check_model(&synod_sim::models::KeyValue, &ops, 10_000).unwrap(),
        ModelVerdict::Linearizable
    );
    // The read of "" after the append returned: not linearizable.
    let bad = ok.replace(
        "{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}",
        "{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}",
    );
    let ops = porcupine_kv_history(&bad).unwrap();
    assert!(matches!(
        check_model(&synod_sim::models::KeyValue, &ops, 10_000).unwrap(),
        ModelVerdict::NotLinearizable(_)
    ));
    for text in [
        r#"{:process 0, :type :invoke, :f :get, :key "0, :value nil}"#,
        r#"{:process 0, :type :invoke, :f :put, :key "0", :value nil}"#,
        r#"{:process 0, :type :invoke, :f :get, :value nil}"#,
    ] {
        assert!(
            matches!(
                porcupine_kv_history(text),
                Err(ImportError::Malformed { line: 1, .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn a_give_up_time_bounds_nothing_and_may_not_precede_the_call() {
    // Client 1 gave up on write 1 at time 3; a read at 10 still sees it:
    // the write may take effect after the client stopped waiting.
    let ops = vec![
        ModelOp {
            client: 1,
            input: CasInput::Write(1),
            invoked: 1,
            outcome: Outcome::Unknown { gave_up: Some(3) },
        },
        ModelOp {
            client: 2,
            input: CasInput::Read,
            invoked: 10,
            outcome: Outcome::Returned {
                time: 11,
                output: RegisterOutput::Value(Some(1)),
            },
        },
    ];
    assert_eq!(
        check_model(&CasRegister, &ops, 10_000).unwrap(),
        ModelVerdict::Linearizable
    );
    let backwards = vec![ModelOp {
        client: 1,
        input: CasInput::Write(1),
        invoked: 5,
        outcome: Outcome::<RegisterOutput>::Unknown { gave_up: Some(4) },
    }];
    assert!(matches!(
        check_model(&CasRegister, &backwards, 10_000),
        Err(SimError::CompletionBeforeInvocation {
            op: 0,
            invoked: 5,
            completed: 4
        })
    ));
}
