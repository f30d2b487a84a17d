//! The lock service under the simulator: synod-lock's [`LockMachine`] on
//! every replica of any [`Replica`] protocol, leaders stamping log time
//! from clocks that disagree, lock clients that keep sessions alive,
//! stall (GC pauses longer than their TTL) and increment a counter in a
//! separate resource under each lock, and the checks: mutual exclusion and
//! rising tokens as the clients saw them ([`check_mutex`] on each holder's
//! conservative belief), the same in log order, no grant to an expiring
//! session, identical answers on every replica, and no acknowledged
//! increment lost when the resource checks fencing tokens.

mod clients;
mod config;
mod log_checks;
mod modes;
mod nodes;
mod report;

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt, SeedableRng};
use synod_lock::{Fence, LockMachine, LockName, Mode, Request, Response, Token};

pub use config::LockSimConfig;
pub use report::{LockRunReport, LockSummary, LockViolation};

use crate::disk::{Disk, mix};
use crate::error::SimError;
use crate::fault::FaultConfig;
use crate::mutex::{LockGrant, check_mutex};
use crate::network::Network;
use crate::partition::{self, PartitionKind};
use crate::raft::RaftReplica;
use crate::replica::Replica;

use clients::Client;
use log_checks::LogChecks;

/// Client ids on the network are offset past node ids; the resource has
/// its own.
const CLIENT_BASE: u64 = 1 << 32;
const RESOURCE: u64 = 1 << 40;

/// A message on the simulated network.
#[derive(Debug, Clone)]
enum Wire<M> {
    Protocol(M),
    /// A client's command, and the lock whose hold the answer should
    /// report (read at the command's log position).
    Request {
        request: Request,
        watch: Option<LockName>,
    },
    /// The answer, with the hold of the watched lock (`Err`: not taken
    /// here; the leader, if known).
    Reply {
        seq: u64,
        result: Result<(Response, Option<Token>), Option<u64>>,
    },
    /// To the resource: read or write lock `lock`'s counter under `token`.
    Access {
        op: u64,
        lock: u64,
        token: Token,
        write: Option<u64>,
    },
    /// From the resource: the counter read or written, or refused.
    Accessed {
        op: u64,
        ok: Option<u64>,
    },
}

/// One simulated machine.
#[derive(Debug)]
struct Machine<R: Replica> {
    node: Option<R>,
    disk: Disk<R>,
    state: LockMachine,
    /// This incarnation's clock (milliseconds, one per tick it sees).
    clock: u64,
    down_until: u64,
    paused_until: u64,
    restarts: u64,
    /// Client commands this node appended as leader: (client, seq) ->
    /// the lock to report on.
    serving: BTreeMap<(u64, u64), Option<LockName>>,
}

struct Sim<R: Replica> {
    cfg: LockSimConfig<R::Options>,
    faults: FaultConfig,
    rng: StdRng,
    now: u64,
    nodes: BTreeMap<u64, Machine<R>>,
    net: Network<Wire<R::Message>>,
    clients: BTreeMap<u64, Client>,
    /// The resource: each lock's counter, and its fence.
    counters: BTreeMap<u64, u64>,
    fence: Fence,
    /// Increments acknowledged, per lock.
    acknowledged: BTreeMap<u64, u64>,
    grants: Vec<LockGrant>,
    /// The mode of each grant.
    grant_modes: Vec<Mode>,
    log: LogChecks<R::Payload>,
    leaders: BTreeMap<u64, u64>,
    last_leader: Option<u64>,
    partition_until: u64,
    summary: LockSummary,
    trace: u64,
    violation: Option<LockViolation>,
    events: Vec<String>,
}

/// Runs one seeded simulation of the lock service on synod-raft-core.
///
/// ```
/// use synod_sim::{LockSimConfig, run_lock};
/// let report = run_lock(&LockSimConfig::safety(7)).unwrap();
/// assert_eq!(report.violation, None);
/// assert!(report.summary.grants > 0);
/// ```
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run_lock(cfg: &LockSimConfig) -> Result<LockRunReport, SimError> {
    run_lock_with::<RaftReplica>(cfg)
}

