//! What a simulation run does: cluster size, length, workload, faults and
//! the protocol's own options.

use crate::error::SimError;
use crate::fault::FaultConfig;
use crate::raft::RaftOptions;

/// What a run simulates. `O` is the protocol's own options
/// ([`Replica::Options`](crate::Replica::Options)): the simulator itself
/// never looks inside them. The profiles below ([`SimConfig::safety`] and
/// the rest) are raft-core's, with [`RaftOptions`]; another protocol maps
/// a profile to its options with [`SimConfig::with_protocol`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig<O = RaftOptions> {
    /// Nodes in the cluster.
    pub nodes: u64,
    /// The seed: the same seed replays the same run.
    pub seed: u64,
    /// Ticks with faults.
    pub ticks: u64,
    /// Ticks after every fault heals, in which the cluster must make
    /// progress (the liveness mode); 0 for safety only.
    pub heal_ticks: u64,
    /// Concurrent clients.
    pub clients: u64,
    /// Operations the clients invoke during `ticks`.
    pub ops: u64,
    /// Operations the clients may invoke after healing (liveness mode), in
    /// all: every client must complete at least one within `heal_ticks`,
    /// so with `heal_ticks > 0` it must be at least `clients`.
    pub heal_ops: u64,
    /// Keys the operations touch.
    pub keys: u64,
    /// Ticks a client waits for an answer before giving up on an operation
    /// (or, with `retry_until_answered`, before sending it again).
    pub client_timeout_ticks: u64,
    /// A client whose answer is overdue sends the same request again (to
    /// another node) instead of giving up: the request takes effect at
    /// most once (the state machine's client sessions see to that), and
    /// the operation stays open until an answer arrives. Histories then
    /// hold few operations of unknown outcome, the ones that make a
    /// linearizability search exponential; the profiles leave it off.
    pub retry_until_answered: bool,
    /// The faults injected during `ticks`.
    pub faults: FaultConfig,
    /// Search steps the linearizability check may spend.
    pub check_budget: u64,
    /// Per node per tick: the disk syncs pending writes (lower means more
    /// writes at risk when a node crashes).
    pub sync_probability: f64,
    /// Per tick: the leader proposes a membership change (removing a voter
    /// while at least 4 remain, or adding a removed node back).
    pub reconfigure: f64,
    /// The share of those changes that replace a voter by a node outside
    /// in one change: two voters changed at once, so the protocol passes
    /// through a joint configuration (Raft §6) it must leave again.
    pub joint_changes: f64,
    /// For protocols that take stop-signs ([`crate::Replica::STOP_SIGNS`]):
    /// the share of changes proposed as a stop-sign naming the next
    /// configuration (a voter left out, a node added, both, or neither).
    /// Other protocols draw exactly what they drew without it.
    pub stop_signs: f64,
    /// In the healed phase, stop each node that a leader's committed
    /// configuration leaves out (and start it again if a later committed
    /// configuration takes it back), as an operator retires the servers
    /// it removed. Without it, a removed node that missed its removal
    /// keeps campaigning; classic Raft (no pre-vote, no check-quorum) has
    /// no defence against that (the Raft thesis, §4.2.3) and can stall
    /// for good, so the liveness profile sets this for classic-Raft seeds
    /// only: the other seeds keep removed nodes running, to show that
    /// pre-vote and leader stickiness hold them off.
    pub retire_removed: bool,
    /// Per node per tick: the node snapshots its state machine and compacts
    /// its log (keeping a short tail), so lagging nodes need snapshots.
    pub compact: f64,
    /// Record a readable event trace (faults, leader changes, client
    /// operations) in the report, for replaying a failing seed.
    pub record_events: bool,
    /// Gets are served by the protocol's linearizable reads
    /// ([`crate::Replica::read`]: ReadIndex or a lease) instead of going
    /// through the log; they are checked by the same linearizability check.
    pub read_index: bool,
    /// The protocol's own options.
    pub protocol: O,
    /// The profile it started from (`safety`, `liveness`, `lease`,
    /// `chaos`; `custom` for one built by hand), so a report can say how
    /// to replay it: [`SimConfig::named`].
    pub profile: &'static str,
}

