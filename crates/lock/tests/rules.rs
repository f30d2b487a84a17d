//! The lock machine rule by rule: sessions in log time, grants with
//! fencing tokens, FIFO queues that wake one waiter, grants re-checking
//! the waiter's session (the etcd 3.4.3 bug Jepsen found), deadlines,
//! cancellation, expiry releasing everything, failover extending leases,
//! exactly-once retries, snapshots, and what bad input gets.

use synod_lock::*;

/// A machine and a log: each call is the next committed entry.
struct Log {
    m: LockMachine,
    index: Index,
    seqs: std::collections::BTreeMap<ClientId, u64>,
    /// The last stamp: (term, time).
    stamped: Option<(u64, u64)>,
}

impl Log {
    fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    fn with_limits(limits: Limits) -> Self {
        Self {
            m: LockMachine::with_limits(limits),
            index: 0,
            seqs: Default::default(),
            stamped: None,
        }
    }

    /// `request` as the next committed entry, as it is (a retry).
    fn apply(&mut self, request: &Request) -> Response {
        self.index += 1;
        self.m.apply(self.index, request.clone())
    }

    /// `client`'s next request.
    fn send(&mut self, client: ClientId, command: Command) -> Response {
        let seq = self.seqs.entry(client).or_insert(0);
        *seq += 1;
        let request = Request {
            client,
            seq: *seq,
            command,
        };
        self.index += 1;
        self.m.apply_bytes(self.index, &request.encode())
    }

    /// The leader's clock stamp.
    fn clock(&mut self, term: u64, now_ms: u64) {
        self.stamped = Some((term, now_ms));
        self.send(0, Command::Clock { term, now_ms });
    }

    /// Opens a session, and the next stamp (at the same time) starts its
    /// time-to-live.
    fn open(&mut self, client: ClientId, ttl_ms: u64) -> SessionId {
        let session = match self.send(client, Command::OpenSession { ttl_ms }) {
            Response::Opened { session, .. } => session,
            other => panic!("open: {other:?}"),
        };
        if let Some((term, now)) = self.stamped {
            self.clock(term, now);
        }
        session
    }

    fn acquire(
        &mut self,
        client: ClientId,
        session: SessionId,
        lock: &str,
        wait_ms: Option<u64>,
    ) -> Response {
        self.acquire_in(client, session, lock, Mode::Exclusive, wait_ms)
    }

    fn acquire_in(
        &mut self,
        client: ClientId,
        session: SessionId,
        lock: &str,
        mode: Mode,
        wait_ms: Option<u64>,
    ) -> Response {
        self.send(
            client,
            Command::Acquire {
                session,
                lock: lock.to_string(),
                mode,
                wait_ms,
            },
        )
    }

    fn release(
        &mut self,
        client: ClientId,
        session: SessionId,
        lock: &str,
        token: Token,
    ) -> Response {
        self.send(
            client,
            Command::Release {
                session,
                lock: lock.to_string(),
                token,
            },
        )
    }

    fn holders(&self, lock: &str) -> Vec<(SessionId, Mode, Token)> {
        match self.m.answer(&Query::Holders(lock.to_string())) {
            QueryAnswer::Holders(h) => h,
            other => panic!("{other:?}"),
        }
    }

    /// The one holder, if any.
    fn holder(&self, lock: &str) -> Option<(SessionId, Token)> {
        let h = self.holders(lock);
        assert!(h.len() <= 1, "more than one holder: {h:?}");
        h.first().map(|&(s, _, t)| (s, t))
    }

    fn events(&self) -> Vec<Event> {
        match self.m.answer(&Query::Events {
            after: 0,
            max: usize::MAX,
        }) {
            QueryAnswer::Events { events, .. } => events.into_iter().map(|(_, e)| e).collect(),
            other => panic!("{other:?}"),
        }
    }
}

fn token(r: Response) -> Token {
    match r {
        Response::Granted { token } => token,
        other => panic!("not granted: {other:?}"),
    }
}

