//! The cluster simulator, generic over the [`Replica`] it drives and the
//! [`Workload`] it runs: nodes with in-memory disks that lose unsynced
//! writes on a crash, a faulty network, clients that time out and retry,
//! invariant checks after every tick and a linearizability check of the
//! history at the end.

mod checks;
mod clients;
mod faults;
mod kv_workload;
mod nodes;
mod workload;

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt, SeedableRng};

pub(crate) use self::workload::{Request, Workload};
use crate::config::SimConfig;
use crate::disk::{Disk, mix};
use crate::error::SimError;
use crate::fault::FaultConfig;
use crate::history::{History, OpId};
use crate::linearizability::{Verdict, check};
use crate::model::{ModelOp, ModelVerdict, Outcome, check_model};
use crate::network::Network;
use crate::raft::RaftReplica;
use crate::replica::Replica;
use crate::report::{RunReport, Summary, Violation};
use crate::service::{Service, ServiceInput, ServiceRunReport, ServiceWorkload};
use kv_workload::KvWorkload;

/// One simulated machine: the protocol node while it runs, its disk and
/// its state machine.
#[derive(Debug)]
struct Machine<R: Replica, W: Workload> {
    node: Option<R>,
    disk: Disk<R>,
    state: W::State,
    down_until: u64,
    paused_until: u64,
    restarts: u64,
    /// Client requests this node appended as leader: (client, request).
    serving: BTreeSet<(u64, u64)>,
    /// Reads being confirmed: read id -> the client's request and the
    /// highest index applied anywhere when it was issued.
    reads: BTreeMap<u64, (Request<W::Input>, u64)>,
    /// Reads confirmed, waiting for their index to be applied.
    confirmed: Vec<(u64, Request<W::Input>)>,
    /// The last index this incarnation's state machine applied (0 until
    /// it applies an entry: reads wait until then).
    applied_index: u64,
    was_leader_in: u64,
    /// Stopped by [`SimConfig::retire_removed`]: outside the committed
    /// configuration, down until one takes it back.
    retired: bool,
}

#[derive(Debug, Default)]
struct Client {
    /// The outstanding operation, its request number and when it expires.
    current: Option<(OpId, u64, u64)>,
    next_request: u64,
    target: u64,
}

/// A message on the simulated network: between nodes, or to and from
/// clients (client ids are offset past node ids).
#[derive(Debug, Clone)]
enum Wire<M, I, O> {
    Protocol(M),
    Request(Request<I>),
    Reply {
        request: u64,
        result: Result<O, Option<u64>>,
    },
}

/// The wire of a simulation of `R` running `W`.
type WireOf<R, W> = Wire<<R as Replica>::Message, <W as Workload>::Input, <W as Workload>::Output>;

const CLIENT_BASE: u64 = 1 << 32;

/// A swizzle in progress: the order nodes are clogged in, how many are
/// clogged, whether it is still spreading, and when it moves next.
type Swizzle = (Vec<u64>, usize, bool, u64);

struct Sim<R: Replica, W: Workload> {
    cfg: SimConfig<R::Options>,
    faults: FaultConfig,
    workload: W,
    rng: StdRng,
    now: u64,
    nodes: BTreeMap<u64, Machine<R, W>>,
    net: Network<WireOf<R, W>>,
    clients: BTreeMap<u64, Client>,
    history: Vec<ModelOp<W::Input, W::Output>>,
    invoked: u64,
    /// Every committed entry any node applied: index -> (term, payload,
    /// the applying node's term when it was first applied, at or above the
    /// term in which it was committed).
    committed: BTreeMap<u64, (u64, R::Payload, u64)>,
    /// The first node seen leading each term.
    leaders: BTreeMap<u64, u64>,
    last_leader: Option<u64>,
    partition_until: u64,
    swizzle: Option<Swizzle>,
    summary: Summary,
    trace: u64,
    violation: Option<Violation>,
    events: Vec<String>,
    completed_after_heal: u64,
    clients_done_after_heal: BTreeSet<u64>,
}

/// Runs one seeded simulation of a synod-raft-core cluster.
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run(cfg: &SimConfig) -> Result<RunReport, SimError> {
    run_with::<RaftReplica>(cfg)
}

