//! synod-node and openraft under criterion: the time for N concurrent
//! clients to write a fixed number of commands on a 3-node in-process
//! cluster. `cargo bench -p synod-node-bench --bench clients`.

#[path = "peers.rs"]
mod peers;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synod_node_bench::{run_clients, runtime, start};

fn clients(c: &mut Criterion) {
    let rt = runtime(2);
    let synod = rt.block_on(start(3));
    let openraft = rt.block_on(peers::start_openraft(3));
    let mut group = c.benchmark_group("driver");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for n in [1u64, 64, 256] {
        let per_client = if n == 1 { 2_000 } else { 20_000 / n };
        group.throughput(Throughput::Elements(n * per_client));
        group.bench_function(format!("{n} clients/synod-node"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| rt.block_on(run_clients(&synod.leader, n, per_client)))
                    .sum()
            });
        });
        group.bench_function(format!("{n} clients/openraft 0.9"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        rt.block_on(peers::run_openraft_clients(&openraft.leader, n, per_client))
                    })
                    .sum()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, clients);
criterion_main!(benches);