#[test]
fn a_free_lock_is_granted_with_a_new_token_and_a_held_one_queues() {
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 1_000);
    let b = l.open(2, 1_000);
    let t1 = token(l.acquire(1, a, "x", None));
    assert_eq!(l.holder("x"), Some((a, t1)));
    assert_eq!(l.acquire(2, b, "x", None), Response::Queued { ahead: 0 });
    assert_eq!(
        l.acquire(1, a, "x", None),
        Response::Refused(LockError::AlreadyHeld)
    );
    assert_eq!(
        l.acquire(2, b, "x", None),
        Response::Refused(LockError::AlreadyWaiting)
    );
    // A try-lock never queues.
    let c = l.open(3, 1_000);
    assert_eq!(
        l.acquire(3, c, "x", Some(0)),
        Response::Refused(LockError::Busy)
    );
    // Release: the next waiter gets it, with a larger token.
    assert_eq!(l.release(1, a, "x", t1), Response::Ok);
    let (holder, t2) = l.holder("x").unwrap();
    assert_eq!(holder, b);
    assert!(t2 > t1, "token {t2} not above {t1}");
}

#[test]
fn tokens_increase_across_locks_and_a_wrong_token_releases_nothing() {
    let mut l = Log::new();
    let a = l.open(1, 1_000);
    let t1 = token(l.acquire(1, a, "x", None));
    let t2 = token(l.acquire(1, a, "y", None));
    assert!(t2 > t1);
    assert_eq!(
        l.release(1, a, "x", t2),
        Response::Refused(LockError::NotHolder)
    );
    assert_eq!(
        l.release(1, a + 1, "x", t1),
        Response::Refused(LockError::NotHolder)
    );
    assert_eq!(l.holder("x"), Some((a, t1)));
    assert_eq!(l.release(1, a, "x", t1), Response::Ok);
    let t3 = token(l.acquire(1, a, "x", None));
    assert!(t3 > t2, "a re-grant reused a token: {t3} <= {t2}");
}

#[test]
fn one_release_wakes_one_waiter_in_arrival_order() {
    let mut l = Log::new();
    let ids: Vec<SessionId> = (1..=4).map(|c| l.open(c, 1_000)).collect();
    let t = token(l.acquire(1, ids[0], "x", None));
    for (i, &s) in ids.iter().enumerate().skip(1) {
        assert_eq!(
            l.acquire(i as u64 + 1, s, "x", None),
            Response::Queued {
                ahead: i as u64 - 1
            }
        );
    }
    l.release(1, ids[0], "x", t);
    let granted: Vec<_> = l
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Granted { .. }))
        .collect();
    // The first grant, then exactly one more: no herd.
    assert_eq!(granted.len(), 2);
    assert_eq!(l.holder("x").map(|h| h.0), Some(ids[1]));
}

#[test]
fn a_waiter_whose_session_expired_is_never_granted() {
    // Jepsen, etcd 3.4.3: a queued lock call returned after the session
    // had expired, so two clients believed they held the lock.
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 10_000);
    let b = l.open(2, 100);
    let t = token(l.acquire(1, a, "x", None));
    assert_eq!(l.acquire(2, b, "x", None), Response::Queued { ahead: 0 });
    l.send(1, Command::KeepAlive { session: a });
    l.clock(1, 200); // b's time runs out
    assert!(l.events().contains(&Event::Expired { session: b }));
    l.release(1, a, "x", t);
    assert_eq!(l.holder("x"), None, "granted to an expired session");
    assert_eq!(
        l.acquire(2, b, "x", None),
        Response::Refused(LockError::NoSession(b))
    );
}

#[test]
fn an_expired_holder_releases_to_the_next_waiter_with_a_larger_token() {
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 100);
    let b = l.open(2, 10_000);
    let t1 = token(l.acquire(1, a, "x", None));
    l.acquire(2, b, "x", None);
    l.clock(1, 99);
    assert_eq!(l.holder("x"), Some((a, t1)), "expired early");
    l.clock(1, 100);
    let (h, t2) = l.holder("x").unwrap();
    assert_eq!(h, b);
    assert!(t2 > t1);
    // The paused former holder's release is refused; its token is stale.
    assert_eq!(
        l.release(1, a, "x", t1),
        Response::Refused(LockError::NotHolder)
    );
    let mut fence = Fence::new();
    fence.check("x", t2).unwrap();
    assert_eq!(
        fence.check("x", t1),
        Err(StaleToken {
            token: t1,
            highest: t2
        })
    );
}

