//! A seeded simulation in the style of synod-sim: three raft-core nodes,
//! each on its own log over its own simulated file system, with message
//! loss, duplication and reordering, snapshots and compaction, and crashes
//! that drop whatever was not synced (tearing the last write). Every node
//! must apply the same command at every index (Raft's state-machine
//! safety), whatever crashed when; a planted mutant that acknowledges
//! writes before syncing them proves the check can fail.
//!
//! A failing seed replays with `WAL_SIM_SEED=<seed> cargo test -p
//! synod-wal --test suite raft_cluster:: -- --nocapture`; `WAL_SIM_SEEDS=<n>` runs
//! seeds 1..=n.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use synod_raft_core::{Config, Entry, Message, Payload, Persist, RaftNode, Role, Storage};
use synod_wal::fs::SimDir;
use synod_wal::{Options, Wal};

type Node = RaftNode<Wal<SimDir>, StdRng>;

/// How the cluster misbehaves.
#[derive(Debug, Clone, Copy)]
struct Faults {
    drop: f64,
    duplicate: f64,
    crash: f64,
    /// The planted bug: acknowledge writes without syncing them.
    skip_sync: bool,
}

const FAULTS: Faults = Faults {
    drop: 0.05,
    duplicate: 0.03,
    crash: 0.004,
    skip_sync: false,
};

fn options() -> Options {
    Options {
        segment_bytes: 4096,
        cache_bytes: 512,
        ..Options::default()
    }
}

/// One server: its disk, its node (absent while crashed), and its state
/// machine (the commands it applied, by index).
struct Server {
    id: u64,
    dir: SimDir,
    node: Option<Node>,
    applied: Vec<(u64, Vec<u8>)>,
    down_ticks: u32,
}

fn encode(applied: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, cmd) in applied {
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(&(cmd.len() as u32).to_le_bytes());
        out.extend_from_slice(cmd);
    }
    out
}

fn decode(mut bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let index = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        out.push((index, bytes[12..12 + len].to_vec()));
        bytes = &bytes[12 + len..];
    }
    out
}

impl Server {
    fn start(&mut self, seed: u64) {
        let mut wal = Wal::open(self.dir.clone(), options()).expect("the log reopens");
        // Server 1 and 3 stage a leader's snapshot in a file as it comes;
        // server 2 takes it whole.
        wal.set_stages_snapshots(self.id % 2 == 1);
        let snapshot = wal.snapshot(0).expect("snapshot");
        self.applied = decode(&snapshot.data);
        let config = Config {
            applied: snapshot.meta.index,
            // Small pieces: every snapshot crosses in many.
            snapshot_chunk_bytes: 64,
            ..Config::new(self.id)
        };
        let rng = StdRng::seed_from_u64(seed ^ self.id);
        self.node = Some(RaftNode::new(config, wal, rng).expect("the node restarts"));
    }
}

struct Cluster {
    servers: Vec<Server>,
    net: Vec<Message>,
    rng: StdRng,
    faults: Faults,
    /// The command committed at each index, as first applied anywhere.
    committed: BTreeMap<u64, Vec<u8>>,
    crashes: u32,
    seed: u64,
}

impl Cluster {
    fn new(seed: u64, faults: Faults) -> Self {
        let servers = (1..=3)
            .map(|id| {
                let dir = SimDir::new(seed.wrapping_mul(31).wrapping_add(id));
                let mut wal = Wal::open(dir.clone(), options()).unwrap();
                wal.bootstrap(&[1, 2, 3]).unwrap();
                let mut s = Server {
                    id,
                    dir,
                    node: None,
                    applied: Vec::new(),
                    down_ticks: 0,
                };
                drop(wal);
                s.start(seed);
                s
            })
            .collect();
        Self {
            servers,
            net: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            faults,
            committed: BTreeMap::new(),
            crashes: 0,
            seed,
        }
    }

