//! What the seeded simulation runners (`simulate`, `lock_simulate`,
//! `bank_simulate`) share: the seed-range flags, the pool that runs the
//! seeds on every core behind a progress bar (stopping after enough
//! failures), the fault profiles and Multi-Paxos's reading of them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use synod_sim::{ProtocolReplica, SimConfig};

/// synod-paxos-core as the simulator drives it: through synod-protocol's
/// `Protocol` trait over its in-memory storage.
pub type Paxos =
    ProtocolReplica<synod_paxos_core::PaxosNode<synod_protocol::MemStorage, rand::rngs::StdRng>>;

/// A raft-core profile read for Multi-Paxos: the profile's election
/// timeout, lease reads (the lease profile, and the safety seeds that run
/// without skew or pauses), snapshot piece size and message size carry
/// over; the rest of raft's options have no Multi-Paxos meaning. One seed
/// in three runs flexible quorums: in the profiles that require no progress
/// (no healing), any phase-2 quorum from one acceptor to every voter with
/// the smallest phase-1 quorum that meets it, so the extremes run too (a
/// candidate that leads on its own promise, a leader that decides alone);
/// in the others, five-node seeds only, 4 promises to lead and 2
/// acceptances to decide (a quorum of every voter would stall while one
/// is down).
#[must_use]
pub fn paxos_config(cfg: &SimConfig) -> SimConfig<synod_paxos_core::Config> {
    let quorums = flexible_quorums(cfg);
    let cfg = SimConfig {
        // Removed nodes keep running in every Multi-Paxos seed: stopping
        // them stands in for a defence classic Raft lacks, and paxos-core
        // must hold off a removed proposer by itself.
        retire_removed: false,
        ..cfg.clone()
    };
    cfg.with_protocol(|o| synod_paxos_core::Config {
        election_timeout_ticks: o.election_timeout_ticks,
        phase1_quorum: quorums.map(|(q1, _)| q1),
        phase2_quorum: quorums.map(|(_, q2)| q2),
        lease_reads: o.lease_reads,
        // Most seeds send snapshots in small pieces, as for raft, and
        // then entries at most 256 bytes per message too (a few commands),
        // so promises and syncs come in many parts (the chaos seeds that
        // send raft one entry per append send one per message here).
        snapshot_chunk_bytes: o.snapshot_chunk_bytes,
        max_size_per_msg_bytes: if o.snapshot_chunk_bytes < 1 << 20 {
            o.max_size_per_msg_bytes.min(256)
        } else {
            o.max_size_per_msg_bytes
        },
        ..synod_paxos_core::Config::new(1)
    })
}

/// The (phase-1, phase-2) quorum sizes of a seed that runs flexible
/// quorums (see [`paxos_config`]), `None` for majorities.
fn flexible_quorums(cfg: &SimConfig) -> Option<(usize, usize)> {
    if !cfg.seed.is_multiple_of(3) {
        return None;
    }
    let n = usize::try_from(cfg.nodes).ok()?;
    if cfg.heal_ticks == 0 && n > 0 {
        let q2 = 1 + usize::try_from(cfg.seed / 3).ok()? % n;
        return Some((n - q2 + 1, q2));
    }
    (n == 5).then_some((4, 2))
}

/// The fault profiles of `SimConfig`, by `--faults` name.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Profile {
    /// Every fault.
    Safety,
    /// Faults, then healing, then progress required.
    Liveness,
    /// Far more faults, classic Raft.
    Chaos,
    /// Lease reads, the leader isolated from its peers but not its clients.
    Lease,
}

impl Profile {
    /// The profile's `--faults` name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Safety => "safety",
            Self::Liveness => "liveness",
            Self::Chaos => "chaos",
            Self::Lease => "lease",
        }
    }

    /// The profile's configuration for `seed`.
    #[must_use]
    pub fn config(self, seed: u64) -> SimConfig {
        match self {
            Self::Safety => SimConfig::safety(seed),
            Self::Liveness => SimConfig::liveness(seed),
            Self::Chaos => SimConfig::chaos(seed),
            Self::Lease => SimConfig::lease(seed),
        }
    }
}