/// Runs one seeded simulation of the lock service on `R` replicas.
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run_lock_with<R: Replica>(
    cfg: &LockSimConfig<R::Options>,
) -> Result<LockRunReport, SimError> {
    cfg.validate()?;
    let mut sim = Sim::<R>::new(cfg.clone());
    for _ in 0..cfg.cluster.ticks {
        if sim.violation.is_some() {
            break;
        }
        sim.tick();
    }
    sim.finish();
    sim.summary.terms_with_leader = sim.leaders.len() as u64;
    Ok(LockRunReport {
        seed: cfg.cluster.seed,
        protocol: R::NAME,
        violation: sim.violation,
        grants: sim.grants,
        summary: sim.summary,
        trace_hash: sim.trace,
        events: sim.events,
    })
}

impl<R: Replica> Sim<R> {
    fn new(cfg: LockSimConfig<R::Options>) -> Self {
        let ids: Vec<u64> = (1..=cfg.cluster.nodes).collect();
        let mut rng = StdRng::seed_from_u64(cfg.cluster.seed);
        let mut net = Network::new();
        net.set_link_jitter(&ids, &mut rng, &cfg.cluster.faults);
        let clients = (1..=cfg.clients)
            .map(|c| (c, Client::new(1 + rng.next_u64() % cfg.cluster.nodes)))
            .collect();
        let mut sim = Self {
            faults: cfg.cluster.faults.clone(),
            cfg,
            rng,
            now: 0,
            nodes: BTreeMap::new(),
            net,
            clients,
            counters: BTreeMap::new(),
            fence: Fence::new(),
            acknowledged: BTreeMap::new(),
            grants: Vec::new(),
            grant_modes: Vec::new(),
            log: LogChecks::default(),
            leaders: BTreeMap::new(),
            last_leader: None,
            partition_until: 0,
            summary: LockSummary::default(),
            trace: 0,
            violation: None,
            events: Vec::new(),
        };
        for &id in &ids {
            let durable = R::bootstrap(&ids);
            sim.nodes.insert(
                id,
                Machine {
                    node: None,
                    disk: Disk::new(durable),
                    state: LockMachine::new(),
                    clock: 0,
                    down_until: 0,
                    paused_until: 0,
                    restarts: 0,
                    serving: BTreeMap::new(),
                },
            );
            sim.start(id);
        }
        sim
    }

    /// Records a trace line when the run records events.
    fn event(&mut self, what: impl FnOnce() -> String) {
        if self.cfg.cluster.record_events {
            let line = format!("{:>6} {}", self.now, what());
            self.events.push(line);
        }
    }

    fn tick(&mut self) {
        self.now += 1;
        self.nemesis();
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for &id in &ids {
            let skew = self.rng.random_bool(self.faults.skew);
            let running = self.is_running(id);
            let s = self.nodes.get_mut(&id).expect("node");
            if s.node.is_none() || skew {
                continue;
            }
            // A paused process's clock runs on.
            s.clock += 1;
            if running && let Some(n) = s.node.as_mut() {
                n.tick();
            }
        }
        if self.now.is_multiple_of(self.cfg.stamp_ticks) {
            for &id in &ids {
                self.stamp(id);
            }
        }
        self.clients_act();
        for &id in &ids {
            self.drive(id);
        }
        while let Some((from, to, wire)) = self.net.next_due(self.now) {
            self.deliver(from, to, wire);
        }
        for &id in &ids {
            if self.rng.random_bool(self.cfg.cluster.sync_probability) {
                self.sync(id);
            }
        }
        for &id in &ids {
            if self.is_running(id) && self.rng.random_bool(self.cfg.cluster.compact) {
                self.compact(id);
            }
        }
        self.observe_leaders();
    }

    fn is_running(&self, id: u64) -> bool {
        self.nodes
            .get(&id)
            .is_some_and(|s| s.node.is_some() && s.paused_until <= self.now)
    }

    /// Who leads which term (the protocol's own checks run in the
    /// key-value simulator; here it only feeds the partitions and the
    /// summary).
    fn observe_leaders(&mut self) {
        let mut current = None;
        for (&id, s) in &self.nodes {
            if let Some(term) = s.node.as_ref().and_then(R::leader_term) {
                self.leaders.entry(term).or_insert(id);
                if current.is_none_or(|(t, _)| term > t) {
                    current = Some((term, id));
                }
            }
        }
        if let Some((_, id)) = current {
            self.last_leader = Some(id);
        }
    }