#[test]
fn keep_alives_extend_and_time_never_goes_back() {
    let mut l = Log::new();
    l.clock(1, 1_000);
    let a = l.open(1, 100);
    l.clock(1, 1_050);
    l.send(1, Command::KeepAlive { session: a });
    l.clock(1, 500); // an old stamp: ignored
    assert_eq!(l.m.now_ms(), 1_050);
    l.clock(1, 1_149);
    assert_eq!(
        l.m.answer(&Query::Session(a)),
        QueryAnswer::Session(Some(1_150))
    );
    l.clock(1, 1_150);
    assert_eq!(l.m.answer(&Query::Session(a)), QueryAnswer::Session(None));
}

#[test]
fn a_new_leader_term_extends_leases_and_never_shortens_them() {
    // The new leader's clock may run ahead of the old one's: its first
    // stamp must not expire sessions whose holders kept them alive.
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 100);
    let t = token(l.acquire(1, a, "x", None));
    l.clock(2, 10_000);
    assert_eq!(l.holder("x"), Some((a, t)), "a failover shortened a lease");
    assert_eq!(
        l.m.answer(&Query::Session(a)),
        QueryAnswer::Session(Some(10_100))
    );
    // Within the same term, time running out still ends it.
    l.clock(2, 10_100);
    assert_eq!(l.holder("x"), None);
}

#[test]
fn waiters_time_out_at_their_deadline_and_can_cancel() {
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 10_000);
    let b = l.open(2, 10_000);
    let c = l.open(3, 10_000);
    let t = token(l.acquire(1, a, "x", None));
    l.acquire(2, b, "x", Some(50));
    l.acquire(3, c, "x", None);
    l.clock(1, 50);
    assert!(l.events().contains(&Event::TimedOut {
        lock: "x".into(),
        session: b
    }));
    assert_eq!(
        l.send(
            3,
            Command::Cancel {
                session: c,
                lock: "x".into()
            }
        ),
        Response::Ok
    );
    assert_eq!(
        l.send(
            3,
            Command::Cancel {
                session: c,
                lock: "x".into()
            }
        ),
        Response::Refused(LockError::NotWaiting)
    );
    l.release(1, a, "x", t);
    assert_eq!(l.holder("x"), None);
}

#[test]
fn closing_a_session_releases_everything_it_held_and_leaves_every_queue() {
    let mut l = Log::new();
    let a = l.open(1, 1_000);
    let b = l.open(2, 1_000);
    token(l.acquire(1, a, "x", None));
    token(l.acquire(2, b, "y", None));
    l.acquire(1, a, "y", None);
    l.acquire(2, b, "x", None);
    assert_eq!(
        l.send(1, Command::CloseSession { session: a }),
        Response::Ok
    );
    assert_eq!(l.holder("x").map(|h| h.0), Some(b));
    assert_eq!(l.holder("y").map(|h| h.0), Some(b));
}

#[test]
fn a_retry_gets_the_first_answer_and_an_old_request_is_refused() {
    let mut l = Log::new();
    let a = l.open(1, 1_000);
    let acquire = Request {
        client: 1,
        seq: 10,
        command: Command::Acquire {
            session: a,
            lock: "x".into(),
            mode: Mode::Exclusive,
            wait_ms: None,
        },
    };
    let first = l.m.apply(100, acquire.clone());
    let t = token(first.clone());
    // The same request committed again (a client retry after a lost
    // answer): the same answer, no second grant.
    assert_eq!(l.m.apply(101, acquire.clone()), first);
    assert_eq!(l.m.last_token(), t);
    let old = Request { seq: 9, ..acquire };
    assert_eq!(
        l.m.apply(102, old),
        Response::Refused(LockError::StaleRequest { seq: 9, latest: 10 })
    );
}

#[test]
fn a_retried_open_is_answered_from_the_table_after_the_session_ended() {
    // The answer to an open was lost and the session expired before the
    // retry committed: the retry must not open a second session.
    let mut l = Log::new();
    l.clock(1, 0);
    let open = Request {
        client: 5,
        seq: 1,
        command: Command::OpenSession { ttl_ms: 100 },
    };
    let first = l.m.apply(10, open.clone());
    l.clock(1, 1_000);
    let before = l.m.clone();
    assert_eq!(l.m.apply(20, open), first);
    assert_eq!(l.m, before, "the retry changed the machine");
}

