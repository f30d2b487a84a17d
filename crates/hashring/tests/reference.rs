//! Every algorithm agrees with a naive reference implementation (a linear
//! scan over the documented definition) on random inputs.

use crate::common;

use common::*;
use proptest::prelude::*;
use synod_hashring::*;

/// Up to 12 distinct node ids with weights in a small set (so both equal
/// and unequal weights occur).
fn weighted_nodes() -> impl Strategy<Value = Vec<(u32, f64)>> {
    prop::collection::btree_map(
        0u32..40,
        prop::sample::select(vec![0.5, 1.0, 1.0, 2.0, 3.7]),
        1..12,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ring_agrees_with_linear_scan(nodes in weighted_nodes(), ppw in 1u32..20, keys in prop::collection::vec(any::<u64>(), 50)) {
        let ring = Ring::with_nodes(RingConfig { points_per_weight: ppw }, nodes.clone()).unwrap();
        for key in keys {
            prop_assert_eq!(ring.locate_index(key), ring_owner(&nodes, ppw, key));
        }
    }

    #[test]
    fn rendezvous_agrees_with_linear_scan(nodes in weighted_nodes(), keys in prop::collection::vec(any::<u64>(), 50)) {
        let hrw = Rendezvous::with_nodes(nodes.clone()).unwrap();
        for key in keys {
            prop_assert_eq!(hrw.locate_index(key), hrw_owner(&nodes, key));
        }
    }

    #[test]
    fn multiprobe_agrees_with_linear_scan(ids in prop::collection::btree_set(any::<u64>(), 1..12), probes in 1u32..30, keys in prop::collection::vec(any::<u64>(), 50)) {
        let ids: Vec<u64> = ids.into_iter().collect();
        let mp = MultiProbe::with_nodes(MultiProbeConfig { probes }, ids.clone()).unwrap();
        for key in keys {
            prop_assert_eq!(mp.locate_index(key), multiprobe_owner(&ids, probes, key));
        }
    }

    #[test]
    fn maglev_agrees_with_the_papers_construction(nodes in weighted_nodes(), m in prop::sample::select(vec![13u32, 101, 1009]), keys in prop::collection::vec(any::<u64>(), 50)) {
        let maglev = Maglev::with_nodes(MaglevConfig { table_size: m }, nodes.clone()).unwrap();
        let table = maglev_table(&nodes, m);
        for key in keys {
            prop_assert_eq!(maglev.locate_index(key), Some(table[maglev_entry(key, m)]));
        }
    }

    /// Jump's defining property (Lamping & Veach §2): growing from n to n+1
    /// buckets either keeps a key or moves it to the new bucket.
    #[test]
    fn jump_moves_only_to_the_new_bucket(key in any::<u64>(), n in 1u32..2000) {
        let before = jump_hash(key, n).unwrap();
        let after = jump_hash(key, n + 1).unwrap();
        prop_assert!(before < n);
        prop_assert!(after == before || after == n, "key {} moved {} -> {}", key, before, after);
    }

    #[test]
    fn bounded_loads_agrees_with_a_linear_walk(nodes in weighted_nodes(), c in 1.0f64..2.0, keys in prop::collection::vec(any::<u64>(), 1..200)) {
        let ring = Ring::with_nodes(RingConfig { points_per_weight: 8 }, nodes.clone()).unwrap();
        let mut bounded = BoundedLoads::new(ring.clone(), BoundedConfig { load_factor: c }).unwrap();
        let mut loads = vec![0u64; nodes.len()];
        let total_weight: f64 = ring.weights().iter().sum();
        for (m, key) in keys.into_iter().enumerate() {
            // The paper's rule, weighted: cap = ceil(c * (m + 1) * w / W)
            // (ceil(c * (m + 1) / n) for equal weights); the first node in
            // preference order below its cap takes the item.
            let cap = |i: usize| (c * (m as f64 + 1.0) * ring.weights()[i] / total_weight).ceil() as u64;
            let expect = ring.replicas(key, nodes.len()).unwrap().into_iter()
                .map(|n| ring.nodes().iter().position(|x| x == n).unwrap())
                .find(|&i| loads[i] < cap(i)).unwrap();
            loads[expect] += 1;
            let got = bounded.assign(key).unwrap();
            prop_assert_eq!(got, &ring.nodes()[expect]);
        }
        prop_assert_eq!(bounded.loads(), &loads[..]);
    }
}

/// Jump's slow definition (Lamping & Veach §2, the O(n) loop): the key's
/// bucket for n+1 differs from n's with probability 1/(n+1). Checked
/// statistically over many keys for the fast algorithm.
#[test]
fn jump_moves_one_over_n_plus_one_of_keys() {
    for n in [1u32, 9, 99] {
        let keys = 200_000u32;
        let moved = KeySample::new(u64::from(n))
            .take(keys as usize)
            .filter(|&k| jump_hash(k, n) != jump_hash(k, n + 1))
            .count();
        let expected = f64::from(keys) / f64::from(n + 1);
        let sd = (expected * (1.0 - 1.0 / f64::from(n + 1))).sqrt();
        assert!(
            (moved as f64 - expected).abs() < 5.0 * sd,
            "n={n}: moved {moved}, expected {expected:.0} ± {sd:.0}"
        );
    }
}
