//! Deliberately broken variants of the lock machine, compiled only with
//! the test-only `mutations` feature, so the simulator can show that its
//! lock checks catch each one. Never enable in production.

/// One broken rule.
#[cfg_attr(not(feature = "mutations"), allow(unreachable_pub))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// A queued waiter is granted the lock without checking that its
    /// session is still open at grant time (the etcd 3.4.3 bug Jepsen
    /// found).
    GrantWithoutSessionCheck,
    /// A snapshot records the last token as the highest token still held
    /// (recomputed from the holders) instead of the last one granted, so a
    /// replica restored from it grants tokens again that were already used.
    TokenNotInSnapshot,
    /// A stamp from a new leader's term moves log time to its clock without
    /// first extending the sessions, so a failover to a leader whose clock
    /// is ahead expires sessions early.
    NoFailoverExtension,
    /// A keep-alive counts the time-to-live from log time at the keep-alive
    /// (the last stamp's, possibly older than the client's send) instead
    /// of from the next stamp, as before the lock simulator found it.
    RenewFromLastStamp,
}
