//! The table in docs/benchmarks.md ("synod-node"): writes per second with
//! 1, 64 and 256 concurrent clients on a 3-node cluster in one process,
//! synod-node beside openraft in interleaved rounds of one run; raft-core's
//! own in-process rate for the driver's cost; memory per in-flight
//! proposal and per idle node.
//!
//! `cargo bench -p synod-node-bench --bench report` (`-- --quick` for a
//! short run).

#[path = "peers.rs"]
mod peers;

use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use synod_node_bench::{run_clients, runtime, start};
use synod_raft_core_bench::{Harness, SynodCluster, Workload};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Worker threads for both libraries: the machine's two cores.
const THREADS: usize = 2;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn net_bytes(region: &Region<'_, std::alloc::System>) -> i64 {
    let c = region.change();
    c.bytes_allocated as i64 + c.bytes_reallocated as i64 - c.bytes_deallocated as i64
}

/// Starts both libraries on `rt`, warms them up, prints one table row per
/// client count (the median of `rounds` interleaved rounds of about
/// `total` writes; a tenth of that for one client) and returns synod-node's
/// rate at 256 clients.
fn table(rt: &tokio::runtime::Runtime, clients: &[u64], rounds: usize, total: u64) -> f64 {
    let synod = rt.block_on(start(3));
    let openraft = rt.block_on(peers::start_openraft(3));
    rt.block_on(run_clients(&synod.leader, 64, 200));
    rt.block_on(peers::run_openraft_clients(&openraft.leader, 64, 200));
    println!("| clients | synod-node | openraft 0.9.25 | synod / openraft |");
    println!("|---:|---:|---:|---:|");
    let mut at_256 = 0.0;
    for &clients in clients {
        let ops = if clients == 1 { total / 10 } else { total };
        let per_client = ops / clients;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let t = rt.block_on(run_clients(&synod.leader, clients, per_client));
            ours.push((clients * per_client) as f64 / t.as_secs_f64());
            let t = rt.block_on(peers::run_openraft_clients(
                &openraft.leader,
                clients,
                per_client,
            ));
            theirs.push((clients * per_client) as f64 / t.as_secs_f64());
        }
        let (o, t) = (median(ours), median(theirs));
        if clients == 256 {
            at_256 = o;
        }
        println!(
            "| {clients} | {:.0} k/s | {:.0} k/s | {:.2}x |",
            o / 1e3,
            t / 1e3,
            o / t
        );
    }
    at_256
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let total: u64 = if quick { 20_000 } else { 100_000 };
    let rt = runtime(THREADS);
    let at_256 = table(&rt, &[1, 64, 256], rounds, total);

    // The same two libraries on one thread (a current-thread runtime):
    // raft-core alone below runs on one, so this is the driver's cost on
    // the same budget; on two workers the hand-offs between the threads
    // (wake-ups, futexes) cost more than the second core brings here.
    let one_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!();
    println!("One thread (current-thread runtime) for both:");
    println!();
    let at_256_one = table(&one_thread, &[64, 256], rounds, total);

    // raft-core alone, driven synchronously in one thread: 16-byte
    // commands, 64 proposals per cycle, 3 nodes.
    let workload = Workload {
        nodes: 3,
        proposals_per_cycle: 64,
        commands_per_entry: 1,
        command_bytes: 16,
    };
    let mut harness = Harness::<SynodCluster>::start(3);
    harness.run(workload, 200);
    let cycles = if quick { 1_000 } else { 5_000 };
    let started = Instant::now();
    let report = harness.run(workload, cycles);
    let core = report.commands as f64 / started.elapsed().as_secs_f64();
    println!();
    println!(
        "raft-core in-process (one thread, 3 nodes, 16 B x64 per cycle): {:.0} k/s; \
         synod-node at 256 clients on two worker threads: {:.0} k/s = {:.0}% of it (the \
         driver costs {:.0}%); on one thread: {:.0} k/s = {:.0}% (the driver costs {:.0}%)",
        core / 1e3,
        at_256 / 1e3,
        100.0 * at_256 / core,
        100.0 - 100.0 * at_256 / core,
        at_256_one / 1e3,
        100.0 * at_256_one / core,
        100.0 - 100.0 * at_256_one / core
    );

    // Memory: an idle 3-node cluster, and proposals that cannot commit.
    let region = Region::new(GLOBAL);
    let idle = rt.block_on(start(3));
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    let group = net_bytes(&region);
    println!(
        "memory per idle 3-node group: {group} bytes ({} per node: driver, raft-core, log, \
         network endpoint)",
        group / 3
    );
    drop(idle);
    let cut = rt.block_on(async {
        let c = synod_node_bench::start_isolated_leader(3).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        c
    });
    let in_flight = 10_000u64;
    let region = Region::new(GLOBAL);
    let (calls, future_bytes) = rt.block_on(synod_node_bench::stall_polled(&cut, in_flight));
    let total = net_bytes(&region) as f64 / in_flight as f64;
    let node_side = total - future_bytes as f64;
    println!(
        "memory per in-flight proposal (16 B command, {in_flight} waiting): {node_side:.0} bytes \
         in the node and its queues (the caller's own future: {future_bytes} more)"
    );
    drop(calls);
}
