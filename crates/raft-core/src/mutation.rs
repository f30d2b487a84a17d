//! Deliberately broken variants of the protocol, compiled only with the
//! test-only `mutations` feature, so a simulator can show that it catches
//! each one. Never enable in production.

/// One broken rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Commit an entry of an earlier term by counting replicas (breaks
    /// Raft §5.4.2, Figure 8).
    CommitPreviousTermByCounting,
    /// Accept appends without the consistency check (breaks §5.3).
    SkipConsistencyCheck,
    /// Grant every vote request, even twice in one term (breaks §5.2).
    DoubleVote,
    /// Send vote responses before the vote is persisted (a crash can make
    /// a node vote twice in a term).
    VoteBeforePersist,
    /// Trust the lease until check-quorum steps the leader down, as before
    /// issue 9 (an isolated leader serves stale lease reads).
    LeaseUntilStepDown,
    /// Number reads from 1 on every start and accept any answer to an id
    /// at or below the last one issued, as before issue 9 (a late answer
    /// serves a read issued after a restart).
    ReusedReadIds,
    /// Grant votes within a leader's lease: no check-quorum stickiness, so
    /// a candidate is elected while the voters' old leader still answers
    /// reads from the lease they granted it (stale reads).
    NoLeaderStickiness,
}

impl Mutation {
    /// Every planted bug, in declaration order.
    pub const ALL: [Mutation; 7] = [
        Mutation::CommitPreviousTermByCounting,
        Mutation::SkipConsistencyCheck,
        Mutation::DoubleVote,
        Mutation::VoteBeforePersist,
        Mutation::LeaseUntilStepDown,
        Mutation::ReusedReadIds,
        Mutation::NoLeaderStickiness,
    ];
}