impl<O> SimConfig<O> {
    /// The same run with other protocol options (`f` maps these to them):
    /// how another protocol borrows a profile.
    #[must_use]
    pub fn with_protocol<P>(self, f: impl FnOnce(O) -> P) -> SimConfig<P> {
        SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            ticks: self.ticks,
            heal_ticks: self.heal_ticks,
            clients: self.clients,
            ops: self.ops,
            heal_ops: self.heal_ops,
            keys: self.keys,
            client_timeout_ticks: self.client_timeout_ticks,
            retry_until_answered: self.retry_until_answered,
            faults: self.faults,
            check_budget: self.check_budget,
            sync_probability: self.sync_probability,
            reconfigure: self.reconfigure,
            joint_changes: self.joint_changes,
            stop_signs: self.stop_signs,
            retire_removed: self.retire_removed,
            compact: self.compact,
            record_events: self.record_events,
            read_index: self.read_index,
            protocol: f(self.protocol),
            profile: self.profile,
        }
    }
}

impl SimConfig {
    /// The profile called `name` (as [`SimConfig::profile`] and the
    /// runner's `--faults` spell it) for `seed`; `None` for another name.
    /// With a report's profile and seed it replays the run anywhere, in a
    /// user's own project as well as here:
    ///
    /// ```
    /// use synod_sim::{run, SimConfig};
    /// let report = run(&SimConfig::lease(3)).unwrap();
    /// let again = run(&SimConfig::named(report.profile, report.seed).unwrap()).unwrap();
    /// assert_eq!(again.trace_hash, report.trace_hash);
    /// ```
    #[must_use]
    pub fn named(name: &str, seed: u64) -> Option<Self> {
        match name {
            "safety" => Some(Self::safety(seed)),
            "liveness" => Some(Self::liveness(seed)),
            "lease" => Some(Self::lease(seed)),
            "chaos" => Some(Self::chaos(seed)),
            _ => None,
        }
    }

    /// The safety profile: 5 nodes, 2,000 ticks of every fault, 200
    /// operations; pre-vote and check-quorum on or off depending on the
    /// seed.
    #[must_use]
    pub fn safety(seed: u64) -> Self {
        let check_quorum = seed % 4 < 2;
        // Half the check-quorum seeds serve reads under a lease. A lease
        // assumes clocks in step, so those seeds run without tick skew or
        // pauses (a paused leader is a clock that stopped).
        let lease_reads = check_quorum && (seed / 4) % 2 == 1;
        let mut faults = FaultConfig::safety();
        if lease_reads {
            faults.skew = 0.0;
            faults.pause = 0.0;
        }
        Self {
            profile: "safety",
            nodes: 5,
            seed,
            ticks: 2_000,
            heal_ticks: 0,
            clients: 4,
            ops: 200,
            heal_ops: 0,
            keys: 4,
            client_timeout_ticks: 60,
            retry_until_answered: false,
            faults,
            check_budget: 5_000_000,
            compact: 0.01,
            reconfigure: 0.005,
            joint_changes: 0.3,
            stop_signs: 0.3,
            retire_removed: false,
            record_events: false,
            // Seeds cover all four protocol variants: classic Raft (where
            // split votes are common) and each optimisation.
            sync_probability: 0.5,
            // Two seeds in three read through ReadIndex / the lease.
            read_index: !seed.is_multiple_of(3),
            protocol: RaftOptions {
                max_size_per_msg_bytes: 1 << 20,
                pre_vote: seed.is_multiple_of(2),
                check_quorum,
                lease_reads,
                election_timeout_ticks: if lease_reads { 30 } else { 10 },
                // Most seeds send snapshots in small pieces, so transfers
                // span many messages under every fault.
                snapshot_chunk_bytes: [16, 64, 1 << 20][((seed / 5) % 3) as usize],
                #[cfg(feature = "mutations")]
                mutation: None,
            },
        }
    }

    /// The liveness profile: as safety, then 50 election timeouts (500
    /// ticks for most seeds) healed, in which every client must complete
    /// an operation.
    #[must_use]
    pub fn liveness(seed: u64) -> Self {
        let base = Self::safety(seed);
        Self {
            profile: "liveness",
            // 50 election timeouts: 500 ticks at the usual 10, more for the
            // lease seeds' 30. Classic Raft (no pre-vote) with stale,
            // disruptive candidates can take dozens of rounds of split
            // votes to elect: 30 timeouts failed 1 seed in 15,000.
            heal_ticks: 50 * u64::from(base.protocol.election_timeout_ticks),
            heal_ops: 1_000,
            // Classic Raft cannot keep a removed node that missed its
            // removal from deposing leader after leader (liveness seed
            // 40522247901451: it campaigned every election timeout, a
            // re-added voter still counting it took each new term to the
            // leader, and no leader lived long enough to commit), so
            // those seeds model the operator who stops removed servers.
            retire_removed: !base.protocol.pre_vote && !base.protocol.check_quorum,
            ..base
        }
    }

