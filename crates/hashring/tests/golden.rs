//! Golden vectors: the frozen key hash and each algorithm's placement of
//! fixed keys. These pin the placement format. If one of these fails, a
//! change would move users' keys between releases: that is a breaking
//! change to data layout, not a test to update.

use synod_hashring::*;

/// XXH3-64 with seed 0, cross-checked against the reference C
/// implementation (libxxhash, through python-xxhash 3) when committed.
#[test]
fn frozen_key_hash() {
    let vectors: [(&[u8], u64); 8] = [
        (b"", 0x2d06_8005_38d3_94c2),
        (b"a", 0xe6c6_32b6_1e96_4e1f),
        (b"abc", 0x78af_5f94_892f_3950),
        (b"synod", 0x062e_9cd9_84cd_559d),
        (b"user:42", 0x9fc1_e605_fa71_74aa),
        (
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            0x8355_e3a6_f617_70db,
        ),
        (&[b'x'; 100], 0xc909_84ff_df50_ce42),
        (&[0u8; 0], 0x2d06_8005_38d3_94c2),
    ];
    for (bytes, want) in vectors {
        assert_eq!(hash_bytes(bytes), want, "hash of {bytes:?}");
    }
    let long: Vec<u8> = (0..=255u8).chain(0..=255).collect();
    assert_eq!(hash_bytes(&long), 0x1059_105a_d19b_fa09);
    assert_eq!(hash_u64(0), 0xc77b_3abb_6f87_acd9);
    assert_eq!(hash_u64(1), 0x2fbc_5935_64db_792e);
    assert_eq!(hash_u64(42), 0xd5a6_f8c8_38df_27c8);
    assert_eq!(hash_u64(u64::MAX), 0x5111_c7e4_7d78_4413);
}

#[test]
fn frozen_mixer() {
    assert_eq!(mix64(0), 0);
    assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
    assert_eq!(mix64(u64::MAX), 0xb4d0_55fc_f2cb_bd7b);
}

#[test]
fn node_id_encodings() {
    assert_eq!("synod".id_hash(), hash_bytes(b"synod"));
    assert_eq!(String::from("synod").id_hash(), hash_bytes(b"synod"));
    assert_eq!(42u64.id_hash(), hash_u64(42));
    assert_eq!(42usize.id_hash(), hash_u64(42));
    assert_eq!(7u32.id_hash(), hash_bytes(&[7, 0, 0, 0]));
    let addr: std::net::SocketAddr = "10.0.0.1:8080".parse().unwrap();
    assert_eq!(addr.id_hash(), hash_bytes(&[10, 0, 0, 1, 0x1f, 0x90]));
    let ip: std::net::IpAddr = "::1".parse().unwrap();
    let mut v6 = [0u8; 16];
    v6[15] = 1;
    assert_eq!(ip.id_hash(), hash_bytes(&v6));
}

/// Jump hash: values the published reference implementation gives
/// (Lamping & Veach), then our own frozen vectors.
#[test]
fn jump_vectors() {
    assert_eq!(jump_hash(0, 60), Some(0));
    assert_eq!(jump_hash(1, 60), Some(55));
    assert_eq!(jump_hash(2, 60), Some(46));
    let buckets = [1u32, 2, 10, 1000, 65536];
    let vectors: [(u64, [u32; 5]); 5] = [
        (0, [0, 0, 0, 0, 0]),
        (1, [0, 0, 6, 549, 21134]),
        (42, [0, 1, 2, 571, 5747]),
        (u64::MAX, [0, 1, 9, 313, 18311]),
        (0xDEAD_BEEF, [0, 1, 5, 285, 64244]),
    ];
    for (key, want) in vectors {
        assert_eq!(
            buckets.map(|n| jump_hash(key, n).unwrap()),
            want,
            "key {key}"
        );
    }
}

/// Seven nodes `node-0..node-6` (node-3 weighs 2.5 where weights apply);
/// keys `key-0..key-11` hashed with the frozen hash. Expected owners are
/// node numbers, and the replicas of `key-0` for n = 3.
#[test]
fn placement_vectors() {
    let nodes: Vec<(String, f64)> = (0..7)
        .map(|i| (format!("node-{i}"), if i == 3 { 2.5 } else { 1.0 }))
        .collect();
    let unit: Vec<(String, f64)> = nodes.iter().map(|n| (n.0.clone(), 1.0)).collect();
    let names: Vec<String> = nodes.iter().map(|n| n.0.clone()).collect();
    let ring = Ring::with_nodes(RingConfig::default(), nodes.clone()).unwrap();
    let hrw = Rendezvous::with_nodes(nodes.clone()).unwrap();
    let hrw_unit = Rendezvous::with_nodes(unit).unwrap();
    let maglev = Maglev::with_nodes(MaglevConfig::default(), nodes).unwrap();
    let mp = MultiProbe::with_nodes(MultiProbeConfig::default(), names.clone()).unwrap();
    let jump = Jump::with_nodes(names.clone()).unwrap();
    type Case<'a> = (&'a str, &'a dyn Locator<String>, [usize; 12], [usize; 3]);
    let cases: [Case<'_>; 6] = [
        (
            "ring",
            &ring,
            [3, 3, 2, 5, 2, 4, 2, 4, 3, 3, 3, 0],
            [3, 1, 4],
        ),
        (
            "rendezvous",
            &hrw,
            [6, 0, 0, 1, 1, 6, 3, 6, 5, 4, 1, 3],
            [6, 3, 0],
        ),
        (
            "rendezvous uniform",
            &hrw_unit,
            [6, 0, 0, 1, 1, 6, 3, 6, 5, 4, 1, 5],
            [6, 0, 3],
        ),
        (
            "maglev",
            &maglev,
            [5, 2, 2, 4, 1, 3, 3, 3, 1, 4, 2, 3],
            [5, 6, 3],
        ),
        (
            "multiprobe",
            &mp,
            [4, 0, 6, 5, 2, 2, 5, 3, 2, 5, 3, 5],
            [4, 3, 6],
        ),
        (
            "jump",
            &jump,
            [1, 1, 4, 0, 3, 4, 6, 2, 2, 6, 2, 2],
            [1, 3, 6],
        ),
    ];
    for (name, locator, owners, replicas) in cases {
        for (i, &want) in owners.iter().enumerate() {
            let key = format!("key-{i}");
            assert_eq!(
                locator.locate(key.as_bytes()),
                Some(&names[want]),
                "{name}: {key}"
            );
        }
        let got = locator.replicas(hash_bytes(b"key-0"), 3).unwrap();
        let want: Vec<&String> = replicas.iter().map(|&i| &names[i]).collect();
        assert_eq!(got, want, "{name}: replicas of key-0");
    }
}