    /// Applies committed entries to server `k`'s state machine, checking
    /// each against what other servers applied at that index.
    fn apply(&mut self, k: usize, entries: &[Entry]) -> Result<(), String> {
        for e in entries {
            let Payload::Command(cmd) = &e.payload else {
                continue;
            };
            let cmd = cmd.to_vec();
            if let Some(first) = self.committed.get(&e.index)
                && *first != cmd
            {
                return Err(format!(
                    "seed {}: node {} applied {:?} at {}, another node applied {:?}",
                    self.seed,
                    k + 1,
                    String::from_utf8_lossy(&cmd),
                    e.index,
                    String::from_utf8_lossy(first)
                ));
            }
            self.committed.insert(e.index, cmd.clone());
            self.servers[k].applied.push((e.index, cmd));
        }
        Ok(())
    }

    fn handle_ready(&mut self, k: usize) -> Result<(), String> {
        let skip_sync = self.faults.skip_sync;
        let Some(node) = self.servers[k].node.as_mut() else {
            return Ok(());
        };
        if !node.has_ready() {
            return Ok(());
        }
        let ready = node.ready().map_err(|e| format!("ready: {e}"))?;
        let Persist {
            hard_state,
            snapshot,
            snapshot_pieces,
            staged_snapshot,
            entries,
            after,
            ..
        } = ready.persist;
        let wal = node.storage_mut();
        let mut restored = None;
        for piece in &snapshot_pieces {
            wal.stage_snapshot_piece(piece).map_err(|e| e.to_string())?;
        }
        if let Some(snapshot) = snapshot {
            restored = Some(decode(&snapshot.data));
            wal.apply_snapshot(snapshot).map_err(|e| e.to_string())?;
        }
        if let Some(meta) = &staged_snapshot {
            wal.install_staged_snapshot(meta)
                .map_err(|e| e.to_string())?;
            // Read back from the log, as a driver restores from storage.
            let installed = wal.snapshot(meta.index).map_err(|e| e.to_string())?;
            restored = Some(decode(&installed.data));
        }
        wal.append(entries).map_err(|e| e.to_string())?;
        if let Some(hs) = hard_state {
            wal.set_hard_state(hs).map_err(|e| e.to_string())?;
        }
        if !skip_sync {
            wal.sync().map_err(|e| e.to_string())?;
        }
        let done = after.persisted();
        node.on_persisted(done.receipt);
        let last = ready.committed_entries.last().map(|e| e.index);
        self.net.extend(ready.messages);
        self.net.extend(done.messages);
        if let Some(applied) = restored {
            self.servers[k].applied = applied;
        }
        self.apply(k, &ready.committed_entries)?;
        if let Some(index) = last {
            self.servers[k].node.as_mut().unwrap().on_applied(index);
        }
        Ok(())
    }