/// The seeds to run and how.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// How many seeds to run.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Print every run's event trace (forces one job).
    #[arg(long)]
    pub verbose: bool,
    /// Worker threads; 0 for one per core.
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Stop starting new seeds after this many failures (every failure
    /// found before that is reported).
    #[arg(long, default_value_t = 20)]
    pub max_failures: usize,
}

/// What a run of seeds found.
#[derive(Debug)]
pub struct Ran<R> {
    /// Seeds run.
    pub ran: u64,
    /// The failing runs, by seed.
    pub failures: Vec<R>,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Worker threads used.
    pub jobs: usize,
}

impl SeedArgs {
    /// The seed after the last, if the range fits in a `u64`.
    #[must_use]
    pub fn end(&self) -> Option<u64> {
        self.start.checked_add(self.seeds)
    }

    /// Worker threads: one when verbose (traces in seed order).
    #[must_use]
    pub fn jobs(&self) -> usize {
        match (self.verbose, self.jobs) {
            (true, _) => 1,
            (false, 0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            (false, n) => n,
        }
    }

    /// [`SeedArgs::run`], printing the error (if any) for the caller to
    /// exit with.
    pub fn run_or_report<R, E>(
        &self,
        run: impl Fn(u64) -> Result<R, E> + Sync,
        record: impl Fn(&R) -> Option<String> + Sync,
    ) -> Option<Ran<R>>
    where
        R: Send,
        E: Send + std::fmt::Display,
    {
        self.run(run, record)
            .map_err(|e| eprintln!("error: {e}"))
            .ok()
    }

    /// Runs every seed of the range with `run` on [`SeedArgs::jobs`]
    /// threads behind a progress bar; `record` sees each report (to add
    /// it to the caller's totals) and names its violation, if any. A
    /// seed's run must depend on its number alone, never on the others.
    ///
    /// # Errors
    /// The first error `run` returned (no more seeds start after it).
    ///
    /// # Panics
    /// If the range overflows a `u64` (check [`SeedArgs::end`] first).
    pub fn run<R, E>(
        &self,
        run: impl Fn(u64) -> Result<R, E> + Sync,
        record: impl Fn(&R) -> Option<String> + Sync,
    ) -> Result<Ran<R>, E>
    where
        R: Send,
        E: Send,
    {
        let end = self.end().expect("checked by the caller");
        let jobs = self.jobs();
        let bar = ProgressBar::new(self.seeds);
        bar.set_style(
            ProgressStyle::with_template("[{bar:40}] {pos}/{len} seeds, {per_sec}, eta {eta}")
                .expect("a valid template")
                .progress_chars("#>-"),
        );
        if self.verbose {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let next = AtomicU64::new(self.start);
        let ran = AtomicU64::new(0);
        let failures: Mutex<Vec<(u64, R)>> = Mutex::new(Vec::new());
        let errors: Mutex<Vec<E>> = Mutex::new(Vec::new());
        let started = Instant::now();
        let work = || {
            loop {
                let enough = failures.lock().expect("unpoisoned").len() >= self.max_failures;
                if enough || !errors.lock().expect("unpoisoned").is_empty() {
                    return;
                }
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    return;
                }
                let report = match run(seed) {
                    Ok(r) => r,
                    Err(e) => return errors.lock().expect("unpoisoned").push(e),
                };
                ran.fetch_add(1, Ordering::Relaxed);
                if let Some(v) = record(&report) {
                    bar.suspend(|| eprintln!("VIOLATION at seed {seed}: {v}"));
                    failures.lock().expect("unpoisoned").push((seed, report));
                }
                bar.inc(1);
            }
        };
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(work);
            }
        });
        bar.finish_and_clear();
        if let Some(e) = errors.into_inner().expect("unpoisoned").into_iter().next() {
            return Err(e);
        }
        let mut failures = failures.into_inner().expect("unpoisoned");
        failures.sort_by_key(|(seed, _)| *seed);
        Ok(Ran {
            ran: ran.into_inner(),
            failures: failures.into_iter().map(|(_, r)| r).collect(),
            secs: started.elapsed().as_secs_f64(),
            jobs,
        })
    }
}