/// Runs one seeded simulation of a cluster of `R` replicas: the same
/// network, disks, faults, clients and checks for any protocol.
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run_with<R: Replica>(cfg: &SimConfig<R::Options>) -> Result<RunReport, SimError> {
    cfg.validate()?;
    let mut sim = simulate::<R, _>(cfg, KvWorkload { keys: cfg.keys });
    let mut history = History::new();
    for op in &sim.history {
        let id = history.invoke(op.client, op.input.0, op.input.1, op.invoked);
        if let Outcome::Returned { time, output } = op.outcome {
            history
                .complete(id, time, output)
                .expect("the simulator completes each operation once, in time");
        }
    }
    let mut check_unknown = false;
    if sim.violation.is_none() {
        match check(&history, cfg.check_budget) {
            Verdict::Linearizable => {}
            Verdict::NotLinearizable(report) => {
                sim.violation = Some(Violation::NotLinearizable(report.describe(&history)));
            }
            Verdict::Unknown => check_unknown = true,
        }
    }
    Ok(RunReport {
        seed: cfg.seed,
        protocol: R::NAME,
        profile: cfg.profile,
        summary: sim.summary,
        violation: sim.violation,
        history,
        trace_hash: sim.trace,
        events: sim.events,
        check_unknown,
    })
}

/// Runs one seeded simulation of a cluster of `R` replicas whose state
/// machine is your [`Service`]: every node starts from a clone of
/// `service`, clients invoke what `next_input` draws (given the client and
/// the run's generator), and the history is checked against `model` with
/// [`check_model`], [`SimConfig::check_budget`] steps per part.
///
/// # Errors
/// [`SimError`] for an invalid configuration.
pub fn run_service<R, S>(
    cfg: &SimConfig<R::Options>,
    service: S,
    model: &S::Model,
    next_input: impl FnMut(u64, &mut StdRng) -> ServiceInput<S>,
) -> Result<ServiceRunReport<ServiceInput<S>, crate::ServiceOutput<S>>, SimError>
where
    R: Replica,
    S: Service,
{
    cfg.validate()?;
    let workload = ServiceWorkload {
        initial: service,
        next: next_input,
    };
    let mut sim = simulate::<R, _>(cfg, workload);
    let mut verdict = None;
    if sim.violation.is_none() {
        let v = check_model(model, &sim.history, cfg.check_budget)?;
        if let ModelVerdict::NotLinearizable(report) = &v {
            let account = report.describe(model, &sim.history);
            sim.violation = Some(Violation::NotLinearizable(account));
        }
        verdict = Some(v);
    }
    Ok(ServiceRunReport {
        seed: cfg.seed,
        protocol: R::NAME,
        summary: sim.summary,
        violation: sim.violation,
        history: sim.history,
        verdict,
        trace_hash: sim.trace,
        events: sim.events,
    })
}

/// Runs the ticks, the healing and the liveness check of one simulation;
/// the history is left for the caller to check.
fn simulate<R: Replica, W: Workload>(cfg: &SimConfig<R::Options>, workload: W) -> Sim<R, W> {
    let mut sim = Sim::<R, W>::new(cfg.clone(), workload);
    sim.run_ticks(cfg.ticks);
    if sim.violation.is_none() && cfg.heal_ticks > 0 {
        sim.heal();
        sim.run_ticks(cfg.heal_ticks);
        let stuck = sim.clients_done_after_heal.len() < sim.clients.len();
        if sim.violation.is_none() && stuck {
            sim.violation = Some(Violation::NoProgress {
                completed: sim.completed_after_heal,
                clients_without_progress: (sim.clients.len() - sim.clients_done_after_heal.len())
                    as u64,
            });
        }
    }
    let done = (sim.history.iter())
        .filter(|op| matches!(op.outcome, Outcome::Returned { .. }))
        .count() as u64;
    sim.summary.ops = (done, sim.history.len() as u64 - done);
    sim.summary.messages = (sim.net.sent, sim.net.dropped, sim.net.duplicated);
    sim.summary.slowed = sim.net.slowed;
    sim.summary.terms_with_leader = sim.leaders.len() as u64;
    sim
}