    /// Crashes and restarts nodes, pauses them, and cuts the network.
    fn nemesis(&mut self) {
        if self.partition_until > 0 && self.now >= self.partition_until {
            self.net.cut.clear();
            self.partition_until = 0;
        }
        let kinds: Vec<PartitionKind> = (self.faults.partition_kinds.iter())
            .copied()
            .filter(|k| *k != PartitionKind::Swizzle)
            .collect();
        if self.partition_until == 0
            && !kinds.is_empty()
            && self.rng.random_bool(self.faults.partition)
        {
            let kind = kinds[(self.rng.next_u64() % kinds.len() as u64) as usize];
            let ids: Vec<u64> = self.nodes.keys().copied().collect();
            self.net.cut = partition::cuts(kind, &ids, self.last_leader, &mut self.rng);
            let (lo, hi) = self.faults.partition_ticks;
            self.partition_until = self.now + lo + self.rng.next_u64() % (hi - lo + 1);
            self.summary.partitions += 1;
            self.trace = mix(self.trace, 0xCAFE ^ kind as u64);
            self.event(|| format!("partition {kind:?}"));
        }
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            let now = self.now;
            let crash = self.rng.random_bool(self.faults.crash);
            let pause = self.rng.random_bool(self.faults.pause);
            let s = self.nodes.get_mut(&id).expect("node");
            if s.node.is_none() {
                if now >= s.down_until {
                    s.restarts += 1;
                    self.start(id);
                }
            } else if crash {
                self.crash(id);
            } else if pause && s.paused_until <= now {
                let (lo, hi) = self.faults.pause_ticks;
                s.paused_until = now + lo + self.rng.next_u64() % (hi - lo + 1);
            }
        }
    }

    /// Ends the run: holders still believing they hold a lock believe so
    /// until their deadline at the latest; then the end-of-run checks.
    fn finish(&mut self) {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for c in ids {
            self.client_forgets(c, u64::MAX);
        }
        if self.violation.is_some() {
            return;
        }
        if self.cfg.modes {
            if let Some((a, b, what)) = modes::check_modes(&self.grants, &self.grant_modes) {
                self.violation = Some(LockViolation::Modes {
                    first: self.grants[a],
                    second: self.grants[b],
                    what,
                });
            }
        } else {
            self.check_mutexes();
        }
        if self.violation.is_some() {
            return;
        }
        for (&lock, &acknowledged) in &self.acknowledged {
            let counter = self.counters.get(&lock).copied().unwrap_or(0);
            if counter < acknowledged {
                self.violation = Some(LockViolation::LostIncrement {
                    lock,
                    acknowledged,
                    counter,
                });
                return;
            }
        }
    }

    /// Every lock is a mutex: the simulator's mutex model.
    fn check_mutexes(&mut self) {
        match check_mutex(&self.grants) {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => {
                let (a, b) = match violation {
                    crate::MutexViolation::TwoHolders { first, second, .. } => (first, second),
                    crate::MutexViolation::TokenNotIncreasing { earlier, later, .. } => {
                        (earlier, later)
                    }
                };
                self.violation = Some(LockViolation::Mutex {
                    violation,
                    first: self.grants[a],
                    second: self.grants[b],
                });
            }
            Err(e) => {
                self.violation = Some(LockViolation::BadWrite {
                    node: 0,
                    error: format!("malformed grant record: {e}"),
                });
            }
        }
    }

    /// The resource serves a read or write of a lock's counter, checking
    /// the token first when it is fenced.
    fn resource_serves(&mut self, from: u64, op: u64, lock: u64, token: Token, write: Option<u64>) {
        let key = format!("counter-{lock}");
        let ok = if self.cfg.fenced && self.fence.check(&key, token).is_err() {
            self.summary.fenced += 1;
            None
        } else {
            let counter = self.counters.entry(lock).or_insert(0);
            if let Some(v) = write {
                *counter = v;
            }
            Some(*counter)
        };
        self.trace = mix(self.trace, (lock << 32) ^ ok.unwrap_or(u64::MAX));
        let wire = Wire::Accessed { op, ok };
        self.net
            .send(self.now, RESOURCE, from, wire, &mut self.rng, &self.faults);
    }
}
