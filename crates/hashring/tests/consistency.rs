//! Consistency properties: adding a node moves keys only to it, removing a
//! node moves only its keys; replica lists are distinct, stable and headed
//! by the owner; walks visit every node once; placement does not depend on
//! insertion order.

use crate::common;

use common::*;
use proptest::prelude::*;
use synod_hashring::*;

const KEYS: usize = 2_000;

fn ids() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::btree_set(0u32..10_000, 2..40).prop_map(|s| s.into_iter().collect())
}

fn weight() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![0.25, 1.0, 1.0, 2.0, 5.0])
}

type Build = Box<dyn Fn(&[(u32, f64)]) -> Box<dyn Locator<u32>>>;

/// Builders for the algorithms with minimal disruption for any node
/// (multi-probe ignores the weights).
fn minimal_disruption() -> Vec<(&'static str, Build)> {
    vec![
        (
            "ring",
            Box::new(|n: &[(u32, f64)]| {
                Box::new(
                    Ring::with_nodes(
                        RingConfig {
                            points_per_weight: 40,
                        },
                        n.to_vec(),
                    )
                    .unwrap(),
                ) as Box<dyn Locator<u32>>
            }),
        ),
        (
            "rendezvous",
            Box::new(|n: &[(u32, f64)]| {
                Box::new(Rendezvous::with_nodes(n.to_vec()).unwrap()) as Box<dyn Locator<u32>>
            }),
        ),
        (
            "multiprobe",
            Box::new(|n: &[(u32, f64)]| {
                Box::new(
                    MultiProbe::with_nodes(MultiProbeConfig::default(), n.iter().map(|p| p.0))
                        .unwrap(),
                ) as Box<dyn Locator<u32>>
            }),
        ),
    ]
}

