//! What a lock-service run reports.

use crate::mutex::{LockGrant, MutexViolation};

/// A broken lock-service property.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockViolation {
    /// Two clients believed they held one lock at once, or a later holder
    /// was given a token not above an earlier one's (by the clients' own
    /// conservative clocks: see [`check_mutex`](crate::check_mutex)).
    Mutex {
        /// What broke.
        violation: MutexViolation,
        /// The earlier grant.
        first: LockGrant,
        /// The later one.
        second: LockGrant,
    },
    /// With read-write locks and semaphores: a writer overlapped another
    /// holder, more permits were held than the semaphore has, or a later
    /// holder's token was not larger (by the holders' conservative
    /// beliefs).
    Modes {
        /// The earlier grant.
        first: LockGrant,
        /// The later one.
        second: LockGrant,
        /// What broke.
        what: String,
    },
    /// The fenced counter ends below the increments acknowledged.
    LostIncrement {
        /// The lock (and counter).
        lock: u64,
        /// Writes the resource acknowledged.
        acknowledged: u64,
        /// The counter at the end.
        counter: u64,
    },
    /// In log order, a lock was granted while another session held it
    /// exclusively, or with a token not above every earlier one.
    BadGrant {
        /// The log index.
        index: u64,
        /// What was wrong.
        what: String,
    },
    /// A session was granted a lock in the command that expired it (the
    /// grant did not re-check the session).
    GrantedToExpired {
        /// The log index.
        index: u64,
        /// The session.
        session: u64,
    },
    /// A replica applied an entry with another answer or other events than
    /// the first replica that applied it (state that was lost or changed,
    /// for example across a snapshot).
    Diverged {
        /// The log index.
        index: u64,
        /// The replica that differed.
        node: u64,
    },
    /// A replica's lock machine broke one of its own invariants.
    Invariant {
        /// The replica.
        node: u64,
        /// The log index just applied.
        index: u64,
        /// The invariant, described.
        error: String,
    },
    /// A node's disk refused a write or held an unreadable snapshot.
    BadWrite {
        /// The node.
        node: u64,
        /// The error.
        error: String,
    },
}

/// What a lock-service run exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockSummary {
    /// Grants observed by clients.
    pub grants: u64,
    /// Resource writes acknowledged (increments).
    pub increments: u64,
    /// Resource reads and writes refused for a stale token.
    pub fenced: u64,
    /// Sessions that expired in the log.
    pub expired: u64,
    /// Client stalls.
    pub client_pauses: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Partitions started.
    pub partitions: u64,
    /// Distinct terms in which some node led.
    pub terms_with_leader: u64,
    /// Snapshots taken, and restored (on restart or from a leader).
    pub snapshots: (u64, u64),
    /// The highest log index applied.
    pub committed: u64,
}

impl LockSummary {
    /// Adds another run's counts to these (the highest index is kept).
    pub fn add(&mut self, other: &LockSummary) {
        self.grants += other.grants;
        self.increments += other.increments;
        self.fenced += other.fenced;
        self.expired += other.expired;
        self.client_pauses += other.client_pauses;
        self.crashes += other.crashes;
        self.partitions += other.partitions;
        self.terms_with_leader += other.terms_with_leader;
        self.snapshots.0 += other.snapshots.0;
        self.snapshots.1 += other.snapshots.1;
        self.committed = self.committed.max(other.committed);
    }
}

/// The outcome of one lock-service run.
#[derive(Debug, Clone)]
pub struct LockRunReport {
    /// The seed (replays the run).
    pub seed: u64,
    /// The protocol simulated.
    pub protocol: &'static str,
    /// The first broken property, if any.
    pub violation: Option<LockViolation>,
    /// Every grant, as its holder saw it.
    pub grants: Vec<LockGrant>,
    /// What the run exercised.
    pub summary: LockSummary,
    /// A hash of everything that happened, in order (the same seed gives
    /// the same hash).
    pub trace_hash: u64,
    /// The readable event trace, if recorded.
    pub events: Vec<String>,
}
