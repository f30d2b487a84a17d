//! Machines for synod-lock's benchmarks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use synod_lock::{Command, LockMachine, Request};

/// A machine with `sessions` open sessions (a day to live), one per
/// client, `waiters` of them queued with deadlines behind one holder, and
/// log time at 1,000 ms in term 1; the next log index.
#[must_use]
pub fn machine(sessions: u64, waiters: u64) -> (LockMachine, u64) {
    let mut m = LockMachine::new();
    let mut index = 0;
    let mut apply = |m: &mut LockMachine, client: u64, command: Command| {
        index += 1;
        m.apply(
            index,
            Request {
                client,
                seq: 1,
                command,
            },
        )
    };
    apply(
        &mut m,
        0,
        Command::Clock {
            term: 1,
            now_ms: 1_000,
        },
    );
    let mut ids = Vec::new();
    for c in 1..=sessions {
        if let synod_lock::Response::Opened { session, .. } =
            apply(&mut m, c, Command::OpenSession { ttl_ms: 86_400_000 })
        {
            ids.push((c, session));
        }
    }
    for &(c, session) in ids.iter().take(waiters as usize) {
        let command = Command::Acquire {
            session,
            lock: "hot".to_string(),
            mode: synod_lock::Mode::Exclusive,
            wait_ms: Some(86_400_000),
        };
        // A second request of the client: its next sequence number.
        index += 1;
        m.apply(
            index,
            Request {
                client: c,
                seq: 2,
                command,
            },
        );
    }
    (m, index + 1)
}
