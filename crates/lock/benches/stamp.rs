//! One clock stamp (the leader's, every few milliseconds) against a
//! machine with many open sessions and queued waiters: with the due-time
//! index it costs what it ends, not the size of the state.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use synod_lock::{Command, Request};
use synod_lock_bench::machine;

fn stamps(c: &mut Criterion) {
    let mut group = c.benchmark_group("stamp");
    for sessions in [1_000u64, 10_000, 100_000] {
        let (mut m, mut index) = machine(sessions, sessions / 10);
        let mut now = 1_000;
        group.bench_with_input(BenchmarkId::from_parameter(sessions), &sessions, |b, _| {
            b.iter(|| {
                now += 1;
                index += 1;
                let stamp = Request {
                    client: 0,
                    seq: 0,
                    command: Command::Clock {
                        term: 1,
                        now_ms: now,
                    },
                };
                m.apply(index, stamp)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, stamps);
criterion_main!(benches);