    fn snapshot_and_compact(&mut self, k: usize) -> Result<(), String> {
        let server = &mut self.servers[k];
        let Some(node) = server.node.as_mut() else {
            return Ok(());
        };
        let applied = node.log().applied();
        let conf = node.conf_state();
        let data = encode(&server.applied);
        let wal = node.storage_mut();
        if applied < wal.snapshot(0).map_err(|e| e.to_string())?.meta.index + 20 {
            return Ok(());
        }
        wal.create_snapshot(applied, conf, data)
            .map_err(|e| e.to_string())?;
        let to = applied - 5;
        if to >= wal.first_index().map_err(|e| e.to_string())? {
            wal.compact(to).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn deliver(&mut self) {
        let mut queue = std::mem::take(&mut self.net);
        // Reorder: a random rotation and swaps.
        for i in (1..queue.len()).rev() {
            let j = self.rng.random_range(0..=i);
            queue.swap(i, j);
        }
        for msg in queue {
            if self.rng.random_bool(self.faults.drop) {
                continue;
            }
            if self.rng.random_bool(self.faults.duplicate) {
                self.net.push(msg.clone());
            }
            let to = msg.to as usize - 1;
            if let Some(node) = self.servers.get_mut(to).and_then(|s| s.node.as_mut()) {
                // Stale or duplicated messages are the node's to refuse.
                let _ = node.step(msg);
            }
        }
    }

    fn crash(&mut self, k: usize) {
        let server = &mut self.servers[k];
        if server.node.take().is_some() {
            server.dir.crash();
            server.down_ticks = 5 + self.rng.random_range(0..30);
            self.crashes += 1;
        }
    }

    fn tick(&mut self, t: u64, chaos: bool) -> Result<(), String> {
        if chaos && self.rng.random_bool(0.6) {
            let k = self.rng.random_range(0..3);
            if let Some(node) = self.servers[k].node.as_mut()
                && node.role() == Role::Leader
            {
                let _ = node.propose(format!("{}-{t}", self.seed).into_bytes());
            }
        }
        for k in 0..3 {
            let server = &mut self.servers[k];
            if server.node.is_none() {
                server.down_ticks = server.down_ticks.saturating_sub(1);
                if server.down_ticks == 0 {
                    server.start(self.seed ^ t);
                }
                continue;
            }
            server.node.as_mut().unwrap().tick();
        }
        for _ in 0..3 {
            for k in 0..3 {
                self.handle_ready(k)?;
            }
            self.deliver();
        }
        if t.is_multiple_of(25) {
            for k in 0..3 {
                self.snapshot_and_compact(k)?;
            }
        }
        if chaos && self.rng.random_bool(self.faults.crash * 3.0) {
            let k = self.rng.random_range(0..3);
            self.crash(k);
        }
        Ok(())
    }

    /// Runs `ticks` of chaos, then heals and checks every node converges.
    fn run(&mut self, ticks: u64) -> Result<(), String> {
        for t in 0..ticks {
            self.tick(t, true)?;
        }
        let saved = self.faults;
        self.faults = Faults {
            drop: 0.0,
            duplicate: 0.0,
            ..saved
        };
        for t in ticks..ticks + 400 {
            self.tick(t, false)?;
        }
        self.faults = saved;
        let last: Vec<_> = self
            .servers
            .iter()
            .map(|s| s.applied.last().map(|a| a.0))
            .collect();
        if last.iter().any(|l| *l != last[0]) {
            return Err(format!(
                "seed {}: nodes did not converge: {last:?}",
                self.seed
            ));
        }
        Ok(())
    }
}

/// The seeds to run: `WAL_SIM_SEED=n` replays one, `WAL_SIM_SEEDS=n` runs
/// 1..=n (a long run), else 1..=24.
fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("WAL_SIM_SEED") {
        return vec![seed.parse().expect("a seed number")];
    }
    let count = std::env::var("WAL_SIM_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    (1..=count).collect()
}

#[test]
fn every_node_applies_the_same_commands_through_crashes() {
    let mut crashes = 0;
    let mut commands = 0;
    for seed in seeds() {
        let mut cluster = Cluster::new(seed, FAULTS);
        if let Err(e) = cluster.run(1500) {
            panic!(
                "{e}\nreplay: WAL_SIM_SEED={seed} cargo test -p synod-wal --test suite raft_cluster::"
            );
        }
        crashes += cluster.crashes;
        commands += cluster.committed.len();
    }
    println!("{commands} commands committed through {crashes} crashes");
    assert!(crashes > 20, "too few crashes to mean anything: {crashes}");
    assert!(commands > 1000, "too little progress: {commands}");
}

#[test]
fn the_same_seed_replays_bit_for_bit() {
    let run = |seed| {
        let mut cluster = Cluster::new(seed, FAULTS);
        cluster.run(600).unwrap();
        (cluster.committed, cluster.crashes)
    };
    assert_eq!(run(7), run(7));
}

// The planted mutant: a node that acknowledges appends and votes without
// syncing them loses them at a crash, and the check above must notice.
#[test]
fn acknowledging_before_the_sync_is_caught() {
    let faults = Faults {
        skip_sync: true,
        crash: 0.02,
        ..FAULTS
    };
    let caught = (1..=40).any(|seed| Cluster::new(seed, faults).run(1500).is_err());
    assert!(
        caught,
        "no seed caught writes acknowledged before their sync"
    );
}