impl<R: Replica, W: Workload> Sim<R, W> {
    fn new(cfg: SimConfig<R::Options>, workload: W) -> Self {
        let ids: Vec<u64> = (1..=cfg.nodes).collect();
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut nodes = BTreeMap::new();
        let mut violation = None;
        for &id in &ids {
            let durable = R::bootstrap(&ids);
            let node = match Self::start(&workload, id, &durable, &cfg, 0) {
                Ok((node, _)) => Some(node),
                Err(error) => {
                    violation.get_or_insert(Violation::BadWrite { node: id, error });
                    None
                }
            };
            nodes.insert(
                id,
                Machine {
                    node,
                    disk: Disk::new(durable),
                    state: workload.initial(),
                    down_until: 0,
                    paused_until: 0,
                    restarts: 0,
                    serving: BTreeSet::new(),
                    reads: BTreeMap::new(),
                    confirmed: Vec::new(),
                    applied_index: 0,
                    was_leader_in: 0,
                    retired: false,
                },
            );
        }
        let clients = (0..cfg.clients)
            .map(|c| {
                let target = 1 + rng.next_u64() % cfg.nodes;
                let client = Client {
                    target,
                    ..Client::default()
                };
                (c, client)
            })
            .collect();
        let mut net = Network::new();
        net.set_link_jitter(&ids, &mut rng, &cfg.faults);
        Self {
            faults: cfg.faults.clone(),
            cfg,
            workload,
            rng,
            now: 0,
            nodes,
            net,
            clients,
            history: Vec::new(),
            invoked: 0,
            committed: BTreeMap::new(),
            leaders: BTreeMap::new(),
            last_leader: None,
            partition_until: 0,
            swizzle: None,
            summary: Summary::default(),
            trace: 0,
            violation,
            events: Vec::new(),
            completed_after_heal: 0,
            clients_done_after_heal: BTreeSet::new(),
        }
    }

    /// Starts a node from its disk, with its own generator (derived from
    /// the seed, the node and its restart count), and decodes the state
    /// machine the disk's snapshot holds.
    fn start(
        workload: &W,
        id: u64,
        durable: &R::Disk,
        cfg: &SimConfig<R::Options>,
        restarts: u64,
    ) -> Result<(R, W::State), String> {
        let rng = StdRng::seed_from_u64(mix(mix(cfg.seed, id), restarts));
        let (node, state) = R::start(id, durable, cfg, rng)?;
        let state = match state {
            None => workload.initial(),
            Some(bytes) => workload.restore(&bytes).ok_or("undecodable snapshot")?,
        };
        Ok((node, state))
    }

    fn run_ticks(&mut self, ticks: u64) {
        for _ in 0..ticks {
            if self.violation.is_some() {
                break;
            }
            self.tick();
        }
    }

    /// Records a trace line when the run records events.
    fn event(&mut self, what: impl FnOnce() -> String) {
        if self.cfg.record_events {
            let line = format!("{:>6} {}", self.now, what());
            self.events.push(line);
        }
    }

    fn tick(&mut self) {
        self.now += 1;
        self.inject_faults();
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for &id in &ids {
            if self.is_running(id) {
                if self.rng.random_bool(self.faults.skew) {
                    self.summary.skewed_ticks += 1;
                } else if let Some(n) = self.nodes.get_mut(&id).and_then(|s| s.node.as_mut()) {
                    n.tick();
                }
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
            if self.rng.random_bool(self.cfg.sync_probability) {
                self.sync(id);
            }
        }
        for &id in &ids {
            if self.is_running(id) && self.rng.random_bool(self.cfg.compact) {
                self.compact(id);
            }
        }
        if self.rng.random_bool(self.faults_reconfigure()) {
            self.reconfigure();
        }
        self.observe_leaders();
        if self.cfg.retire_removed && self.now > self.cfg.ticks {
            self.retire_removed();
        }
        if self.now.is_multiple_of(25) {
            self.check_log_matching();
        }
    }

    fn is_running(&self, id: u64) -> bool {
        self.nodes
            .get(&id)
            .is_some_and(|s| s.node.is_some() && s.paused_until <= self.now)
    }
}
