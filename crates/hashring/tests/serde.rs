//! With the `serde` feature: node sets and parameters round-trip, and a
//! node set that fails validation does not deserialize.
#![cfg(feature = "serde")]

use synod_hashring::*;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    let bytes = postcard::to_allocvec(value).unwrap();
    postcard::from_bytes(&bytes).unwrap()
}

#[test]
fn node_sets_and_configs_round_trip() {
    let set = NodeSet::new([("b".to_string(), 2.0), ("a".to_string(), 1.0)]).unwrap();
    assert_eq!(round_trip(&set), set);
    let ring = Ring::from_node_set(RingConfig::default(), &set).unwrap();
    let copy =
        Ring::from_node_set(round_trip(&ring.config()), &round_trip(&ring.node_set())).unwrap();
    for key in KeySample::new(1).take(1000) {
        assert_eq!(ring.locate_hash(key), copy.locate_hash(key));
    }
    assert_eq!(
        round_trip(&MaglevConfig { table_size: 101 }),
        MaglevConfig { table_size: 101 }
    );
    assert_eq!(
        round_trip(&MultiProbeConfig { probes: 7 }),
        MultiProbeConfig { probes: 7 }
    );
    assert_eq!(
        round_trip(&BoundedConfig { load_factor: 1.5 }),
        BoundedConfig { load_factor: 1.5 }
    );
}

#[test]
fn invalid_node_sets_do_not_deserialize() {
    let dup = vec![
        WeightedNode {
            node: 1u32,
            weight: 1.0,
        },
        WeightedNode {
            node: 1,
            weight: 1.0,
        },
    ];
    let bad_weight = vec![WeightedNode {
        node: 1u32,
        weight: f64::NAN,
    }];
    for raw in [dup, bad_weight] {
        let bytes = postcard::to_allocvec(&raw).unwrap();
        assert!(postcard::from_bytes::<NodeSet<u32>>(&bytes).is_err());
    }
    // Garbage bytes: an error, not a panic.
    assert!(
        postcard::from_bytes::<NodeSet<String>>(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]).is_err()
    );
}
