//! Places 1,000,000 keys on 10 weighted nodes with every algorithm in
//! synod-hashring, removes one node, and shows the trade-offs: lookup cost,
//! balance (peak-to-mean against each node's weighted fair share), keys
//! moved, and a histogram of per-node load.
//!
//! Run: `cargo run --release --example hashring_demo`

use std::time::Instant;

use synod_hashring::{
    BoundedConfig, BoundedLoads, Jump, KeySample, Locator, Maglev, MaglevConfig, MultiProbe,
    MultiProbeConfig, Rendezvous, Ring, RingConfig, balance, disruption,
};

const KEYS: usize = 1_000_000;
const WEIGHTS: [f64; 10] = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 4.0];
/// The node removed in the second half: the last, so jump can remove it.
const REMOVED: usize = 9;

struct Row {
    name: &'static str,
    weighted: bool,
    lookup_ns: f64,
    peak_to_mean: f64,
    moved_pct: f64,
    per_node: Vec<u64>,
    weights: Vec<f64>,
}

fn main() {
    let names: Vec<String> = (0..WEIGHTS.len()).map(|i| format!("node-{i}")).collect();
    let weighted: Vec<(String, f64)> = names.iter().cloned().zip(WEIGHTS).collect();
    let keys: Vec<u64> = KeySample::new(2026).take(KEYS).collect();
    let without = |pairs: &[(String, f64)]| -> Vec<(String, f64)> {
        pairs
            .iter()
            .filter(|(n, _)| *n != names[REMOVED])
            .cloned()
            .collect()
    };
    let rest_names: Vec<String> = names[..REMOVED].to_vec();

    let mut rows = Vec::new();
    let ring = Ring::with_nodes(RingConfig::default(), weighted.clone()).expect("valid nodes");
    let ring_after =
        Ring::with_nodes(RingConfig::default(), without(&weighted)).expect("valid nodes");
    rows.push(measure(
        "ring (160 pts/weight)",
        true,
        &ring,
        &ring_after,
        &keys,
    ));
    let jump = Jump::with_nodes(names.clone()).expect("distinct nodes");
    let jump_after = Jump::with_nodes(rest_names.clone()).expect("distinct nodes");
    rows.push(measure("jump", false, &jump, &jump_after, &keys));
    let hrw = Rendezvous::with_nodes(weighted.clone()).expect("valid nodes");
    let hrw_after = Rendezvous::with_nodes(without(&weighted)).expect("valid nodes");
    rows.push(measure("rendezvous (HRW)", true, &hrw, &hrw_after, &keys));
    let maglev =
        Maglev::with_nodes(MaglevConfig::default(), weighted.clone()).expect("valid nodes");
    let maglev_after =
        Maglev::with_nodes(MaglevConfig::default(), without(&weighted)).expect("valid nodes");
    rows.push(measure(
        "maglev (65,537)",
        true,
        &maglev,
        &maglev_after,
        &keys,
    ));
    let mp =
        MultiProbe::with_nodes(MultiProbeConfig::default(), names.clone()).expect("distinct nodes");
    let mp_after =
        MultiProbe::with_nodes(MultiProbeConfig::default(), rest_names).expect("distinct nodes");
    rows.push(measure("multi-probe (k=21)", false, &mp, &mp_after, &keys));
    rows.push(measure_bounded(&ring, &ring_after, &keys));

    println!(
        "{KEYS} keys on {} nodes with weights {WEIGHTS:?}; then node-{REMOVED} (weight {}) is removed.\n",
        names.len(),
        WEIGHTS[REMOVED]
    );
    println!("| algorithm              | weights | lookup ns | peak-to-mean | keys moved |");
    println!("|------------------------|---------|----------:|-------------:|-----------:|");
    for r in &rows {
        let w = if r.weighted { "yes" } else { "no (1.0)" };
        println!(
            "| {:<22} | {:<7} | {:>9.1} | {:>12.3} | {:>9.2}% |",
            r.name, w, r.lookup_ns, r.peak_to_mean, r.moved_pct
        );
    }
    println!("\npeak-to-mean: the busiest node's load over its fair share (1.000 is perfect).");
    println!(
        "keys moved: the removed node owned ~{:.1}% of the weight; moving exactly its keys is minimal.",
        100.0 * WEIGHTS[REMOVED] / WEIGHTS.iter().sum::<f64>()
    );
    for r in &rows {
        histogram(r, &names);
    }
}