#[test]
fn a_snapshot_restores_the_same_machine_and_tokens_keep_rising() {
    use synod_node::StateMachine;
    let mut l = Log::new();
    l.clock(3, 77);
    let a = l.open(1, 1_000);
    let t = token(l.acquire(1, a, "x", None));
    let snapshot = StateMachine::snapshot(&l.m);
    let mut restored = LockMachine::new();
    restored.restore(&snapshot).unwrap();
    assert_eq!(restored, l.m);
    l.m = restored;
    l.release(1, a, "x", t);
    let t2 = token(l.acquire(1, a, "x", None));
    assert!(t2 > t, "a restored machine reused a token");
    assert!(
        LockMachine::new()
            .restore(&bytes::Bytes::from_static(b"junk"))
            .is_err()
    );
}

#[test]
fn bad_input_gets_a_typed_refusal() {
    let mut l = Log::new();
    assert_eq!(
        l.m.apply_bytes(1, b"\xff\xff\xff"),
        Response::Refused(LockError::Undecodable)
    );
    assert_eq!(
        l.send(1, Command::OpenSession { ttl_ms: 0 }),
        Response::Refused(LockError::BadTtl(0))
    );
    assert_eq!(
        l.send(1, Command::OpenSession { ttl_ms: u64::MAX }),
        Response::Refused(LockError::BadTtl(u64::MAX))
    );
    assert_eq!(
        l.send(1, Command::KeepAlive { session: 42 }),
        Response::Refused(LockError::NoSession(42))
    );
    let a = l.open(2, 1_000);
    let long = "n".repeat(300);
    assert!(matches!(
        l.acquire(2, a, &long, None),
        Response::Refused(LockError::Limit(_))
    ));
    // Time near u64::MAX saturates instead of overflowing.
    l.clock(1, u64::MAX - 1);
    assert_eq!(l.m.now_ms(), u64::MAX - 1);
}

#[test]
fn a_keep_alive_counts_from_the_next_stamp_not_the_last() {
    // Log time at a keep-alive is the last stamp's, which may be older
    // than the moment the client sent it; the client's own deadline is
    // its send time plus the TTL, so the service must count from the
    // first stamp after the keep-alive, or it ends the session while the
    // client still trusts it (two holders: found by the lock simulator).
    let mut l = Log::new();
    l.clock(1, 1_000);
    let a = l.open(1, 100); // lives until 1100
    l.clock(1, 1_090);
    // Sent at (client time) 1095, applied before the next stamp.
    assert_eq!(l.send(1, Command::KeepAlive { session: a }), Response::Ok);
    l.clock(1, 1_100);
    // Counted from 1090 it would end at 1190, before the client's 1195.
    l.clock(1, 1_195);
    assert_eq!(
        l.m.answer(&Query::Session(a)),
        QueryAnswer::Session(Some(1_200)),
        "the keep-alive counts from the stamp after it"
    );
    l.clock(1, 1_200);
    assert!(l.events().contains(&Event::Expired { session: a }));
}

#[test]
fn a_waiter_expiring_at_the_same_stamp_as_the_holder_is_not_granted() {
    // The holder's session ends first (lower id) and releases the lock
    // while the waiter's session, out of time at the same stamp, has not
    // been removed yet: the grant must re-check it (and skip it).
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 100);
    let b = l.open(2, 100);
    token(l.acquire(1, a, "x", None));
    assert_eq!(l.acquire(2, b, "x", None), Response::Queued { ahead: 0 });
    l.clock(1, 100);
    let granted_to_b = l
        .events()
        .iter()
        .any(|e| matches!(e, Event::Granted { session, .. } if *session == b));
    assert!(!granted_to_b, "granted to a session whose time had run out");
    assert_eq!(l.holder("x"), None);
}

fn get(l: &Log, key: &str) -> Option<(Vec<u8>, u64)> {
    match l.m.answer(&Query::Get(key.to_string())) {
        QueryAnswer::Value(v) => v,
        other => panic!("{other:?}"),
    }
}

/// A read-modify-write increment of counter `c` by `client`, given what
/// it read earlier, guarded by `guard` when fenced.
fn increment(l: &mut Log, client: ClientId, read: u64, guard: Option<(&str, Token)>) -> Response {
    l.send(
        client,
        Command::Write(Write {
            guards: guard.map(|(g, t)| (g.to_string(), t)).into_iter().collect(),
            checks: Vec::new(),
            puts: vec![("c".into(), Some((read + 1).to_le_bytes().to_vec()))],
        }),
    )
}

fn counter(l: &Log) -> u64 {
    get(l, "c").map_or(0, |(v, _)| u64::from_le_bytes(v.try_into().unwrap()))
}

