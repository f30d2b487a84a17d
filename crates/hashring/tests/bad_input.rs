//! Bad input gets a typed error, never a panic, and leaves the structure
//! unchanged.

use synod_hashring::*;

const BAD_WEIGHTS: [f64; 6] = [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

#[test]
fn empty_sets_locate_nothing() {
    let ring: Ring<u32> = Ring::new(RingConfig::default()).unwrap();
    let maglev: Maglev<u32> = Maglev::new(MaglevConfig::default()).unwrap();
    let hrw: Rendezvous<u32> = Rendezvous::new();
    let mp: MultiProbe<u32> = MultiProbe::new(MultiProbeConfig::default()).unwrap();
    let jump: Jump<u32> = Jump::new();
    for l in [&ring as &dyn Locator<u32>, &maglev, &hrw, &mp, &jump] {
        assert_eq!(l.locate(b"k"), None);
        assert_eq!(l.locate_index(0), None);
        assert_eq!(l.replicas(0, 0).unwrap(), Vec::<&u32>::new());
        assert_eq!(
            l.replicas(0, 1).unwrap_err(),
            Error::NotEnoughNodes {
                wanted: 1,
                available: 0
            }
        );
        let mut visited = 0;
        l.walk(0, &mut |_| {
            visited += 1;
            std::ops::ControlFlow::Continue(())
        });
        assert_eq!(visited, 0);
    }
    let mut bounded = BoundedLoads::new(ring, BoundedConfig::default()).unwrap();
    assert_eq!(bounded.pick(1), None::<&u32>);
    assert_eq!(bounded.assign(1).unwrap_err(), Error::NoNodes);
    assert_eq!(bounded.release(&1).unwrap_err(), Error::UnknownNode);
    assert_eq!(bounded.capacity(0), 0);
    assert_eq!(jump_hash(7, 0), None);
}

#[test]
fn bad_weights_are_refused() {
    for w in BAD_WEIGHTS {
        let is_bad = |e: Error| matches!(e, Error::InvalidWeight { .. });
        assert!(
            is_bad(Ring::with_nodes(RingConfig::default(), [(1u32, w)]).unwrap_err()),
            "{w}"
        );
        assert!(
            is_bad(Rendezvous::with_nodes([(1u32, w)]).unwrap_err()),
            "{w}"
        );
        assert!(
            is_bad(Maglev::with_nodes(MaglevConfig::default(), [(1u32, w)]).unwrap_err()),
            "{w}"
        );
        assert!(is_bad(NodeSet::new([(1u32, w)]).unwrap_err()), "{w}");
        let mut ring = Ring::with_nodes(RingConfig::default(), [(1u32, 1.0)]).unwrap();
        assert!(is_bad(ring.insert(2, w).unwrap_err()));
        let mut maglev = Maglev::with_nodes(MaglevConfig::default(), [(1u32, 1.0)]).unwrap();
        assert!(is_bad(maglev.insert(2, w).unwrap_err()));
        let mut hrw = Rendezvous::with_nodes([(1u32, 1.0)]).unwrap();
        assert!(is_bad(hrw.insert(2, w).unwrap_err()));
        assert_eq!((ring.len(), maglev.len(), hrw.len()), (1, 1, 1));
        let mut mp = MultiProbe::new(MultiProbeConfig::default()).unwrap();
        assert!(is_bad(mp.insert(2u32, w).unwrap_err()));
        let mut jump = Jump::new();
        assert!(is_bad(jump.insert(2u32, w).unwrap_err()));
    }
    let mut mp = MultiProbe::new(MultiProbeConfig::default()).unwrap();
    assert_eq!(
        mp.insert(2u32, 2.0).unwrap_err(),
        Error::WeightsUnsupported { weight: 2.0 }
    );
    let mut jump = Jump::new();
    assert_eq!(
        jump.insert(2u32, 0.5).unwrap_err(),
        Error::WeightsUnsupported { weight: 0.5 }
    );
}

#[test]
fn duplicates_and_unknown_nodes_are_refused() {
    let dup = [(1u32, 1.0), (2, 1.0), (1, 2.0)];
    assert_eq!(
        Ring::with_nodes(RingConfig::default(), dup).unwrap_err(),
        Error::DuplicateNode
    );
    assert_eq!(
        Rendezvous::with_nodes(dup).unwrap_err(),
        Error::DuplicateNode
    );
    assert_eq!(
        Maglev::with_nodes(MaglevConfig::default(), dup).unwrap_err(),
        Error::DuplicateNode
    );
    assert_eq!(
        MultiProbe::with_nodes(MultiProbeConfig::default(), [1u32, 2, 1]).unwrap_err(),
        Error::DuplicateNode
    );
    assert_eq!(
        Jump::with_nodes([1u32, 2, 1]).unwrap_err(),
        Error::DuplicateNode
    );
    assert_eq!(NodeSet::new(dup).unwrap_err(), Error::DuplicateNode);

    let mut ring = Ring::with_nodes(RingConfig::default(), [(1u32, 1.0)]).unwrap();
    assert_eq!(ring.insert(1, 1.0).unwrap_err(), Error::DuplicateNode);
    assert_eq!(ring.remove(&9).unwrap_err(), Error::UnknownNode);
    let mut maglev = Maglev::with_nodes(MaglevConfig::default(), [(1u32, 1.0)]).unwrap();
    assert_eq!(maglev.insert(1, 1.0).unwrap_err(), Error::DuplicateNode);
    assert_eq!(maglev.remove(&9).unwrap_err(), Error::UnknownNode);
    let mut hrw = Rendezvous::with_nodes([(1u32, 1.0)]).unwrap();
    assert_eq!(hrw.insert(1, 1.0).unwrap_err(), Error::DuplicateNode);
    assert_eq!(hrw.remove(&9).unwrap_err(), Error::UnknownNode);
    let mut mp = MultiProbe::with_nodes(MultiProbeConfig::default(), [1u32]).unwrap();
    assert_eq!(mp.push(1).unwrap_err(), Error::DuplicateNode);
    assert_eq!(mp.remove(&9).unwrap_err(), Error::UnknownNode);
    let mut jump = Jump::with_nodes([1u32, 2]).unwrap();
    assert_eq!(jump.push(1).unwrap_err(), Error::DuplicateNode);
    assert_eq!(jump.remove(&9).unwrap_err(), Error::UnknownNode);
    assert_eq!(jump.remove(&1).unwrap_err(), Error::NotLastBucket);
    assert_eq!(jump.remove(&2), Ok(2));
}

#[test]
fn maglev_table_sizes_are_checked() {
    for size in [0u32, 1, 4, 65_536, 100_000] {
        assert_eq!(
            MaglevConfig { table_size: size }.validate().unwrap_err(),
            Error::TableSizeNotPrime { size }
        );
    }
    let huge = 2_147_483_647; // prime, above the limit
    assert_eq!(
        MaglevConfig { table_size: huge }.validate().unwrap_err(),
        Error::TableTooLarge {
            size: huge,
            limit: maglev::MAX_TABLE_SIZE
        }
    );
    let small = MaglevConfig { table_size: 5 };
    assert_eq!(
        Maglev::with_nodes(small, (0u32..6).map(|i| (i, 1.0))).unwrap_err(),
        Error::TableTooSmall { size: 5, nodes: 6 }
    );
    let mut full = Maglev::with_nodes(small, (0u32..5).map(|i| (i, 1.0))).unwrap();
    assert_eq!(
        full.insert(9, 1.0).unwrap_err(),
        Error::TableTooSmall { size: 5, nodes: 6 }
    );
    assert_eq!(full.len(), 5);
    // A table exactly as large as the node count gives each node one entry.
    assert_eq!(full.entries_per_node(), vec![1; 5]);
}

#[test]
fn other_configs_are_checked() {
    assert_eq!(
        Ring::<u32>::new(RingConfig {
            points_per_weight: 0
        })
        .unwrap_err(),
        Error::ZeroPoints
    );
    for probes in [0, multiprobe::MAX_PROBES + 1] {
        assert_eq!(
            MultiProbe::<u32>::new(MultiProbeConfig { probes }).unwrap_err(),
            Error::InvalidProbeCount {
                probes,
                max: multiprobe::MAX_PROBES
            }
        );
    }
    for c in [0.0, 0.99, f64::NAN, f64::INFINITY, -1.0] {
        let ring = Ring::<u32>::new(RingConfig::default()).unwrap();
        assert!(
            matches!(
                BoundedLoads::new(ring, BoundedConfig { load_factor: c }),
                Err(Error::InvalidLoadFactor { .. })
            ),
            "{c}"
        );
    }
    // A weight that would need more points than the limit.
    let err = Ring::with_nodes(RingConfig::default(), [(1u32, 1e9)]).unwrap_err();
    assert!(matches!(err, Error::TooManyPoints { .. }), "{err:?}");
    // Tiny but valid weights still get one point, one table turn or a score.
    let ring = Ring::with_nodes(RingConfig::default(), [(1u32, 1e-300), (2, 1.0)]).unwrap();
    assert_eq!(ring.point_count(), 161);
    let hrw = Rendezvous::with_nodes([(1u32, 1e-300), (2, 1e300)]).unwrap();
    assert_eq!(hrw.locate(b"k"), Some(&2));
}

#[test]
fn bounded_release_errors() {
    let ring = Ring::with_nodes(RingConfig::default(), [(1u32, 1.0), (2, 1.0)]).unwrap();
    let mut b = BoundedLoads::new(ring, BoundedConfig::default()).unwrap();
    assert_eq!(b.release(&1).unwrap_err(), Error::NoLoad);
    assert_eq!(b.release(&7).unwrap_err(), Error::UnknownNode);
    let owner = *b.assign(5).unwrap();
    b.release(&owner).unwrap();
    assert_eq!(b.total(), 0);
    b.set_load(&1, u64::MAX).unwrap();
    b.set_load(&2, u64::MAX).unwrap();
    assert_eq!(b.total(), u64::MAX); // saturates, does not overflow
    assert!(b.pick(9).is_some());
}

#[test]
fn everything_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Ring<String>>();
    check::<Jump<String>>();
    check::<Rendezvous<String>>();
    check::<Maglev<String>>();
    check::<MultiProbe<String>>();
    check::<BoundedLoads<Ring<String>>>();
    check::<NodeSet<String>>();
    check::<Error>();
}

