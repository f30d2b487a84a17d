//! Deliberately broken variants of the protocol, compiled only with the
//! test-only `mutations` feature, so the simulator can show that it
//! catches each one. Never enable in production.

/// One broken rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Send a promise before the promised ballot is durable (a crash can
    /// make an acceptor promise two leaders contradictory things).
    PromiseBeforePersist,
    /// Acknowledge entries before they are durable (a crash can lose an
    /// entry a quorum was counted for).
    AcceptedBeforeDurable,
    /// Lead with the candidate's own log, ignoring the promises' (breaks
    /// phase 1: a decided value can be overwritten).
    NoAdoption,
    /// Serve a read once the state machine reaches the leader's decided
    /// index instead of its last index: a new leader's decided index can
    /// lag writes already acknowledged by its predecessor (stale reads).
    ReadAtDecidedIndex,
    /// Let a first sync cut the acceptor's log at the leader's point even
    /// when a late copy arrives after later acceptances (the bug the
    /// simulator found, chaos seed 858).
    SyncTruncates,
    /// Grant leases without honouring them: an acceptor promises a new
    /// ballot while the old leader still answers reads from its lease
    /// (stale reads).
    LeaseNotHonoured,
    /// In a joint configuration, count quorums among the new voters only
    /// (the outgoing voters lose their say early: a leader of the new
    /// voters and one of the old can both decide).
    JointCountsNewVotersOnly,
    /// Take an accept past what the acceptor holds of the leader's log by
    /// appending, cutting the entries of earlier ballots after it, which
    /// may have been counted toward a decision (the bug the simulator
    /// found with one entry per message, chaos seed 1001226).
    AcceptTruncates,
    /// Let a stop-sign that changes the voters hand over to the next
    /// voters alone from the moment it is appended, skipping the joint
    /// configuration until it is decided (the old voters lose their say
    /// early: a leader of the old voters that never saw it can decide
    /// other entries at its index).
    StopSignSkipsJoint,
}

impl Mutation {
    /// Every planted bug, in declaration order.
    pub const ALL: [Mutation; 9] = [
        Mutation::PromiseBeforePersist,
        Mutation::AcceptedBeforeDurable,
        Mutation::NoAdoption,
        Mutation::ReadAtDecidedIndex,
        Mutation::SyncTruncates,
        Mutation::LeaseNotHonoured,
        Mutation::JointCountsNewVotersOnly,
        Mutation::AcceptTruncates,
        Mutation::StopSignSkipsJoint,
    ];
}
