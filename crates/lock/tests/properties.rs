//! Random command sequences from a few clients over a few locks, with
//! clock stamps and leader changes: after every command the machine's
//! invariants hold, tokens only rise, every holder is an open session,
//! a repeated request changes nothing, and a snapshot restores the same
//! machine.

use proptest::prelude::*;
use synod_lock::*;
use synod_node::StateMachine;

#[derive(Debug, Clone)]
enum Op {
    Clock {
        term_up: bool,
        advance_ms: u64,
    },
    Open {
        client: u64,
        ttl_ms: u64,
    },
    KeepAlive {
        client: u64,
        session: usize,
    },
    Close {
        client: u64,
        session: usize,
    },
    Acquire {
        client: u64,
        session: usize,
        lock: u8,
        mode: u8,
        wait_ms: Option<u64>,
    },
    Downgrade {
        client: u64,
        lock: u8,
    },
    Release {
        client: u64,
        session: usize,
        lock: u8,
        stale: bool,
    },
    Cancel {
        client: u64,
        session: usize,
        lock: u8,
    },
    Retry,
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    let client = 1..4u64;
    let session = 0..6usize;
    let lock = 0..3u8;
    prop_oneof![
        (any::<bool>(), 0..300u64).prop_map(|(term_up, advance_ms)| Op::Clock {
            term_up,
            advance_ms
        }),
        (client.clone(), 1..400u64).prop_map(|(client, ttl_ms)| Op::Open { client, ttl_ms }),
        (client.clone(), session.clone())
            .prop_map(|(client, session)| Op::KeepAlive { client, session }),
        (client.clone(), session.clone())
            .prop_map(|(client, session)| Op::Close { client, session }),
        (
            client.clone(),
            session.clone(),
            lock.clone(),
            0..4u8,
            proptest::option::of(0..300u64)
        )
            .prop_map(|(client, session, lock, mode, wait_ms)| Op::Acquire {
                client,
                session,
                lock,
                mode,
                wait_ms
            }),
        (client.clone(), lock.clone()).prop_map(|(client, lock)| Op::Downgrade { client, lock }),
        (client.clone(), session.clone(), lock.clone(), any::<bool>()).prop_map(
            |(client, session, lock, stale)| Op::Release {
                client,
                session,
                lock,
                stale
            }
        ),
        (client, session, lock).prop_map(|(client, session, lock)| Op::Cancel {
            client,
            session,
            lock
        }),
        Just(Op::Retry),
        Just(Op::Snapshot),
    ]
}

fn name(lock: u8) -> String {
    format!("lock-{lock}")
}

/// Mostly read-write use; lock 2 is also asked for as a semaphore (the
/// machine refuses the mix).
fn mode(m: u8) -> Mode {
    match m {
        0 | 1 => Mode::Exclusive,
        2 => Mode::Shared,
        _ => Mode::Permit { capacity: 2 },
    }
}

fn first_holder(m: &LockMachine, lock: u8) -> Option<(SessionId, Token)> {
    match m.answer(&Query::Holders(name(lock))) {
        QueryAnswer::Holders(h) => h.first().map(|&(s, _, t)| (s, t)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_under_any_command_sequence(ops in proptest::collection::vec(op(), 1..200)) {
        let mut m = LockMachine::new();
        let mut index = 0;
        let mut seqs = std::collections::BTreeMap::new();
        let mut sessions: Vec<SessionId> = Vec::new();
        let (mut term, mut now) = (1u64, 0u64);
        let mut last_request: Option<Request> = None;
        let mut top_token = 0;
        for op in ops {
            let pick = |i: usize| sessions.get(i % sessions.len().max(1)).copied().unwrap_or(999);
            let command = match op {
                Op::Clock { term_up, advance_ms } => {
                    term += u64::from(term_up);
                    now += advance_ms;
                    Some((0, Command::Clock { term, now_ms: now }))
                }
                Op::Open { client, ttl_ms } => Some((client, Command::OpenSession { ttl_ms })),
                Op::KeepAlive { client, session } => Some((client, Command::KeepAlive { session: pick(session) })),
                Op::Close { client, session } if session % 2 == 0 => Some((client, Command::SetLockDelay { session: pick(session), delay_ms: 150 })),
                Op::Close { client, session } => Some((client, Command::CloseSession { session: pick(session) })),
                Op::Acquire { client, session, lock, mode: m_, wait_ms } => Some((client, Command::Acquire {
                    session: pick(session), lock: name(lock), mode: mode(m_), wait_ms,
                })),
                Op::Downgrade { client, lock } => {
                    let (s, t) = first_holder(&m, lock).unwrap_or((999, 1));
                    Some((client, Command::Downgrade { session: s, lock: name(lock), token: t }))
                }
                Op::Release { client, session, lock, stale } => {
                    let (s, t) = first_holder(&m, lock).unwrap_or((pick(session), 1));
                    Some((client, Command::Release { session: s, lock: name(lock), token: if stale { t.saturating_sub(1) } else { t } }))
                }
                Op::Cancel { client, session, lock } => Some((client, Command::Cancel { session: pick(session), lock: name(lock) })),
                Op::Retry => {
                    if let Some(r) = last_request.clone() {
                        // The same request committed again: same answer,
                        // same state.
                        let before = m.clone();
                        index += 1;
                        let first = m.apply(index, r.clone());
                        index += 1;
                        let again = m.apply(index, r);
                        prop_assert_eq!(first, again);
                        prop_assert_eq!(&before, &m, "a retry changed the machine");
                    }
                    None
                }
                Op::Snapshot => {
                    let mut restored = LockMachine::new();
                    restored.restore(&m.snapshot()).unwrap();
                    prop_assert_eq!(&restored, &m);
                    m = restored;
                    None
                }
            };
            let Some((client, command)) = command else { continue };
            let seq = seqs.entry(client).or_insert(0u64);
            *seq += 1;
            let request = Request { client, seq: *seq, command };
            index += 1;
            let response = m.apply(index, request.clone());
            if request.client != 0 {
                last_request = Some(request);
            }
            if let Response::Opened { session, .. } = response {
                sessions.push(session);
            }
            if let Err(e) = m.check_invariants() {
                prop_assert!(false, "after {index}: {e}");
            }
            prop_assert!(m.last_token() >= top_token, "tokens went back");
            top_token = m.last_token();
            if let QueryAnswer::Events { events, .. } = m.answer(&Query::Events { after: index - 1, max: usize::MAX }) {
                let mut floor = 0;
                for (_, e) in events {
                    if let Event::Granted { token, session, .. } = e {
                        prop_assert!(token > floor, "token {token} not above {floor}");
                        floor = token;
                        let _ = session;
                    }
                }
            }
        }
    }
}