/// Two increments under the lock, the first holder paused past its
/// session's expiry between its read and its write (the GC-pause case).
fn paused_holder_run(fenced: bool) -> u64 {
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 100);
    let b = l.open(2, 10_000);
    let ta = token(l.acquire(1, a, "x", None));
    let read_a = counter(&l);
    // A pauses; its session runs out; B takes the lock and increments.
    l.acquire(2, b, "x", None);
    l.clock(1, 500);
    let (_, tb) = l.holder("x").expect("B holds it");
    let read_b = counter(&l);
    let r = increment(&mut l, 2, read_b, fenced.then_some(("x", tb)));
    assert!(matches!(r, Response::Written { .. }), "{r:?}");
    // A wakes and writes what it computed before the pause.
    let r = increment(&mut l, 1, read_a, fenced.then_some(("x", ta)));
    if fenced {
        assert_eq!(
            r,
            Response::Refused(LockError::GuardFailed {
                lock: "x".into(),
                token: ta
            })
        );
    }
    counter(&l)
}

#[test]
fn a_paused_holder_cannot_write_with_a_stale_token_and_without_fencing_an_increment_is_lost() {
    assert_eq!(
        paused_holder_run(true),
        1,
        "the fenced write was not refused"
    );
    // The same run with unguarded writes: two increments, counter 1. The
    // lock alone did not protect the counter (so the check above has
    // teeth).
    assert_eq!(paused_holder_run(false), 1);
    let mut l = Log::new();
    let a = l.open(1, 1_000);
    let t = token(l.acquire(1, a, "x", None));
    for i in 0..3 {
        let read = counter(&l);
        assert!(matches!(
            increment(&mut l, 1, read, Some(("x", t))),
            Response::Written { .. }
        ));
        assert_eq!(counter(&l), i + 1);
    }
}

#[test]
fn writes_are_all_or_nothing_and_versions_check_compare_and_set() {
    let mut l = Log::new();
    let put = |k: &str, v: &[u8]| (k.to_string(), Some(v.to_vec()));
    let r = l.send(
        1,
        Command::Write(Write {
            checks: vec![("k".into(), 0)],
            puts: vec![put("k", b"1"), put("j", b"1")],
            ..Write::default()
        }),
    );
    let Response::Written { version } = r else {
        panic!("{r:?}")
    };
    assert_eq!(get(&l, "k"), Some((b"1".to_vec(), version)));
    // A stale compare-and-set changes nothing, not even the other key.
    let r = l.send(
        1,
        Command::Write(Write {
            checks: vec![("k".into(), 0)],
            puts: vec![put("k", b"2"), put("j", b"2")],
            ..Write::default()
        }),
    );
    assert_eq!(
        r,
        Response::Refused(LockError::VersionMismatch {
            key: "k".into(),
            expected: 0,
            actual: version
        })
    );
    assert_eq!(get(&l, "j"), Some((b"1".to_vec(), version)));
    // Delete, then the key is absent (version 0 again).
    let r = l.send(
        1,
        Command::Write(Write {
            checks: vec![("k".into(), version)],
            puts: vec![("k".into(), None)],
            ..Write::default()
        }),
    );
    assert!(matches!(r, Response::Written { .. }));
    assert_eq!(get(&l, "k"), None);
    // Too large an entry is refused.
    let big = vec![0u8; (64 << 10) + 1];
    assert!(matches!(
        l.send(
            1,
            Command::Write(Write {
                puts: vec![("b".into(), Some(big))],
                ..Write::default()
            })
        ),
        Response::Refused(LockError::Limit(_))
    ));
}

