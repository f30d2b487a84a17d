//! Lookups by pre-hashed `u64` and by `&[u8]` allocate nothing: checked with
//! a counting global allocator, in a single-threaded binary (harness =
//! false) so no other thread's allocations are counted.

use peak_alloc::PeakAlloc;
use synod_hashring::*;
use synod_hashring_bench::{keys, names, unit};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Runs `lookups` and fails if the heap grew above its level before, even
/// momentarily.
fn assert_no_alloc(name: &str, lookups: impl FnOnce() -> usize) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let found = lookups();
    let peak = ALLOC.peak_usage();
    assert!(found > 0, "{name}: nothing found");
    assert_eq!(
        peak,
        base,
        "{name}: lookups allocated {} bytes",
        peak - base
    );
    println!("{name}: {found} lookups, 0 bytes allocated");
}

fn main() {
    let keys = keys();
    let names = names(1_000);
    let unit = unit(&names);
    let ring = Ring::with_nodes(RingConfig::default(), unit.clone()).unwrap();
    let jump = Jump::with_nodes(names.clone()).unwrap();
    let hrw = Rendezvous::with_nodes(unit.clone()).unwrap();
    let weighted = Rendezvous::with_nodes(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), 1.0 + i as f64)),
    )
    .unwrap();
    let maglev = Maglev::with_nodes(MaglevConfig::default(), unit).unwrap();
    let mp = MultiProbe::with_nodes(MultiProbeConfig::default(), names.clone()).unwrap();
    let all: [(&str, &dyn Locator<String>); 6] = [
        ("ring", &ring),
        ("jump", &jump),
        ("rendezvous", &hrw),
        ("weighted rendezvous", &weighted),
        ("maglev", &maglev),
        ("multiprobe", &mp),
    ];
    for (name, l) in all {
        assert_no_alloc(name, || {
            let by_hash = keys.iter().filter(|&&k| l.locate_hash(k).is_some()).count();
            let by_bytes = keys
                .iter()
                .filter(|k| l.locate(&k.to_le_bytes()).is_some())
                .count();
            by_hash + by_bytes
        });
    }
    let bounded = BoundedLoads::new(&ring, BoundedConfig::default()).unwrap();
    assert_no_alloc("bounded pick", || {
        keys.iter()
            .filter(|&&k| bounded.pick_index(k).is_some())
            .count()
    });
    let mut out = Vec::with_capacity(8);
    assert_no_alloc("ring replicas_into n=3", || {
        keys.iter()
            .map(|&k| {
                ring.replicas_into(k, 3, &mut out).unwrap();
                out.len()
            })
            .sum()
    });
    println!("1 passed, 0 failed");
}
