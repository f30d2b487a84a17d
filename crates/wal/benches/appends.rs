//! Criterion: appends per second for synod-wal (fresh, and recycling
//! segments in a node's steady state), the raw write+fdatasync
//! loop and raft-engine, at every point (entry size x appends per sync).
//!
//! `cargo bench -p synod-wal-bench --bench appends`

#[path = "peers.rs"]
mod peers;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use peers::{RaftEngineLog, SteadyRaftEngineLog};
use synod_wal_bench::{Log, Point, RawLog, Runner, SteadySynodLog, SynodLog};

fn bench_log<L: Log>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    point: Point,
) {
    let mut runner = Runner::<L>::new(point);
    group.bench_function(L::NAME, |b| b.iter_custom(|rounds| runner.run(rounds)));
}

fn appends(c: &mut Criterion) {
    for point in Point::all() {
        let mut group = c.benchmark_group(format!("wal/{}", point.name()));
        group.throughput(Throughput::Elements(point.per_sync as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        bench_log::<SynodLog>(&mut group, point);
        bench_log::<SteadySynodLog>(&mut group, point);
        bench_log::<RawLog>(&mut group, point);
        bench_log::<RaftEngineLog>(&mut group, point);
        bench_log::<SteadyRaftEngineLog>(&mut group, point);
        group.finish();
    }
}

criterion_group!(benches, appends);
criterion_main!(benches);