#[test]
fn readers_share_a_writer_waits_and_later_readers_queue_behind_it() {
    // FIFO fairness: a writer queued behind readers is not starved by
    // readers arriving after it.
    let mut l = Log::new();
    let s: Vec<SessionId> = (1..=4).map(|c| l.open(c, 1_000)).collect();
    let r1 = token(l.acquire_in(1, s[0], "rw", Mode::Shared, None));
    let r2 = token(l.acquire_in(2, s[1], "rw", Mode::Shared, None));
    assert_ne!(r1, r2, "each reader gets its own token");
    assert_eq!(
        l.acquire_in(3, s[2], "rw", Mode::Exclusive, None),
        Response::Queued { ahead: 0 }
    );
    assert_eq!(
        l.acquire_in(4, s[3], "rw", Mode::Shared, None),
        Response::Queued { ahead: 1 },
        "a reader jumped the queued writer"
    );
    l.release(1, s[0], "rw", r1);
    assert_eq!(
        l.holders("rw").len(),
        1,
        "the writer came in with a reader left"
    );
    l.release(2, s[1], "rw", r2);
    let h = l.holders("rw");
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].0, h[0].1), (s[2], Mode::Exclusive));
    let w = h[0].2;
    // The writer downgrades: it keeps its token and the reader behind it
    // comes in beside it.
    assert_eq!(
        l.send(
            3,
            Command::Downgrade {
                session: s[2],
                lock: "rw".into(),
                token: w
            }
        ),
        Response::Ok
    );
    let h = l.holders("rw");
    assert_eq!(h.len(), 2, "{h:?}");
    assert!(
        h.iter()
            .any(|&(s3, m, t)| s3 == s[2] && m == Mode::Shared && t == w)
    );
    assert!(h.iter().any(|&(s4, m, _)| s4 == s[3] && m == Mode::Shared));
    l.m.check_invariants().unwrap();
}

#[test]
fn a_semaphore_hands_out_at_most_its_permits_in_order() {
    let mut l = Log::new();
    let s: Vec<SessionId> = (1..=4).map(|c| l.open(c, 1_000)).collect();
    let permit = Mode::Permit { capacity: 2 };
    let p1 = token(l.acquire_in(1, s[0], "sem", permit, None));
    token(l.acquire_in(2, s[1], "sem", permit, None));
    assert_eq!(
        l.acquire_in(3, s[2], "sem", permit, None),
        Response::Queued { ahead: 0 }
    );
    assert_eq!(
        l.acquire_in(4, s[3], "sem", permit, Some(0)),
        Response::Refused(LockError::Busy)
    );
    // Another capacity, or a mutex on the semaphore: refused.
    assert_eq!(
        l.acquire_in(4, s[3], "sem", Mode::Permit { capacity: 3 }, None),
        Response::Refused(LockError::WrongMode)
    );
    assert_eq!(
        l.acquire_in(4, s[3], "sem", Mode::Exclusive, None),
        Response::Refused(LockError::WrongMode)
    );
    assert_eq!(
        l.acquire_in(4, s[3], "zero", Mode::Permit { capacity: 0 }, None),
        Response::Refused(LockError::WrongMode)
    );
    l.release(1, s[0], "sem", p1);
    let h = l.holders("sem");
    assert_eq!(h.len(), 2);
    assert!(
        h.iter().any(|&(x, _, _)| x == s[2]),
        "the waiter did not get the permit"
    );
    // A session that ends gives its permit back.
    l.send(2, Command::CloseSession { session: s[1] });
    assert_eq!(l.holders("sem").len(), 1);
    l.m.check_invariants().unwrap();
}

#[test]
fn an_expired_holders_lock_delay_keeps_its_locks_ungranted_and_a_clean_close_does_not() {
    // Chubby's lock-delay, for holders that cannot pass tokens on: a paused
    // holder's late writes land before anyone else holds the lock.
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 100);
    let b = l.open(2, 10_000);
    assert_eq!(
        l.send(
            1,
            Command::SetLockDelay {
                session: a,
                delay_ms: 300
            }
        ),
        Response::Ok
    );
    token(l.acquire(1, a, "x", None));
    l.acquire(2, b, "x", None);
    l.clock(1, 100); // a expires: x is delayed until 400
    assert_eq!(l.holder("x"), None);
    let c = l.open(3, 10_000);
    assert_eq!(
        l.acquire(3, c, "x", Some(0)),
        Response::Refused(LockError::Busy)
    );
    l.clock(1, 399);
    assert_eq!(l.holder("x"), None, "granted during the lock-delay");
    l.m.check_invariants().unwrap();
    l.clock(1, 400);
    assert_eq!(l.holder("x").map(|h| h.0), Some(b));
    // A clean close releases at once, delay or not.
    let d = l.open(4, 10_000);
    l.send(
        4,
        Command::SetLockDelay {
            session: d,
            delay_ms: 300,
        },
    );
    token(l.acquire(4, d, "y", None));
    l.acquire(2, b, "y", None);
    l.send(4, Command::CloseSession { session: d });
    assert_eq!(l.holder("y").map(|h| h.0), Some(b));
    // Bounded.
    assert_eq!(
        l.send(
            2,
            Command::SetLockDelay {
                session: b,
                delay_ms: 60_001
            }
        ),
        Response::Refused(LockError::BadLockDelay(60_001))
    );
}

