//! One point of the driver benchmark for profilers (`perf record`,
//! `valgrind --tool=callgrind`): N clients writing to a 3-node in-process
//! cluster, on a single-threaded runtime so that an instruction count
//! measures the work per write and not how two threads happened to meet.
//!
//! ```sh
//! cargo bench -p synod-node-bench --bench profile --no-run
//! CLIENTS=64 WRITES=64000 valgrind --tool=callgrind target/release/deps/profile-*
//! ```
//!
//! `CLIENTS` (default 64) each write `WRITES / CLIENTS` commands (`WRITES`
//! default 64,000) after a warm-up of 64 writes per client. `THREADS=2`
//! runs a multi-thread runtime with that many workers instead (for
//! `perf record`; its instruction counts depend on how the threads met).

use synod_node_bench::{run_clients, runtime, start};

fn var(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = var("CLIENTS", 64).max(1);
    let writes = var("WRITES", 64_000);
    let threads = var("THREADS", 1);
    let rt = if threads > 1 {
        runtime(threads as usize)
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    };
    let cluster = rt.block_on(start(3));
    rt.block_on(run_clients(&cluster.leader, clients, 64));
    let per_client = (writes / clients).max(1);
    let took = rt.block_on(run_clients(&cluster.leader, clients, per_client));
    let total = clients * per_client;
    println!(
        "{clients} clients, {total} writes in {:.3} s: {:.0} writes/s ({threads} thread(s))",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
}
