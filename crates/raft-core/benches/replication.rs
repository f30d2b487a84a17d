//! Criterion: committed-and-applied commands per second of synod-raft-core,
//! raft-rs and OmniPaxos on each point of the workload (`workload.rs`), in
//! one run. `cargo bench -p synod-raft-core-bench --bench replication`.

#[path = "peers.rs"]
mod peers;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use peers::{OmniPaxosCluster, RaftRsCluster};
use synod_raft_core_bench::{Cluster, Harness, SynodCluster, Workload};

/// Times `iters` cycles on a cluster started (and warmed) outside the
/// timing.
fn time_cycles<C: Cluster>(workload: Workload, iters: u64) -> Duration {
    let mut cluster = Harness::<C>::start(workload.nodes);
    cluster.run(workload, 64);
    let start = Instant::now();
    cluster.run(workload, iters);
    start.elapsed()
}

fn replication(c: &mut Criterion) {
    let mut points = Workload::standard(3);
    points.extend(
        Workload::standard(5)
            .into_iter()
            .filter(|w| w.proposals_per_cycle == 64),
    );
    for workload in points {
        let mut group = c.benchmark_group(workload.name());
        group.throughput(Throughput::Elements(workload.commands_per_cycle() as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.bench_function("synod-raft-core", |b| {
            b.iter_custom(|iters| time_cycles::<SynodCluster>(workload, iters))
        });
        group.bench_function("raft-rs", |b| {
            b.iter_custom(|iters| time_cycles::<RaftRsCluster>(workload, iters))
        });
        group.bench_function("omnipaxos", |b| {
            b.iter_custom(|iters| time_cycles::<OmniPaxosCluster>(workload, iters))
        });
        group.finish();
    }
}

criterion_group!(benches, replication);
criterion_main!(benches);