#[test]
fn reentrancy_is_off_by_default_and_a_limit_counts_holds_with_one_token() {
    let mut l = Log::new();
    let a = l.open(1, 1_000);
    let b = l.open(2, 1_000);
    let t = token(l.acquire(1, a, "x", None));
    assert_eq!(
        l.acquire(1, a, "x", None),
        Response::Refused(LockError::AlreadyHeld)
    );
    assert_eq!(
        l.send(
            1,
            Command::SetReentrancy {
                lock: "x".into(),
                reentrancy: Reentrancy::Limit(2)
            }
        ),
        Response::Ok
    );
    assert_eq!(l.acquire(1, a, "x", None), Response::Granted { token: t });
    assert_eq!(
        l.acquire(1, a, "x", None),
        Response::Refused(LockError::AlreadyHeld)
    );
    assert_eq!(
        l.acquire_in(1, a, "x", Mode::Shared, None),
        Response::Refused(LockError::AlreadyHeld),
        "a re-entry in another mode"
    );
    l.acquire(2, b, "x", None);
    // Two holds, two releases: the first keeps it held.
    assert_eq!(l.release(1, a, "x", t), Response::Ok);
    assert_eq!(l.holder("x"), Some((a, t)));
    l.m.check_invariants().unwrap();
    assert_eq!(l.release(1, a, "x", t), Response::Ok);
    assert_eq!(l.holder("x").map(|h| h.0), Some(b));
    // Unlimited.
    l.send(
        1,
        Command::SetReentrancy {
            lock: "y".into(),
            reentrancy: Reentrancy::Unlimited,
        },
    );
    let ty = token(l.acquire(1, a, "y", None));
    for _ in 0..10 {
        assert_eq!(l.acquire(1, a, "y", None), Response::Granted { token: ty });
    }
    // A session that ends drops every hold at once.
    l.send(1, Command::CloseSession { session: a });
    assert_eq!(l.holder("y"), None);
}

#[test]
fn the_limits_given_to_the_machine_are_the_ones_enforced() {
    let mut l = Log::with_limits(Limits {
        max_sessions: 1,
        max_locks: 1,
        max_name_bytes: 3,
        ..Limits::default()
    });
    l.clock(1, 0);
    let s = l.open(1, 1_000);
    assert_eq!(
        l.send(2, Command::OpenSession { ttl_ms: 1_000 }),
        Response::Refused(LockError::Limit("sessions".to_string()))
    );
    assert_eq!(
        l.acquire(1, s, "long", None),
        Response::Refused(LockError::Limit("lock name length".to_string()))
    );
    token(l.acquire(1, s, "abc", None));
    assert_eq!(
        l.acquire(1, s, "xyz", None),
        Response::Refused(LockError::Limit("locks".to_string()))
    );
}

/// A machine whose longest time-to-live is 100 s, stamped at 0, and
/// client 5's first request: to open a session of `ttl_ms`.
fn idle_table_log(ttl_ms: u64) -> (Log, Request) {
    let mut l = Log::with_limits(Limits {
        max_ttl_ms: 100_000,
        ..Limits::default()
    });
    l.clock(1, 0);
    let open = Request {
        client: 5,
        seq: 1,
        command: Command::OpenSession { ttl_ms },
    };
    (l, open)
}

// Idle clients leave the exactly-once table once idle for the longest
// time-to-live (a scan at most every hundredth of it): after that a
// retry is executed afresh, so the table's memory stays bounded. Stamps
// here jump several scan periods at a time.
#[test]
fn an_idle_client_is_forgotten_after_the_longest_time_to_live() {
    let (mut l, open) = idle_table_log(1_000);
    let first = l.apply(&open);
    for now in (3_000..=99_000).step_by(3_000) {
        l.clock(1, now);
    }
    assert_eq!(l.apply(&open), first, "still remembered");
    l.clock(1, 100_000); // idle for exactly the longest time-to-live
    assert_ne!(l.apply(&open), first, "forgotten: opened afresh");
}

