//! Heap memory of the ring and the Maglev table, ours beside the peers:
//! the peak while building and what stays allocated after, counted by a
//! counting global allocator (`peak_alloc`). Prints a table; run with
//! `cargo bench -p synod-hashring-bench --bench memory`.

use peak_alloc::PeakAlloc;
use synod_hashring::*;

mod peers;
use synod_hashring_bench::{SIZES, names, prime_at_least, unit};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Builds with `make`, returning (peak bytes during the build, bytes still
/// held by the result), both above what was allocated before.
fn measure<T>(make: impl FnOnce() -> T) -> (usize, usize) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let built = make();
    let peak = ALLOC.peak_usage().saturating_sub(base);
    let kept = ALLOC.current_usage().saturating_sub(base);
    drop(built);
    (peak, kept)
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only check that it runs on the smallest size.
    let sizes: &[usize] = if std::env::args().any(|a| a == "--bench") {
        &SIZES
    } else {
        &SIZES[..1]
    };
    println!("| structure | nodes | peak while building | held after |");
    println!("|---|---:|---:|---:|");
    for &n in sizes {
        let names = names(n);
        let unit = unit(&names);
        let rows: Vec<(&str, (usize, usize))> = vec![
            (
                "synod ring 160",
                measure(|| Ring::with_nodes(RingConfig::default(), unit.clone()).unwrap()),
            ),
            (
                "hashring 0.3 (160 vnodes)",
                measure(|| peers::hashring_160(&names)),
            ),
            (
                "synod maglev 65537",
                measure(|| Maglev::with_nodes(MaglevConfig::default(), unit.clone()).unwrap()),
            ),
            (
                "synod maglev 100n",
                measure(|| {
                    Maglev::with_nodes(
                        MaglevConfig {
                            table_size: prime_at_least(100 * n as u32),
                        },
                        unit.clone(),
                    )
                    .unwrap()
                }),
            ),
            (
                "maglev 0.2 (100n)",
                measure(|| ::maglev::Maglev::new(names.clone())),
            ),
        ];
        for (name, (peak, kept)) in rows {
            println!("| {name} | {n} | {} | {} |", mib(peak), mib(kept));
        }
    }
}
