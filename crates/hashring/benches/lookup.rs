//! Lookup ns/op at 10, 100 and 1,000 nodes for every algorithm, beside the
//! crates.io peers on the same random `u64` keys.
//!
//! `hash+lookup` rows hash the key's 8 bytes with the frozen hash first, as
//! the peers hash theirs (SipHash); `prehashed` rows start from a hash.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use synod_hashring::*;

mod peers;
use synod_hashring_bench::{SIZES, keys, names, prime_at_least, unit};

/// Times one lookup per iteration, cycling through the key set.
macro_rules! bench_keys {
    ($group:expr, $name:expr, $n:expr, $keys:expr, |$k:ident| $lookup:expr) => {{
        let keys = &$keys;
        let mut i = 0usize;
        $group.bench_function(BenchmarkId::new($name, $n), |b| {
            b.iter(|| {
                i = (i + 1) & (keys.len() - 1);
                let $k = black_box(keys[i]);
                black_box($lookup)
            })
        });
    }};
}

fn lookup(c: &mut Criterion) {
    let keys = keys();
    for &n in &SIZES {
        let mut g = c.benchmark_group(format!("lookup/{n}"));
        let names = names(n);
        let unit = unit(&names);

        let ring = Ring::with_nodes(RingConfig::default(), unit.clone()).unwrap();
        bench_keys!(g, "synod ring hash+lookup", n, keys, |k| ring
            .locate(&k.to_le_bytes()));
        bench_keys!(g, "synod ring prehashed", n, keys, |k| ring.locate_hash(k));
        let peer_ring = peers::hashring_160(&names);
        bench_keys!(g, "hashring 0.3 (160 vnodes)", n, keys, |k| peer_ring
            .get(&k));

        let jump = Jump::with_nodes(names.clone()).unwrap();
        bench_keys!(g, "synod jump prehashed", n, keys, |k| jump.locate_hash(k));
        bench_keys!(g, "synod jump_hash fn", n, keys, |k| jump_hash(k, n as u32));
        bench_keys!(g, "jump-consistent-hash 0.1", n, keys, |k| {
            jump_consistent_hash::hash(k, n)
        });

        let hrw = Rendezvous::with_nodes(unit.clone()).unwrap();
        bench_keys!(g, "synod rendezvous hash+lookup", n, keys, |k| hrw
            .locate(&k.to_le_bytes()));
        let weighted: Vec<(String, f64)> = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), 1.0 + (i % 4) as f64))
            .collect();
        let hrw_w = Rendezvous::with_nodes(weighted).unwrap();
        bench_keys!(g, "synod rendezvous weighted", n, keys, |k| hrw_w
            .locate(&k.to_le_bytes()));
        let peer_hrw = hrw::Rendezvous::from_nodes(names.clone());
        bench_keys!(g, "hrw 0.1", n, keys, |k| peer_hrw.pick_top(&k));

        let maglev = Maglev::with_nodes(MaglevConfig::default(), unit.clone()).unwrap();
        bench_keys!(g, "synod maglev 65537 hash+lookup", n, keys, |k| maglev
            .locate(&k.to_le_bytes()));
        let same_size = MaglevConfig {
            table_size: prime_at_least(100 * n as u32),
        };
        let maglev_same = Maglev::with_nodes(same_size, unit.clone()).unwrap();
        bench_keys!(g, "synod maglev 100n hash+lookup", n, keys, |k| maglev_same
            .locate(&k.to_le_bytes()));
        bench_keys!(g, "synod maglev 100n prehashed", n, keys, |k| maglev_same
            .locate_hash(k));
        let peer_maglev = ::maglev::Maglev::new(names.clone());
        bench_keys!(g, "maglev 0.2 (100n)", n, keys, |k| {
            ::maglev::ConsistentHasher::get(&peer_maglev, &k)
        });

        let mp = MultiProbe::with_nodes(MultiProbeConfig::default(), names.clone()).unwrap();
        bench_keys!(g, "synod multiprobe k=21 hash+lookup", n, keys, |k| mp
            .locate(&k.to_le_bytes()));

        let bounded = BoundedLoads::new(&ring, BoundedConfig::default()).unwrap();
        bench_keys!(g, "synod bounded(ring) pick", n, keys, |k| bounded
            .pick_index(hash_u64(k)));
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(800))
}

criterion_group! { name = benches; config = config(); targets = lookup }
criterion_main!(benches);
