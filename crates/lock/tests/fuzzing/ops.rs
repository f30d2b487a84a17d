//! Fuzz interpreter: one lock machine fed commands built from the input
//! (every kind, from a few clients over a few sessions and locks, with
//! clock stamps and term changes), retries of each client's latest request, raw
//! bytes as requests and as snapshots, and snapshot round trips. Nothing
//! may panic; after every step the machine's invariants hold, tokens never
//! go back, a retry changes nothing, and a snapshot restores an equal
//! machine. Shared by `fuzz/fuzz_targets/lock_ops.rs` and the crate's
//! `fuzz_inputs` test.
#![allow(dead_code, unreachable_pub)]

use arbitrary::Unstructured;
use synod_lock::{
    Command, LockMachine, Mode, Query, QueryAnswer, Reentrancy, Request, Response, SessionId,
    Standing, Write,
};
use synod_node::StateMachine;

pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut m = LockMachine::new();
    let mut index = 0u64;
    let mut sessions: Vec<SessionId> = Vec::new();
    let mut seqs = [0u64; 4];
    let (mut term, mut now) = (1u64, 0u64);
    // Each client's latest request and its answer: a retry of it must get
    // the same answer whatever other clients, clocks and snapshots did
    // since.
    let mut latest: [Option<(Request, Response)>; 4] = Default::default();
    for _ in 0..512 {
        let Ok(kind) = u.int_in_range(0..=10u8) else {
            break;
        };
        let client = u.int_in_range(1..=3u64).unwrap_or(1);
        let session = match u.int_in_range(0..=7usize) {
            Ok(i) if i < sessions.len() => sessions[i],
            Ok(i) => i as u64 * 1_000 + 7, // not a session
            Err(_) => 0,
        };
        let lock = format!("l{}", u.int_in_range(0..=2u8).unwrap_or(0));
        let lock_name = lock.clone();
        let value: u64 = u.arbitrary().unwrap_or(0);
        let command = match kind {
            0 => {
                term += u64::from(value.is_multiple_of(5));
                now = now.saturating_add(value % 500);
                // Now and then a deposed leader's late stamp, from an
                // older term and another clock.
                let (t, at) = if value % 7 == 3 {
                    (term.saturating_sub(1), now.saturating_sub(value % 300))
                } else {
                    (term, now)
                };
                Some(Command::Clock {
                    term: t,
                    now_ms: at,
                })
            }
            1 => Some(Command::OpenSession {
                ttl_ms: value % 1_000,
            }),
            2 => Some(Command::KeepAlive { session }),
            3 if value.is_multiple_of(3) => Some(Command::SetLockDelay {
                session,
                delay_ms: value % 70_000,
            }),
            3 => Some(Command::CloseSession { session }),
            4 => Some(Command::Acquire {
                session,
                lock,
                mode: match value % 5 {
                    0 | 1 => Mode::Exclusive,
                    2 => Mode::Shared,
                    3 => Mode::Permit { capacity: 2 },
                    _ => Mode::Permit {
                        capacity: (value >> 8) as u32 % 4,
                    },
                },
                wait_ms: (!value.is_multiple_of(3)).then_some(value % 400),
            }),
            5 => Some(Command::Release {
                session,
                lock,
                token: value % 16,
            }),
            6 if value.is_multiple_of(2) => Some(Command::Downgrade {
                session,
                lock,
                token: value % 16,
            }),
            6 if value % 3 == 1 => Some(Command::SetReentrancy {
                lock,
                reentrancy: match value % 4 {
                    0 => Reentrancy::Off,
                    1 | 2 => Reentrancy::Limit((value >> 8) as u32 % 4),
                    _ => Reentrancy::Unlimited,
                },
            }),
            6 => Some(Command::Cancel { session, lock }),
            7 => {
                // A retry of this client's latest request: the same answer,
                // no change.
                if let Some((request, response)) = latest[client as usize].clone() {
                    let before = m.clone();
                    index += 1;
                    assert_eq!(
                        m.apply(index, request),
                        response,
                        "a retry answered differently"
                    );
                    assert_eq!(m, before, "a retry changed the machine");
                }
                None
            }
            8 => {
                let bytes: Vec<u8> = u.arbitrary().unwrap_or_default();
                index += 1;
                // Bytes that decode to a request are a request like any
                // other: a later one from the latest request's client moves
                // its sequence on, and a retry of the older request is then
                // rightly refused as stale (found by the fuzzer: raw bytes
                // decoded to client 3's seq 3 after its seq 1).
                if let Ok(request) = Request::decode(&bytes)
                    && !matches!(request.command, Command::Clock { .. })
                    && let Some(slot) = latest.get_mut(request.client as usize)
                    && slot.as_ref().is_some_and(|(l, _)| request.seq > l.seq)
                {
                    *slot = None;
                }
                let _ = m.apply_bytes(index, &bytes);
                None
            }
            9 => {
                let mut restored = LockMachine::new();
                restored
                    .restore(&m.snapshot())
                    .expect("a snapshot restores");
                assert_eq!(restored, m, "a snapshot restored another machine");
                m = restored;
                None
            }
            10 => Some(Command::Write(Write {
                guards: if value.is_multiple_of(2) {
                    vec![(lock.clone(), value % 8)]
                } else {
                    Vec::new()
                },
                checks: if value.is_multiple_of(3) {
                    vec![(format!("k{}", value % 3), value % 50)]
                } else {
                    Vec::new()
                },
                puts: vec![(
                    format!("k{}", value % 5),
                    (!value.is_multiple_of(7)).then(|| value.to_le_bytes().to_vec()),
                )],
            })),
            _ => {
                let bytes: Vec<u8> = u.arbitrary().unwrap_or_default();
                let mut other = LockMachine::new();
                let _ = other.restore(&bytes::Bytes::from(bytes));
                None
            }
        };
        let token_before = m.last_token();
        if let Some(command) = command {
            let is_clock = matches!(command, Command::Clock { .. });
            let slot = client as usize;
            seqs[slot] += 1;
            let request = Request {
                client: if is_clock { 0 } else { client },
                seq: seqs[slot],
                command,
            };
            index += 1;
            let response = m.apply(index, request.clone());
            if let Response::Opened { session, .. } = response {
                sessions.push(session);
            }
            if !is_clock {
                latest[slot] = Some((request, response));
            }
        }
        if let Err(e) = m.check_invariants() {
            panic!("after index {index}: {e}");
        }
        // One read of where a session stands agrees with the holders.
        let standing = m.answer(&Query::Standing {
            lock: lock_name.clone(),
            session,
        });
        let holds = match m.answer(&Query::Holders(lock_name)) {
            QueryAnswer::Holders(h) => h.iter().any(|&(s, _, _)| s == session),
            _ => false,
        };
        assert_eq!(
            matches!(standing, QueryAnswer::Standing(Standing::Holds { .. })),
            holds,
            "Standing and Holders disagree"
        );
        assert!(m.last_token() >= token_before, "tokens went back");
    }
}
