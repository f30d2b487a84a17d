//! Placement quality beside lookup speed: balance (peak-to-mean over
//! 1,000,000 keys) and disruption (keys moved when the last node is
//! removed) for every algorithm at 10, 100 and 1,000 nodes, computed with
//! the crate's own `balance` and `disruption` helpers. Prints a table; run
//! with `cargo bench -p synod-hashring-bench --bench placement`.

use synod_hashring::*;
use synod_hashring_bench::{SIZES, names, unit};

type Build = fn(&[String]) -> Box<dyn Locator<String>>;

const ALGORITHMS: [(&str, Build); 5] = [
    ("ring 160", |n| {
        Box::new(Ring::with_nodes(RingConfig::default(), unit(n)).expect("valid"))
    }),
    ("jump", |n| {
        Box::new(Jump::with_nodes(n.to_vec()).expect("valid"))
    }),
    ("rendezvous", |n| {
        Box::new(Rendezvous::with_nodes(unit(n)).expect("valid"))
    }),
    ("maglev 65537", |n| {
        Box::new(Maglev::with_nodes(MaglevConfig::default(), unit(n)).expect("valid"))
    }),
    ("multi-probe k=21", |n| {
        Box::new(MultiProbe::with_nodes(MultiProbeConfig::default(), n.to_vec()).expect("valid"))
    }),
];

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only check that it runs on the smallest size with few keys.
    let full = std::env::args().any(|a| a == "--bench");
    let (sizes, keys): (&[usize], usize) = if full {
        (&SIZES, 1_000_000)
    } else {
        (&SIZES[..1], 10_000)
    };
    println!(
        "{keys} keys; disruption = keys moved when the last node is removed (its fair share is 1/n)."
    );
    println!("| algorithm | nodes | peak-to-mean | min ratio | keys moved | fair share |");
    println!("|---|---:|---:|---:|---:|---:|");
    for &n in sizes {
        let all = names(n);
        for (name, build) in ALGORITHMS {
            let before = build(&all);
            let after = build(&all[..n - 1]);
            let sample = || KeySample::new(0x9A1A).take(keys);
            let b = balance(&*before, sample());
            let d = disruption(&*before, &*after, sample());
            println!(
                "| {name} | {n} | {:.3} | {:.3} | {:.3} % | {:.3} % |",
                b.peak_to_mean,
                b.min_ratio,
                100.0 * d.fraction(),
                100.0 / n as f64
            );
        }
    }
}
