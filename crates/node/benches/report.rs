//! The table in docs/benchmarks.md ("synod-node"): writes per second with
//! 1, 64 and 256 concurrent clients on a 3-node cluster in one process,
//! synod-node beside openraft in interleaved rounds of one run; raft-core's
//! own in-process rate for the driver's cost. The memory figures are
//! `--bench memory`'s: its counting allocator would slow whichever side
//! allocates more per write here.
//!
//! `cargo bench -p synod-node-bench --bench report` (`-- --quick` for a
//! short run).

#[path = "peers.rs"]
mod peers;

use std::time::Instant;

use synod_node_bench::{run_clients, runtime, start};
use synod_raft_core_bench::{Harness, SynodCluster, Workload};

/// Worker threads for both libraries: the machine's two cores.
const THREADS: usize = 2;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// raft-core alone, driven synchronously in one thread: 16-byte
/// commands, 64 proposals per cycle, 3 nodes. Each call runs about
/// `commands` more and returns the rate.
struct CoreAlone {
    harness: Harness<SynodCluster>,
    workload: Workload,
}

impl CoreAlone {
    fn start() -> Self {
        let workload = Workload::small_x64(3);
        let mut harness = Harness::<SynodCluster>::start(3);
        harness.run(workload, 200);
        Self { harness, workload }
    }

    fn rate(&mut self, commands: u64) -> f64 {
        let cycles = (commands / self.workload.proposals_per_cycle as u64).max(1);
        let started = Instant::now();
        let report = self.harness.run(self.workload, cycles);
        report.commands as f64 / started.elapsed().as_secs_f64()
    }
}

/// synod-node's rate at 256 clients against raft-core alone's, one pair
/// per round: the median and the range of the driver's cost.
struct DriverCost {
    node: f64,
    core: f64,
    costs: Vec<f64>,
}

impl DriverCost {
    fn describe(&self) -> String {
        let mut costs = self.costs.clone();
        costs.sort_by(f64::total_cmp);
        let listed: Vec<String> = costs.iter().map(|c| format!("{c:.0}")).collect();
        format!(
            "synod-node {:.0} k/s, raft-core alone {:.0} k/s (medians): the driver costs \
             {:.0}% (median of the rounds; each round: {}%)",
            self.node / 1e3,
            self.core / 1e3,
            median(costs),
            listed.join(", ")
        )
    }
}

/// Starts both libraries on `rt`, warms them up and prints one table row
/// per client count (the median of `rounds` interleaved rounds of about
/// `total` writes; a tenth of that for one client, four times it for
/// 256). In each round at 256 clients raft-core alone runs as many
/// commands right after synod-node, so the driver's cost compares rates
/// the machine gave in the same second (it varies by a factor of two
/// between minutes here).
fn table(
    rt: &tokio::runtime::Runtime,
    clients: &[u64],
    rounds: usize,
    total: u64,
    core: &mut CoreAlone,
) -> DriverCost {
    let synod = rt.block_on(start(3));
    let openraft = rt.block_on(peers::start_openraft(3));
    rt.block_on(run_clients(&synod.leader, 64, 200));
    rt.block_on(peers::run_openraft_clients(&openraft.leader, 64, 200));
    println!("| clients | synod-node | openraft 0.9.25 | synod / openraft |");
    println!("|---:|---:|---:|---:|");
    let mut cost = DriverCost {
        node: 0.0,
        core: 0.0,
        costs: Vec::new(),
    };
    for &clients in clients {
        // Longer rounds at 256 clients, whose rate the driver's cost
        // compares: a round of 100,000 writes lasts 40 ms on one thread,
        // shorter than this machine's swings.
        let ops = match clients {
            1 => total / 10,
            256 => total * 4,
            _ => total,
        };
        let per_client = ops / clients;
        let (mut ours, mut theirs, mut alone) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let t = rt.block_on(run_clients(&synod.leader, clients, per_client));
            let node = (clients * per_client) as f64 / t.as_secs_f64();
            ours.push(node);
            if clients == 256 {
                // Right after the node, before openraft's longer run.
                let c = core.rate(ops);
                alone.push(c);
                cost.costs.push(100.0 - 100.0 * node / c);
            }
            let t = rt.block_on(peers::run_openraft_clients(
                &openraft.leader,
                clients,
                per_client,
            ));
            theirs.push((clients * per_client) as f64 / t.as_secs_f64());
        }
        let (o, t) = (median(ours), median(theirs));
        if clients == 256 {
            cost.node = o;
            cost.core = median(alone);
        }
        println!(
            "| {clients} | {:.0} k/s | {:.0} k/s | {:.2}x |",
            o / 1e3,
            t / 1e3,
            o / t
        );
    }
    cost
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 5 };
    let total: u64 = if quick { 20_000 } else { 100_000 };
    let mut core = CoreAlone::start();
    let rt = runtime(THREADS);
    let two_threads = table(&rt, &[1, 64, 256], rounds, total, &mut core);

    // The same two libraries on one thread (a current-thread runtime):
    // raft-core alone runs on one, so this is the driver's cost on the
    // same budget; on two workers the hand-offs between the threads
    // (wake-ups, futexes) cost more than the second core brings here.
    let one_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!();
    println!("One thread (current-thread runtime) for both:");
    println!();
    let one = table(&one_thread, &[64, 256], rounds, total, &mut core);
    println!();
    println!(
        "The driver's cost at 256 clients against raft-core alone (one thread, 3 nodes, \
         16 B x64 per cycle), in the same rounds:"
    );
    println!("- two worker threads: {}", two_threads.describe());
    println!("- one thread: {}", one.describe());
}
