//! An interpreter of arbitrary operation sequences over every algorithm,
//! shared by the `ops` proptest and the fuzz target (which includes this
//! file by path). Any byte string decodes to a valid program; running it
//! checks each result against a plain model of the node set and checks
//! every structure's invariants. It panics only when a check fails.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use synod_hashring::*;

/// Weights the programs draw from: valid, invalid and extreme.
const WEIGHTS: [f64; 10] = [
    1.0,
    2.0,
    0.5,
    0.0,
    -1.0,
    f64::NAN,
    f64::INFINITY,
    1e-300,
    1e9,
    3.0,
];
/// Maglev table sizes: primes, non-primes and sizes below the node count.
const TABLE_SIZES: [u32; 8] = [0, 1, 4, 5, 13, 101, 1009, 4099];

enum Op {
    Insert(u8, f64),
    Remove(u8),
    Locate(u64),
    Replicas(u64, u8),
    Assign(u64),
    Release(u8),
}

/// Reads bytes from the front, yielding zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.u8()))
    }
}

struct Algorithms {
    ring: Result<Ring<u8>, Error>,
    hrw: Rendezvous<u8>,
    maglev: Result<Maglev<u8>, Error>,
    multiprobe: Result<MultiProbe<u8>, Error>,
    jump: Jump<u8>,
    bounded: Result<BoundedLoads<Rendezvous<u8>>, Error>,
    ring_config: RingConfig,
    maglev_config: MaglevConfig,
    probes: MultiProbeConfig,
}

/// Runs the program `data` encodes.
pub(crate) fn run(data: &[u8]) {
    let mut bytes = Bytes(data);
    let ring_config = RingConfig {
        points_per_weight: u32::from(bytes.u8() % 65),
    };
    let maglev_config = MaglevConfig {
        table_size: TABLE_SIZES[usize::from(bytes.u8()) % TABLE_SIZES.len()],
    };
    let probes = MultiProbeConfig {
        probes: u32::from(bytes.u8() % 40),
    };
    let bounded_config = BoundedConfig {
        load_factor: f64::from(bytes.u8()) / 64.0,
    };
    let mut algos = Algorithms {
        ring: Ring::new(ring_config),
        hrw: Rendezvous::new(),
        maglev: Maglev::new(maglev_config),
        multiprobe: MultiProbe::new(probes),
        jump: Jump::new(),
        bounded: BoundedLoads::new(Rendezvous::new(), bounded_config),
        ring_config,
        maglev_config,
        probes,
    };
    assert_eq!(algos.ring.is_ok(), ring_config.points_per_weight > 0);
    assert_eq!(algos.multiprobe.is_ok(), (1..=40).contains(&probes.probes));
    assert_eq!(
        algos.maglev.is_ok(),
        [5, 13, 101, 1009, 4099].contains(&maglev_config.table_size)
    );
    assert_eq!(algos.bounded.is_ok(), bounded_config.load_factor >= 1.0);

    let mut model: BTreeMap<u8, f64> = BTreeMap::new();
    let mut jump_order: Vec<u8> = Vec::new();
    for _ in 0..64 {
        if bytes.0.is_empty() {
            break;
        }
        let op = match bytes.u8() % 6 {
            0 => Op::Insert(bytes.u8(), WEIGHTS[usize::from(bytes.u8()) % WEIGHTS.len()]),
            1 => Op::Remove(bytes.u8()),
            2 => Op::Locate(bytes.u64()),
            3 => Op::Replicas(bytes.u64(), bytes.u8()),
            4 => Op::Assign(bytes.u64()),
            _ => Op::Release(bytes.u8()),
        };
        apply(&mut algos, &mut model, &mut jump_order, op);
    }
}