/// A `Locator` written wrong by a user: indexes past its nodes, walks that
/// repeat and stop early. The crate's helpers skip what they cannot use and
/// return errors; they never index out of bounds.
struct Broken(Vec<u32>, Vec<f64>);

impl Locator<u32> for Broken {
    fn nodes(&self) -> &[u32] {
        &self.0
    }
    fn weights(&self) -> &[f64] {
        &self.1
    }
    fn locate_index(&self, key_hash: u64) -> Option<usize> {
        Some(key_hash as usize % 7)
    }
    fn walk(&self, _key_hash: u64, visit: &mut dyn FnMut(usize) -> std::ops::ControlFlow<()>) {
        for i in [99, 5, 0, 0] {
            if visit(i).is_break() {
                return;
            }
        }
    }
}

#[test]
fn broken_locator_impls_do_not_panic_the_helpers() {
    let broken = Broken(vec![10, 20], vec![1.0, 1.0]);
    assert_eq!(broken.locate_hash(1), Some(&20));
    assert_eq!(broken.locate_hash(5), None);
    assert!(matches!(
        broken.replicas(0, 2),
        Err(Error::NotEnoughNodes { .. }) | Ok(_)
    ));
    let b = balance(&broken, 0..100);
    assert_eq!(b.per_node.len(), 2);
    let mut bounded = BoundedLoads::new(broken, BoundedConfig::default()).unwrap();
    for key in 0..10 {
        assert_eq!(bounded.assign(key).unwrap(), &10);
    }
}