/// Lookup time, balance and disruption of one algorithm.
fn measure(
    name: &'static str,
    weighted: bool,
    before: &dyn Locator<String>,
    after: &dyn Locator<String>,
    keys: &[u64],
) -> Row {
    let start = Instant::now();
    let mut hits = 0usize;
    for k in keys {
        hits += usize::from(before.locate(&k.to_le_bytes()).is_some());
    }
    let lookup_ns = start.elapsed().as_nanos() as f64 / keys.len() as f64;
    assert_eq!(hits, keys.len());
    let b = balance(before, keys.iter().copied());
    let d = disruption(before, after, keys.iter().copied());
    Row {
        name,
        weighted,
        lookup_ns,
        peak_to_mean: b.peak_to_mean,
        moved_pct: 100.0 * d.fraction(),
        per_node: b.per_node,
        weights: before.weights().to_vec(),
    }
}

/// Bounded loads over the ring: assign every key in order, before and after
/// the removal, and compare the assignments.
fn measure_bounded(before: &Ring<String>, after: &Ring<String>, keys: &[u64]) -> Row {
    let assign_all = |ring: &Ring<String>| -> (Vec<String>, Vec<u64>, f64) {
        let mut bounded = BoundedLoads::new(ring, BoundedConfig::default()).expect("valid c");
        let start = Instant::now();
        let owners: Vec<String> = keys
            .iter()
            .map(|&k| bounded.assign(k).expect("nodes").clone())
            .collect();
        let ns = start.elapsed().as_nanos() as f64 / keys.len() as f64;
        (owners, bounded.loads().to_vec(), ns)
    };
    let (owners_before, loads, lookup_ns) = assign_all(before);
    let (owners_after, _, _) = assign_all(after);
    let moved = owners_before
        .iter()
        .zip(&owners_after)
        .filter(|(a, b)| a != b)
        .count();
    // Peak-to-mean against each node's weighted fair share, as `balance` does.
    let weight_sum: f64 = before.weights().iter().sum();
    let peak = loads
        .iter()
        .zip(before.weights())
        .map(|(&l, &w)| l as f64 / (keys.len() as f64 * w / weight_sum))
        .fold(0.0, f64::max);
    Row {
        name: "bounded(ring, c=1.25)",
        weighted: true,
        lookup_ns,
        peak_to_mean: peak,
        moved_pct: 100.0 * moved as f64 / keys.len() as f64,
        per_node: loads,
        weights: before.weights().to_vec(),
    }
}

/// One bar per node: its share of the keys, and its fair share.
fn histogram(r: &Row, names: &[String]) {
    println!(
        "\n{} (each # is 1% of keys; | marks the fair share)",
        r.name
    );
    let total: u64 = r.per_node.iter().sum();
    let weight_sum: f64 = r.weights.iter().sum();
    for ((name, &count), &w) in names.iter().zip(&r.per_node).zip(&r.weights) {
        let pct = 100.0 * count as f64 / total as f64;
        let fair = 100.0 * w / weight_sum;
        let mut bar: Vec<char> = "#".repeat(pct.round() as usize).chars().collect();
        let mark = fair.round() as usize;
        if bar.len() < mark + 1 {
            bar.resize(mark + 1, ' ');
        }
        bar[mark] = '|';
        println!(
            "  {name:<7} {pct:>5.1}% (fair {fair:>4.1}%) {}",
            bar.into_iter().collect::<String>()
        );
    }
}