    /// The lease profile, aimed at stale reads: 3 nodes serving gets under
    /// a leader lease (clocks in step: no tick skew, no pauses), a long
    /// election timeout (30 ticks), long partitions that isolate the
    /// leader while clients still reach it, many clients on two keys, and
    /// nodes with reads in flight bounced while answers are held up.
    #[must_use]
    pub fn lease(seed: u64) -> Self {
        let mut faults = FaultConfig::safety();
        faults.skew = 0.0;
        faults.pause = 0.0;
        faults.partition = 0.02;
        faults.partition_ticks = (60, 150);
        // A fast network: a new leader can be elected and commit within a
        // few ticks of the old one's lease running out.
        faults.delay_ticks = (1, 2);
        faults.link_jitter_ticks = 0;
        faults.partition_kinds = vec![
            crate::PartitionKind::IsolateLeader,
            crate::PartitionKind::IsolateNode,
        ];
        let base = Self::safety(seed);
        Self {
            profile: "lease",
            nodes: 3,
            clients: 5,
            ops: 250,
            keys: 4,
            client_timeout_ticks: 40,
            retry_until_answered: false,
            faults,
            reconfigure: 0.0,
            read_index: true,
            protocol: RaftOptions {
                pre_vote: seed.is_multiple_of(4),
                check_quorum: true,
                lease_reads: true,
                election_timeout_ticks: 30,
                ..base.protocol.clone()
            },
            ..base
        }
    }

    /// The chaos profile: classic Raft (no pre-vote, no check-quorum) on
    /// 3 or 5 nodes under [`FaultConfig::chaos`]; the seed picks how slow
    /// the disks are and whether appends carry one entry or many.
    #[must_use]
    pub fn chaos(seed: u64) -> Self {
        Self {
            profile: "chaos",
            nodes: if seed.is_multiple_of(2) { 3 } else { 5 },
            keys: 8,
            client_timeout_ticks: 60,
            retry_until_answered: false,
            faults: FaultConfig::chaos(),
            // No compaction: the vote-before-persist bug needs long logs of
            // unsynced votes, and the safety profile covers snapshots.
            compact: 0.0,
            // Single-voter changes only: the mutants this profile must
            // find were found with them (the safety profile covers joint
            // configurations).
            joint_changes: 0.0,
            // Stop-signs for Multi-Paxos, as in the safety profile: with
            // one entry per message and slow disks they meet the most
            // interleavings (Raft draws what it drew before).
            stop_signs: 0.3,
            // Seeds vary how slow the disk is and how big appends are:
            // different bugs need different interleavings.
            sync_probability: [0.5, 0.15, 0.05][(seed % 3) as usize],
            protocol: RaftOptions {
                max_size_per_msg_bytes: if (seed / 3).is_multiple_of(2) {
                    1
                } else {
                    1 << 20
                },
                pre_vote: false,
                check_quorum: false,
                lease_reads: false,
                election_timeout_ticks: 10,
                snapshot_chunk_bytes: 1 << 20,
                #[cfg(feature = "mutations")]
                mutation: None,
            },
            ..Self::safety(seed)
        }
    }
}

impl<O> SimConfig<O> {
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if self.heal_ticks > 0 && self.heal_ops < self.clients {
            return Err(SimError::TooFewHealOps {
                heal_ops: self.heal_ops,
                clients: self.clients,
            });
        }
        if !(0.0..=1.0).contains(&self.reconfigure) {
            return Err(SimError::InvalidProbability {
                field: "reconfigure",
                value: self.reconfigure,
            });
        }
        if !(0.0..=1.0).contains(&self.joint_changes) {
            return Err(SimError::InvalidProbability {
                field: "joint_changes",
                value: self.joint_changes,
            });
        }
        if !(0.0..=1.0).contains(&self.stop_signs) {
            return Err(SimError::InvalidProbability {
                field: "stop_signs",
                value: self.stop_signs,
            });
        }
        if !(0.0..=1.0).contains(&self.compact) {
            return Err(SimError::InvalidProbability {
                field: "compact",
                value: self.compact,
            });
        }
        if !(0.0..=1.0).contains(&self.sync_probability) {
            return Err(SimError::InvalidProbability {
                field: "sync_probability",
                value: self.sync_probability,
            });
        }
        self.faults.validate()
    }
}