// A client whose session is still open stays in the table however long
// it has been idle: a failover extends every session without a word from
// its client, and that client's retry must still be answered once.
#[test]
fn a_client_with_an_open_session_is_never_forgotten() {
    let (mut l, open) = idle_table_log(100_000);
    let first = l.apply(&open);
    let Response::Opened { session, .. } = first else {
        panic!("open: {first:?}");
    };
    // A new leader every 50 s extends the session by its time-to-live.
    for (term, now) in (2..).zip((50_000..=300_000).step_by(50_000)) {
        l.clock(term, now);
    }
    assert!(
        matches!(
            l.m.answer(&Query::Session(session)),
            QueryAnswer::Session(Some(_))
        ),
        "the session is open"
    );
    assert_eq!(l.apply(&open), first, "the retry is answered once");
}

#[test]
fn delays_reentrancy_rules_and_reentries_stop_at_their_limits() {
    let mut l = Log::with_limits(Limits {
        max_locks: 1,
        max_name_bytes: 3,
        max_lock_delay_ms: 500,
        ..Limits::default()
    });
    l.clock(1, 0);
    let s = l.open(1, 1_000);
    let delay = |delay_ms| Command::SetLockDelay {
        session: s,
        delay_ms,
    };
    assert_eq!(l.send(1, delay(500)), Response::Ok, "at the limit");
    assert_eq!(
        l.send(1, delay(501)),
        Response::Refused(LockError::BadLockDelay(501))
    );
    let rule = |lock: &str, reentrancy| Command::SetReentrancy {
        lock: lock.to_string(),
        reentrancy,
    };
    assert_eq!(
        l.send(1, rule("long", Reentrancy::Limit(2))),
        Response::Refused(LockError::Limit("lock name length".to_string()))
    );
    assert_eq!(l.send(1, rule("abc", Reentrancy::Limit(2))), Response::Ok);
    assert_eq!(
        l.send(1, rule("xyz", Reentrancy::Limit(2))),
        Response::Refused(LockError::Limit("reentrancy rules".to_string()))
    );
    assert_eq!(
        l.send(1, rule("abc", Reentrancy::Limit(2))),
        Response::Ok,
        "a rule already set is replaced, not counted again"
    );
    // Limit(2): held at most twice over.
    let first = token(l.acquire(1, s, "abc", None));
    assert_eq!(token(l.acquire(1, s, "abc", None)), first);
    assert_eq!(
        l.acquire(1, s, "abc", None),
        Response::Refused(LockError::AlreadyHeld)
    );
}

#[test]
fn a_write_of_exactly_the_entry_limit_is_taken_and_one_byte_more_refused() {
    let mut l = Log::with_limits(Limits {
        max_entry_bytes: 8,
        max_keys: 1,
        ..Limits::default()
    });
    let put = |key: &str, len: usize| {
        Command::Write(Write {
            guards: Vec::new(),
            checks: Vec::new(),
            puts: vec![(key.to_string(), Some(vec![7; len]))],
        })
    };
    assert!(
        matches!(l.send(1, put("ab", 6)), Response::Written { .. }),
        "key and value together are 8 bytes"
    );
    assert_eq!(
        l.send(1, put("ab", 7)),
        Response::Refused(LockError::Limit("entry size".to_string()))
    );
    assert_eq!(
        l.send(1, put("cd", 1)),
        Response::Refused(LockError::Limit("keys".to_string()))
    );
    // At the key limit, overwriting a key and deleting one add no key.
    assert!(matches!(l.send(1, put("ab", 2)), Response::Written { .. }));
    let delete = Command::Write(Write {
        guards: Vec::new(),
        checks: Vec::new(),
        puts: vec![("zz".to_string(), None)],
    });
    assert!(matches!(l.send(1, delete), Response::Written { .. }));
}

#[test]
fn a_waiter_with_a_deadline_is_granted_when_the_lock_frees_before_it() {
    let mut l = Log::new();
    l.clock(1, 0);
    let a = l.open(1, 10_000);
    let b = l.open(2, 10_000);
    let ta = token(l.acquire(1, a, "x", None));
    assert_eq!(
        l.acquire(2, b, "x", Some(1_000)),
        Response::Queued { ahead: 0 }
    );
    l.clock(1, 500);
    assert_eq!(l.release(1, a, "x", ta), Response::Ok);
    let (holder, tb) = l.holder("x").expect("b holds x");
    assert_eq!(holder, b);
    assert!(tb > ta);
}
