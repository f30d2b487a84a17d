//! What a run reports: counts of what it exercised, the first broken
//! invariant, the history and the trace.

use std::collections::BTreeMap;

use crate::history::History;
use crate::partition::PartitionKind;

/// What a run exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Distinct terms in which some node led.
    pub terms_with_leader: u64,
    /// Times the leader observed by the simulator changed.
    pub leader_changes: u64,
    /// Partitions started.
    pub partitions: u64,
    /// Partitions started, by shape.
    pub partition_kinds: BTreeMap<PartitionKind, u64>,
    /// Node crashes.
    pub crashes: u64,
    /// Crashes that lost writes not yet synced.
    pub lost_writes: u64,
    /// Crashes that left a torn write (a prefix of it) on disk.
    pub torn_writes: u64,
    /// Snapshots taken (with log compaction) and installed from a leader.
    pub snapshots: (u64, u64),
    /// Membership changes proposed and accepted by a leader.
    pub conf_changes: u64,
    /// Of those, changes of two voters at once (a joint configuration).
    pub joint_changes: u64,
    /// Of those, stop-signs.
    pub stop_signs: u64,
    /// Removed nodes stopped in the healed phase
    /// ([`SimConfig::retire_removed`](crate::SimConfig::retire_removed)).
    pub retired: u64,
    /// Node pauses.
    pub pauses: u64,
    /// Ticks skipped by slow clocks.
    pub skewed_ticks: u64,
    /// Messages sent, dropped and duplicated.
    pub messages: (u64, u64, u64),
    /// Operations that completed, and that ended unknown (timed out).
    pub ops: (u64, u64),
    /// The highest commit index any node reached.
    pub committed: u64,
    /// Gets answered through the protocol's linearizable reads.
    pub reads_served: u64,
    /// Messages held up in the network by the `slow` fault.
    pub slowed: u64,
}

impl Summary {
    /// Adds another run's counts to these.
    pub fn add(&mut self, other: &Summary) {
        self.terms_with_leader += other.terms_with_leader;
        self.leader_changes += other.leader_changes;
        self.partitions += other.partitions;
        for (kind, n) in &other.partition_kinds {
            *self.partition_kinds.entry(*kind).or_default() += n;
        }
        self.crashes += other.crashes;
        self.lost_writes += other.lost_writes;
        self.torn_writes += other.torn_writes;
        self.snapshots.0 += other.snapshots.0;
        self.snapshots.1 += other.snapshots.1;
        self.conf_changes += other.conf_changes;
        self.joint_changes += other.joint_changes;
        self.stop_signs += other.stop_signs;
        self.retired += other.retired;
        self.pauses += other.pauses;
        self.skewed_ticks += other.skewed_ticks;
        self.messages.0 += other.messages.0;
        self.messages.1 += other.messages.1;
        self.messages.2 += other.messages.2;
        self.ops.0 += other.ops.0;
        self.ops.1 += other.ops.1;
        self.committed = self.committed.max(other.committed);
        self.reads_served += other.reads_served;
        self.slowed += other.slowed;
    }
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// Two leaders in one term (Raft §5.2, election safety).
    TwoLeaders {
        /// The term.
        term: u64,
        /// The first leader seen.
        first: u64,
        /// The second.
        second: u64,
    },
    /// A node applied a different entry at an index already committed
    /// (state-machine safety, Raft §5.4.3).
    CommittedEntryChanged {
        /// The index.
        index: u64,
        /// The node.
        node: u64,
    },
    /// Two logs hold an entry with the same index and term but differ
    /// before it (log matching, Raft §5.3).
    LogMismatch {
        /// One node.
        a: u64,
        /// The other.
        b: u64,
        /// The index where they differ.
        index: u64,
    },
    /// A new leader lacks a committed entry (leader completeness, §5.4).
    LeaderIncomplete {
        /// The leader.
        node: u64,
        /// The missing index.
        index: u64,
    },
    /// The history is not linearizable.
    NotLinearizable(String),
    /// A linearizable read was confirmed at an index below one some node
    /// had already applied when the read was issued (a write acknowledged
    /// before the read could be missing from it).
    StaleRead {
        /// The node that issued the read.
        node: u64,
        /// The index the read was confirmed at.
        index: u64,
        /// The highest index applied anywhere when it was issued.
        applied_before: u64,
    },
    /// The node asked its disk for an impossible write (a gap in the log,
    /// an older snapshot) or could not read it back: a protocol bug.
    BadWrite {
        /// The node.
        node: u64,
        /// What storage said.
        error: String,
    },
    /// A [`Service`](crate::Service)'s input or state could not be
    /// encoded for the log or a snapshot (its serializer refused).
    Codec {
        /// The node.
        node: u64,
        /// What the encoder said.
        error: String,
    },
    /// After healing, some client completed no operation within the bound.
    NoProgress {
        /// Operations that completed after healing.
        completed: u64,
        /// Clients that completed none.
        clients_without_progress: u64,
    },
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// The protocol simulated ([`Replica::NAME`](crate::Replica::NAME)).
    pub protocol: &'static str,
    /// The profile the configuration started from
    /// ([`SimConfig::profile`](crate::SimConfig::profile)).
    pub profile: &'static str,
    /// What was exercised.
    pub summary: Summary,
    /// The first broken invariant, if any.
    pub violation: Option<Violation>,
    /// The client history.
    pub history: History,
    /// A hash of every event, in order: two runs of one seed must agree.
    pub trace_hash: u64,
    /// With `record_events`: the run's events, one line each.
    pub events: Vec<String>,
    /// Whether the linearizability check ran out of budget.
    pub check_unknown: bool,
}

/// What a run amounts to: [`RunReport::outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunOutcome<'a> {
    /// Every invariant held and the history was found linearizable.
    Passed,
    /// An invariant broke.
    Violated(&'a Violation),
    /// Every invariant held, but the linearizability check ran out of
    /// budget: the history was not checked. Not a pass.
    Unchecked,
}

impl RunReport {
    /// The run's outcome: a violation, a pass, or a run whose history
    /// could not be checked within the budget (which
    /// `violation == None` alone would hide).
    #[must_use]
    pub fn outcome(&self) -> RunOutcome<'_> {
        match (&self.violation, self.check_unknown) {
            (Some(v), _) => RunOutcome::Violated(v),
            (None, true) => RunOutcome::Unchecked,
            (None, false) => RunOutcome::Passed,
        }
    }

    /// Whether the run passed: no violation *and* a history checked to
    /// the end.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.outcome() == RunOutcome::Passed
    }

    /// How to replay this run: in any project, the library call
    /// `run_with::<R>(&SimConfig::named(profile, seed))` (raft-core:
    /// `run`; another protocol maps the profile with
    /// [`SimConfig::with_protocol`](crate::SimConfig::with_protocol) as it
    /// did the first time), with `record_events` for the trace; in this
    /// repository, the runner's command line.
    #[must_use]
    pub fn replay_command(&self) -> String {
        format!(
            "synod_sim::SimConfig::named({:?}, {}) with protocol {}; here: cargo run --release --example simulate -- --start {} --seeds 1 --faults {} --protocol {} --verbose",
            self.profile, self.seed, self.protocol, self.seed, self.profile, self.protocol
        )
    }
}
