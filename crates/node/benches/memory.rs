//! The memory figures in docs/benchmarks.md ("synod-node"): bytes per
//! idle 3-node group and per proposal in flight, counted by an
//! instrumented allocator.
//!
//! `cargo bench -p synod-node-bench --bench memory`
//!
//! Its own binary: the counting allocator adds atomic operations to every
//! allocation and free, which would slow the library that allocates more
//! per write in the throughput tables (`--bench report` runs on the
//! system allocator as it is).

use std::time::Duration;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use synod_node_bench::{runtime, start};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Worker threads, as the report's first table runs.
const THREADS: usize = 2;

fn net_bytes(region: &Region<'_, std::alloc::System>) -> i64 {
    let c = region.change();
    c.bytes_allocated as i64 + c.bytes_reallocated as i64 - c.bytes_deallocated as i64
}

fn main() {
    let rt = runtime(THREADS);
    // An idle 3-node cluster, and proposals that cannot commit.
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