/// Asserts that going from `before` to `after` moved keys only to `added`
/// (if some) and only away from `removed` (if some).
fn assert_moves(
    name: &str,
    before: &dyn Locator<u32>,
    after: &dyn Locator<u32>,
    added: Option<u32>,
    removed: Option<u32>,
) -> Result<(), TestCaseError> {
    for key in KeySample::new(3).take(KEYS) {
        let (b, a) = (
            before.locate_hash(key).copied(),
            after.locate_hash(key).copied(),
        );
        if a != b {
            let ok = a == added || b == removed;
            prop_assert!(
                ok,
                "{}: key {} moved {:?} -> {:?} (added {:?}, removed {:?})",
                name,
                key,
                b,
                a,
                added,
                removed
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn adding_a_node_moves_keys_only_to_it(ids in ids(), w in weight(), new in 10_000u32..20_000) {
        for (name, build) in minimal_disruption() {
            let uniform = name == "multiprobe";
            let nodes: Vec<(u32, f64)> = ids.iter().map(|&i| (i, 1.0)).collect();
            let mut grown = nodes.clone();
            grown.push((new, if uniform { 1.0 } else { w }));
            assert_moves(name, &*build(&nodes), &*build(&grown), Some(new), None)?;
        }
    }

    #[test]
    fn removing_a_node_moves_only_its_keys(ids in ids(), pick in any::<prop::sample::Index>()) {
        let gone = ids[pick.index(ids.len())];
        for (name, build) in minimal_disruption() {
            let nodes: Vec<(u32, f64)> = ids.iter().map(|&i| (i, 1.0)).collect();
            let shrunk: Vec<(u32, f64)> = nodes.iter().copied().filter(|n| n.0 != gone).collect();
            assert_moves(name, &*build(&nodes), &*build(&shrunk), None, Some(gone))?;
        }
    }

    /// The incremental updates give exactly the structure a fresh build gives.
    #[test]
    fn incremental_updates_equal_a_fresh_build(ids in ids(), w in weight(), pick in any::<prop::sample::Index>()) {
        let nodes: Vec<(u32, f64)> = ids.iter().map(|&i| (i, w)).collect();
        let gone = ids[pick.index(ids.len())];
        let rest: Vec<(u32, f64)> = nodes.iter().copied().filter(|n| n.0 != gone).collect();

        let mut ring = Ring::new(RingConfig { points_per_weight: 30 }).unwrap();
        let mut hrw = Rendezvous::new();
        let mut maglev = Maglev::new(MaglevConfig { table_size: 4099 }).unwrap();
        let mut mp = MultiProbe::new(MultiProbeConfig::default()).unwrap();
        for &(n, w) in nodes.iter().rev() {
            ring.insert(n, w).unwrap();
            hrw.insert(n, w).unwrap();
            maglev.insert(n, w).unwrap();
            mp.push(n).unwrap();
        }
        ring.remove(&gone).unwrap();
        hrw.remove(&gone).unwrap();
        maglev.remove(&gone).unwrap();
        mp.remove(&gone).unwrap();

        let fresh_ring = Ring::with_nodes(RingConfig { points_per_weight: 30 }, rest.clone()).unwrap();
        let fresh_hrw = Rendezvous::with_nodes(rest.clone()).unwrap();
        let fresh_maglev = Maglev::with_nodes(MaglevConfig { table_size: 4099 }, rest.clone()).unwrap();
        let fresh_mp = MultiProbe::with_nodes(MultiProbeConfig::default(), rest.iter().map(|n| n.0)).unwrap();
        prop_assert_eq!(ring.point_count(), fresh_ring.point_count());
        prop_assert_eq!(maglev.entries_per_node(), fresh_maglev.entries_per_node());
        for key in KeySample::new(9).take(KEYS) {
            prop_assert_eq!(ring.locate_hash(key), fresh_ring.locate_hash(key));
            prop_assert_eq!(hrw.locate_hash(key), fresh_hrw.locate_hash(key));
            prop_assert_eq!(maglev.locate_hash(key), fresh_maglev.locate_hash(key));
            prop_assert_eq!(mp.locate_hash(key), fresh_mp.locate_hash(key));
        }
    }

    /// Replica lists: `n` distinct nodes, owner first, the same on every
    /// call, and each a prefix of the next longer one. The full walk visits
    /// every node exactly once.
    #[test]
    fn replicas_are_distinct_stable_and_prefixes(ids in ids(), weights in prop::collection::vec(weight(), 40), key in any::<u64>()) {
        let weighted: Vec<(u32, f64)> = ids.iter().zip(&weights).map(|(&i, &w)| (i, w)).collect();
        let unit: Vec<(u32, f64)> = ids.iter().map(|&i| (i, 1.0)).collect();
        let all: Vec<(&str, Box<dyn Locator<u32>>)> = vec![
            ("ring", Box::new(Ring::with_nodes(RingConfig::default(), weighted.clone()).unwrap())),
            ("rendezvous", Box::new(Rendezvous::with_nodes(weighted.clone()).unwrap())),
            ("rendezvous-uniform", Box::new(Rendezvous::with_nodes(unit.clone()).unwrap())),
            ("maglev", Box::new(Maglev::with_nodes(MaglevConfig { table_size: 1009 }, weighted.clone()).unwrap())),
            ("multiprobe", Box::new(MultiProbe::with_nodes(MultiProbeConfig::default(), ids.clone()).unwrap())),
            ("jump", Box::new(Jump::with_nodes(ids.clone()).unwrap())),
        ];
        for (name, loc) in &all {
            let full = loc.replicas(key, ids.len()).unwrap();
            let mut sorted_full: Vec<u32> = full.iter().map(|n| **n).collect();
            sorted_full.sort();
            prop_assert_eq!(&sorted_full, &ids, "{}: full walk is not a permutation", name);
            prop_assert_eq!(Some(full[0]), loc.locate_hash(key), "{}: owner not first", name);
            for n in 0..=ids.len() {
                let r = loc.replicas(key, n).unwrap();
                prop_assert_eq!(&r[..], &full[..n], "{}: n={} is not a prefix", name, n);
            }
            prop_assert_eq!(loc.replicas(key, ids.len() + 1).unwrap_err(), Error::NotEnoughNodes { wanted: ids.len() + 1, available: ids.len() });
        }
    }

    /// Placement is a function of the node set: any insertion order gives
    /// the same owners (all but jump, whose buckets are numbered).
    #[test]
    fn insertion_order_does_not_matter(ids in ids(), seed in any::<u64>()) {
        let forward: Vec<(u32, f64)> = ids.iter().map(|&i| (i, 1.0)).collect();
        let mut shuffled = forward.clone();
        // A seeded Fisher-Yates with the crate's own key stream.
        let mut rng = KeySample::new(seed);
        for i in (1..shuffled.len()).rev() {
            let j = (rng.next().unwrap() % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        for (name, build) in minimal_disruption() {
            let (a, b) = (build(&forward), build(&shuffled));
            for key in KeySample::new(5).take(500) {
                prop_assert_eq!(a.locate_hash(key), b.locate_hash(key), "{}", name);
            }
        }
        let a = Maglev::with_nodes(MaglevConfig { table_size: 1009 }, forward).unwrap();
        let b = Maglev::with_nodes(MaglevConfig { table_size: 1009 }, shuffled).unwrap();
        prop_assert_eq!(a.entries_per_node(), b.entries_per_node());
    }

    /// Jump at the tail: push moves keys only to the new bucket, pop moves
    /// only the last bucket's keys.
    #[test]
    fn jump_changes_only_at_the_tail(n in 1u32..200) {
        let mut jump = Jump::with_nodes(0..n).unwrap();
        let before = jump.clone();
        jump.push(n).unwrap();
        assert_moves("jump push", &before, &jump, Some(n), None)?;
        let grown = jump.clone();
        jump.pop();
        assert_moves("jump pop", &grown, &jump, None, Some(n))?;
    }

    /// Maglev's extra disruption on removal stays within its documented
    /// bound: keys of surviving nodes that move are at most twice the
    /// removed node's own share (checked exactly on the table). Typical is
    /// well under one share; property testing once found 1.1 shares
    /// (28 nodes), so the bound is not tighter.
    #[test]
    fn maglev_removal_extra_is_small(ids in prop::collection::btree_set(0u32..10_000, 10..60), pick in any::<prop::sample::Index>()) {
        let ids: Vec<u32> = ids.into_iter().collect();
        let gone = ids[pick.index(ids.len())];
        let nodes: Vec<(u32, f64)> = ids.iter().map(|&i| (i, 1.0)).collect();
        let before = Maglev::with_nodes(MaglevConfig::default(), nodes.clone()).unwrap();
        let mut after = before.clone();
        after.remove(&gone).unwrap();
        let d = maglev_table_disruption(&before, &after, &gone);
        prop_assert!(d.extra <= 2.0 * d.removed_share, "extra {} > twice the removed share {}", d.extra, d.removed_share);
    }
}

struct TableDisruption {
    removed_share: f64,
    extra: f64,
}

/// Exact disruption over every table entry: the removed node's share, and
/// the share of entries that moved between surviving nodes.
fn maglev_table_disruption<N: NodeId + Ord>(
    before: &Maglev<N>,
    after: &Maglev<N>,
    gone: &N,
) -> TableDisruption {
    let m = u64::from(before.config().table_size);
    let (mut removed, mut extra) = (0u64, 0u64);
    for entry in 0..m {
        // The smallest key hash that lands on this entry.
        let key = (u128::from(entry) << 64).div_ceil(u128::from(m)) as u64;
        let (b, a) = (
            before.locate_hash(key).unwrap(),
            after.locate_hash(key).unwrap(),
        );
        if b == gone {
            removed += 1;
        } else if a != b {
            extra += 1;
        }
    }
    TableDisruption {
        removed_share: removed as f64 / m as f64,
        extra: extra as f64 / m as f64,
    }
}

#[test]
fn maglev_extra_disruption_figure_at_100_nodes() {
    let before = Maglev::with_nodes(MaglevConfig::default(), unit(&names(100))).unwrap();
    let mut worst: f64 = 0.0;
    for i in [0usize, 17, 50, 99] {
        let gone = format!("node-{i}");
        let mut after = before.clone();
        after.remove(&gone).unwrap();
        worst = worst.max(maglev_table_disruption(&before, &after, &gone).extra);
    }
    // Documented in the maglev module: under 1 % of the table at 100 nodes.
    assert!(worst < 0.01, "extra disruption {worst}");
    eprintln!(
        "maglev extra disruption removing 1 of 100: {:.3} %",
        worst * 100.0
    );
}

/// A node type whose identity hashes all collide: every ring point, probe
/// target and table permutation coincides between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Colliding(u32);

impl NodeId for Colliding {
    fn id_hash(&self) -> u64 {
        0xC011_1DE5
    }
}

/// Collisions are tolerated: every point is kept, ties go to the lower
/// node, the order of inserts does not matter, and removing the winner
/// hands its keys to the next node.
#[test]
fn colliding_node_hashes_are_tolerated() {
    let mut ring = Ring::new(RingConfig {
        points_per_weight: 10,
    })
    .unwrap();
    let mut mp = MultiProbe::new(MultiProbeConfig::default()).unwrap();
    let mut maglev = Maglev::new(MaglevConfig { table_size: 101 }).unwrap();
    let mut hrw = Rendezvous::new();
    for id in [3, 1, 2] {
        ring.insert(Colliding(id), 1.0).unwrap();
        mp.push(Colliding(id)).unwrap();
        maglev.insert(Colliding(id), 1.0).unwrap();
        hrw.insert(Colliding(id), 1.0).unwrap();
    }
    assert_eq!(ring.point_count(), 30);
    for key in KeySample::new(1).take(200) {
        assert_eq!(ring.locate_hash(key), Some(&Colliding(1)));
        assert_eq!(mp.locate_hash(key), Some(&Colliding(1)));
        assert_eq!(hrw.locate_hash(key), Some(&Colliding(1)));
        assert_eq!(
            ring.replicas(key, 3).unwrap(),
            [&Colliding(1), &Colliding(2), &Colliding(3)]
        );
    }
    // Maglev: identical permutations; node 1 claims first in each round.
    assert_eq!(maglev.entries_per_node().iter().sum::<u32>(), 101);
    ring.remove(&Colliding(1)).unwrap();
    mp.remove(&Colliding(1)).unwrap();
    assert_eq!(ring.locate_hash(7), Some(&Colliding(2)));
    assert_eq!(mp.locate_hash(7), Some(&Colliding(2)));
    assert_eq!(ring.point_count(), 20);
}
