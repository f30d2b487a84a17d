//! Build time of the ring and the Maglev table at 10, 100 and 1,000 nodes,
//! beside the crates.io peers.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use synod_hashring::*;

mod peers;
use synod_hashring_bench::{SIZES, names, prime_at_least, unit};

fn build(c: &mut Criterion) {
    for &n in &SIZES {
        let mut g = c.benchmark_group(format!("build/{n}"));
        g.sample_size(10);
        let names = names(n);
        let unit = unit(&names);
        g.bench_function(BenchmarkId::new("synod ring 160", n), |b| {
            b.iter(|| Ring::with_nodes(RingConfig::default(), black_box(unit.clone())).unwrap())
        });
        g.bench_function(BenchmarkId::new("hashring 0.3 (160 vnodes)", n), |b| {
            b.iter(|| peers::hashring_160(&names))
        });
        g.bench_function(BenchmarkId::new("synod maglev 65537", n), |b| {
            b.iter(|| Maglev::with_nodes(MaglevConfig::default(), black_box(unit.clone())).unwrap())
        });
        let same_size = MaglevConfig {
            table_size: prime_at_least(100 * n as u32),
        };
        g.bench_function(BenchmarkId::new("synod maglev 100n", n), |b| {
            b.iter(|| Maglev::with_nodes(same_size, black_box(unit.clone())).unwrap())
        });
        g.bench_function(BenchmarkId::new("maglev 0.2 (100n)", n), |b| {
            b.iter(|| ::maglev::Maglev::new(black_box(names.clone())))
        });
        g.bench_function(BenchmarkId::new("synod ring insert 1 more", n), |b| {
            let ring = Ring::with_nodes(RingConfig::default(), unit.clone()).unwrap();
            b.iter_batched(
                || ring.clone(),
                |mut r| {
                    r.insert("extra".to_string(), 1.0).unwrap();
                    r
                },
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, build);
criterion_main!(benches);