fn apply(a: &mut Algorithms, model: &mut BTreeMap<u8, f64>, jump_order: &mut Vec<u8>, op: Op) {
    match op {
        Op::Insert(node, weight) => {
            let valid = weight.is_finite() && weight > 0.0;
            let fresh = !model.contains_key(&node);
            let hrw = a.hrw.insert(node, weight);
            assert_eq!(
                hrw.is_ok(),
                valid && fresh,
                "rendezvous insert {node} {weight}: {hrw:?}"
            );
            // The other structures refuse more than the model (huge ring
            // weights, a full Maglev table, weights other than 1.0), so each
            // is checked against its own contents.
            if let Ok(ring) = &mut a.ring {
                let points = (weight * f64::from(a.ring_config.points_per_weight)).round();
                let fits = points <= f64::from(ring::MAX_POINTS_PER_NODE);
                let expect = valid && !ring.contains(&node) && fits;
                let r = ring.insert(node, weight);
                assert_eq!(r.is_ok(), expect, "ring insert: {r:?}");
            }
            if let Ok(maglev) = &mut a.maglev {
                let room = maglev.len() < a.maglev_config.table_size as usize;
                let expect = valid && !maglev.contains(&node) && room;
                let r = maglev.insert(node, weight);
                assert_eq!(r.is_ok(), expect, "maglev insert: {r:?}");
            }
            if let Ok(mp) = &mut a.multiprobe {
                let expect = !mp.contains(&node) && weight == 1.0;
                assert_eq!(mp.insert(node, weight).is_ok(), expect);
            }
            if a.jump.insert(node, weight).is_ok() {
                jump_order.push(node);
            }
            if hrw.is_ok() {
                model.insert(node, weight);
            }
        }
        Op::Remove(node) => {
            let present = model.remove(&node).is_some();
            assert_eq!(a.hrw.remove(&node).is_ok(), present);
            if let Ok(ring) = &mut a.ring {
                // The ring may have refused a huge weight the model kept.
                if ring.contains(&node) {
                    ring.remove(&node).unwrap();
                } else {
                    assert_eq!(ring.remove(&node), Err(Error::UnknownNode));
                }
            }
            if let Ok(maglev) = &mut a.maglev
                && maglev.contains(&node)
            {
                maglev.remove(&node).unwrap();
            }
            if let Ok(mp) = &mut a.multiprobe {
                let _ = mp.remove(&node);
            }
            let last = jump_order.last() == Some(&node);
            let r = a.jump.remove(&node);
            assert_eq!(r.is_ok(), last, "jump remove {node}: {r:?}");
            if last {
                jump_order.pop();
            }
        }
        Op::Locate(key) => check_all(a, model, jump_order, key),
        Op::Replicas(key, n) => {
            let n = usize::from(n % 16);
            let r = a.hrw.replicas(key, n);
            assert_eq!(r.is_ok(), n <= model.len());
            if let Ok(r) = r {
                let mut distinct: Vec<&u8> = r.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(distinct.len(), n);
            }
        }
        Op::Assign(key) => {
            if let Ok(b) = &mut a.bounded {
                let n = b.locator().len();
                let r = b.assign(key);
                assert_eq!(r.is_ok(), n > 0);
            }
        }
        Op::Release(node) => {
            if let Ok(b) = &mut a.bounded {
                let _ = b.release(&node);
                let sum: u64 = b.loads().iter().sum();
                assert_eq!(sum, b.total());
            }
        }
    }
}

/// Every structure: owner present in the model (None iff empty), walk's
/// first node is the owner and the walk is a permutation; the incremental
/// structure places the key like a fresh build from its own node set.
fn check_all(a: &Algorithms, model: &BTreeMap<u8, f64>, jump_order: &[u8], key: u64) {
    let mut all: Vec<(&str, &dyn Locator<u8>)> = vec![("rendezvous", &a.hrw), ("jump", &a.jump)];
    if let Ok(ring) = &a.ring {
        all.push(("ring", ring));
        let fresh = Ring::from_node_set(a.ring_config, &ring.node_set()).unwrap();
        assert_eq!(
            ring.locate_hash(key),
            fresh.locate_hash(key),
            "ring vs fresh build"
        );
    }
    if let Ok(maglev) = &a.maglev {
        all.push(("maglev", maglev));
        let fresh = Maglev::from_node_set(a.maglev_config, &maglev.node_set()).unwrap();
        assert_eq!(
            maglev.locate_hash(key),
            fresh.locate_hash(key),
            "maglev vs fresh build"
        );
    }
    if let Ok(mp) = &a.multiprobe {
        all.push(("multiprobe", mp));
        let fresh = MultiProbe::with_nodes(a.probes, mp.nodes().iter().copied()).unwrap();
        assert_eq!(
            mp.locate_hash(key),
            fresh.locate_hash(key),
            "multiprobe vs fresh build"
        );
    }
    assert_eq!(a.jump.nodes(), jump_order);
    let fresh = Rendezvous::with_nodes(model.iter().map(|(&n, &w)| (n, w))).unwrap();
    assert_eq!(a.hrw.locate_hash(key), fresh.locate_hash(key));
    for (name, l) in all {
        let owner = l.locate_index(key);
        assert_eq!(owner.is_none(), l.is_empty(), "{name}");
        // Jump keeps buckets the model dropped (it removes only the last);
        // its contents were checked against `jump_order` above.
        if name != "jump" {
            for node in l.nodes() {
                assert!(model.contains_key(node), "{name}: {node} not in the model");
            }
        }
        let mut walked = Vec::new();
        l.walk(key, &mut |i| {
            walked.push(i);
            ControlFlow::Continue(())
        });
        assert_eq!(
            walked.first().copied(),
            owner,
            "{name}: walk does not start at the owner"
        );
        walked.sort_unstable();
        assert_eq!(
            walked,
            (0..l.len()).collect::<Vec<_>>(),
            "{name}: walk is not a permutation"
        );
    }
}
