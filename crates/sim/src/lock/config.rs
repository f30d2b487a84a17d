//! What a lock-service run simulates: the cluster (borrowed from
//! [`SimConfig`]) and the lock workload on top of it.

use crate::config::SimConfig;
use crate::error::SimError;
use crate::fault::FaultConfig;
use crate::raft::RaftOptions;

/// A run of the lock service ([`synod_lock::LockMachine`] on every
/// replica) under the simulator. One tick is one millisecond of a node's
/// clock.
#[derive(Debug, Clone, PartialEq)]
pub struct LockSimConfig<O = RaftOptions> {
    /// The cluster: nodes, seed, ticks, faults, disk syncs, compaction,
    /// the event trace and the protocol's options. Its key-value workload
    /// fields (clients, ops, keys, reads, the check budget) are not used.
    pub cluster: SimConfig<O>,
    /// Lock clients.
    pub clients: u64,
    /// Locks they contend for (each guards its own counter).
    pub locks: u64,
    /// A session's time-to-live, ticks.
    pub ttl_ticks: u64,
    /// How often each node, while it leads, stamps log time.
    pub stamp_ticks: u64,
    /// Per held lock: the holder stalls (a GC pause) right after deciding
    /// to write, and writes when it wakes without looking at its clock
    /// again: the case fencing exists for.
    pub pause_before_write: f64,
    /// Per client per tick, in any state: the client stalls.
    pub pause_anywhere: f64,
    /// How long a client stall lasts (ticks; longer than the TTL makes
    /// sessions expire under it).
    pub client_pause_ticks: (u64, u64),
    /// Lock 0 is a read-write lock (half the acquires shared, readers
    /// only read the counter) and lock 1 a semaphore of two permits;
    /// `false`: every lock is a mutex.
    pub modes: bool,
    /// The guarded resource refuses stale tokens (`false`: a lock without
    /// fencing, which loses increments, to show the check has teeth).
    pub fenced: bool,
    /// Each node incarnation's clock starts at a random offset up to this:
    /// leaders' clocks disagree, so a failover moves log time.
    pub clock_offset_ticks: u64,
    /// Ticks a client waits for an answer before retrying elsewhere.
    pub request_timeout_ticks: u64,
    /// The planted bug in the lock machine, if any.
    #[cfg(feature = "mutations")]
    pub mutation: Option<synod_lock::mutation::Mutation>,
}

impl LockSimConfig {
    /// Loss, duplication, partitions, crashes with torn writes, node and
    /// client pauses, compaction with snapshot installs and clocks that
    /// disagree, on raft-core, with fencing.
    #[must_use]
    pub fn safety(seed: u64) -> Self {
        let mut cluster = SimConfig::safety(seed);
        cluster.ticks = 4_000;
        cluster.heal_ticks = 0;
        cluster.reconfigure = 0.0;
        cluster.compact = 0.01;
        cluster.faults = FaultConfig {
            partition: 0.005,
            crash: 0.001,
            pause_ticks: (5, 60),
            ..FaultConfig::safety()
        };
        Self {
            cluster,
            clients: 4,
            locks: 2,
            ttl_ticks: 150,
            stamp_ticks: 10,
            pause_before_write: 0.3,
            pause_anywhere: 0.0005,
            client_pause_ticks: (50, 300),
            fenced: true,
            modes: false,
            clock_offset_ticks: 100,
            request_timeout_ticks: 40,
            #[cfg(feature = "mutations")]
            mutation: None,
        }
    }

    /// [`LockSimConfig::safety`] with a read-write lock and a semaphore
    /// beside the mutexes (see [`LockSimConfig::modes`]).
    #[must_use]
    pub fn modes(seed: u64) -> Self {
        Self {
            modes: true,
            locks: 3,
            ..Self::safety(seed)
        }
    }

    /// The same run without faults: every client must get its locks.
    #[must_use]
    pub fn calm(seed: u64) -> Self {
        let mut cfg = Self::safety(seed);
        cfg.cluster.faults = FaultConfig::none();
        cfg.cluster.compact = 0.0;
        cfg.pause_before_write = 0.0;
        cfg.pause_anywhere = 0.0;
        cfg
    }
}

impl<O> LockSimConfig<O> {
    /// The same run with other protocol options.
    #[must_use]
    pub fn with_protocol<P>(self, f: impl FnOnce(O) -> P) -> LockSimConfig<P> {
        LockSimConfig {
            cluster: self.cluster.with_protocol(f),
            clients: self.clients,
            locks: self.locks,
            ttl_ticks: self.ttl_ticks,
            stamp_ticks: self.stamp_ticks,
            pause_before_write: self.pause_before_write,
            pause_anywhere: self.pause_anywhere,
            client_pause_ticks: self.client_pause_ticks,
            fenced: self.fenced,
            modes: self.modes,
            clock_offset_ticks: self.clock_offset_ticks,
            request_timeout_ticks: self.request_timeout_ticks,
            #[cfg(feature = "mutations")]
            mutation: self.mutation,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), SimError> {
        self.cluster.validate()?;
        for (name, p) in [
            ("pause_before_write", self.pause_before_write),
            ("pause_anywhere", self.pause_anywhere),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SimError::InvalidProbability {
                    field: name,
                    value: p,
                });
            }
        }
        let (lo, hi) = self.client_pause_ticks;
        if lo > hi {
            return Err(SimError::InvalidRange {
                field: "client_pause_ticks",
                min: lo,
                max: hi,
            });
        }
        for (name, v) in [
            ("ttl_ticks", self.ttl_ticks),
            ("stamp_ticks", self.stamp_ticks),
            ("request_timeout_ticks", self.request_timeout_ticks),
            ("locks", self.locks),
        ] {
            if v == 0 {
                return Err(SimError::InvalidRange {
                    field: name,
                    min: 1,
                    max: v,
                });
            }
        }
        Ok(())
    }
}
