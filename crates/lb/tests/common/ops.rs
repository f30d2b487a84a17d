//! An interpreter of arbitrary operation sequences over a balancer with
//! each picker, shared by the `ops` proptest and the `lb_ops` fuzz target
//! (which includes this file by path). Any byte string decodes to a valid
//! program: inserts, removals and whole-set updates with valid, invalid
//! and extreme weights, picks with hashes and exclusions, completions of
//! any held guard in any way, clock jumps and maintenance. Each result is
//! checked against a plain model; it panics only when a check fails.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use synod_lb::pick::least_request::{LeastRequest, LeastRequestConfig};
use synod_lb::*;

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

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Runs `data` against every picker under two health configurations.
pub(crate) fn run(data: &[u8]) {
    let Some((&which, program)) = data.split_first() else {
        return;
    };
    let health = if which & 1 == 0 {
        HealthConfig::default()
    } else {
        HealthConfig {
            outlier: OutlierConfig {
                consecutive_failures: Some(2),
                max_ejection_percent: 100.0,
                failure_percentage: Some(FailurePercentageConfig {
                    minimum_hosts: 1,
                    request_volume: 1,
                    ..FailurePercentageConfig::default()
                }),
                ..OutlierConfig::default()
            },
            slow_start: Some(SlowStartConfig::default()),
            ..HealthConfig::default()
        }
    };
    let exact = LeastRequestConfig {
        exact_up_to: 4,
        choice_count: 2 + usize::from(which >> 1) % 9,
        ..LeastRequestConfig::default()
    };
    match (which >> 1) % 10 {
        0 => exec(RoundRobin::new(), health, program),
        1 => exec(Random, health, program),
        2 => exec(WeightedRandom::new(), health, program),
        3 => exec(SmoothWrr::new(), health, program),
        4 => exec(EdfWrr::new(), health, program),
        5 => exec(LeastRequest::new(exact).expect("valid"), health, program),
        6 => exec(PeakEwma::default(), health, program),
        7 => exec(WeightedP2c::new(), health, program),
        8 => exec(HashPick::ring(), health, program),
        _ => exec(
            HashPick::maglev().bounded(1.25).expect("valid"),
            health,
            program,
        ),
    }
}

/// One held guard: its endpoint's identity.
struct Held {
    guard: Guard<u8>,
    id: EndpointId,
}

fn exec<P: Pick<u8>>(picker: P, health: HealthConfig, program: &[u8]) {
    let clock = Arc::new(ManualClock::new());
    let mut lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(u64::from(program.len() as u32))
        .health(health)
        .build()
        .expect("valid config");
    // The model: key -> weight.
    let mut model: BTreeMap<u8, f64> = BTreeMap::new();
    let mut held: Vec<Held> = Vec::new();
    let mut bytes = Bytes(program);
    while !bytes.is_empty() {
        match bytes.u8() % 8 {
            0 => {
                let (key, w) = (bytes.u8() % 12, WEIGHTS[usize::from(bytes.u8()) % 10]);
                let valid = w.is_finite() && w > 0.0;
                match lb.insert(key, w) {
                    Ok(new) => {
                        assert!(valid, "weight {w} accepted");
                        assert_eq!(new, !model.contains_key(&key));
                        model.insert(key, w);
                    }
                    Err(Error::InvalidWeight { .. }) => assert!(!valid),
                    // A weight the hash table cannot hold (ring points):
                    // refused, nothing changed.
                    Err(Error::Hash(_)) => assert!(valid),
                    Err(e) => panic!("insert: {e}"),
                }
            }
            1 => {
                let key = bytes.u8() % 12;
                let result = lb.remove(&key);
                assert_eq!(result.is_ok(), model.remove(&key).is_some());
            }
            2 => {
                let mask = u16::from(bytes.u8()) | (u16::from(bytes.u8()) << 8);
                let w = WEIGHTS[usize::from(bytes.u8()) % 10];
                let next: BTreeMap<u8, f64> = (0..12u8)
                    .filter(|k| mask & (1 << k) != 0)
                    .map(|k| (k, if k % 3 == 0 { w } else { 1.0 }))
                    .collect();
                let valid = next.values().all(|w| w.is_finite() && *w > 0.0);
                match lb.update(next.clone()) {
                    Ok(()) => {
                        assert!(valid);
                        model = next;
                    }
                    Err(Error::InvalidWeight { .. }) => assert!(!valid),
                    Err(Error::Hash(_)) => assert!(valid),
                    Err(e) => panic!("update: {e}"),
                }
            }
            3 | 4 => {
                let hash = bytes.u64();
                let exclude: Vec<EndpointId> = lb
                    .endpoints()
                    .iter()
                    .filter(|e| hash & (1 << (*e.key() % 64)) != 0 && hash % 3 == 0)
                    .map(Endpoint::id)
                    .collect();
                match lb.pick(&Request::new().with_hash(hash).excluding(&exclude)) {
                    Ok(guard) => {
                        assert!(model.contains_key(guard.key()), "picked a removed key");
                        let id = guard.id();
                        held.push(Held { guard, id });
                    }
                    Err(Error::NoEndpoints) => assert!(model.is_empty()),
                    Err(e) => panic!("pick: {e}"),
                }
            }
            5 => {
                if held.is_empty() {
                    continue;
                }
                let i = usize::from(bytes.u8()) % held.len();
                let h = held.swap_remove(i);
                match bytes.u8() % 4 {
                    0 => h.guard.success(),
                    1 | 2 => h.guard.failure(),
                    _ => drop(h.guard),
                }
            }
            6 => clock.advance(Duration::from_millis(u64::from(bytes.u8()) * 500)),
            _ => lb.maintain(),
        }
        check(&lb, &model, &held);
    }
}

/// The balancer agrees with the model: the same keys and weights, and
/// each endpoint's in-flight count is the number of guards held on it.
fn check<P: Pick<u8>>(lb: &Balancer<u8, P>, model: &BTreeMap<u8, f64>, held: &[Held]) {
    let keys: Vec<(u8, f64)> = lb
        .endpoints()
        .iter()
        .map(|e| (*e.key(), e.weight()))
        .collect();
    let want: Vec<(u8, f64)> = model.iter().map(|(k, w)| (*k, *w)).collect();
    assert_eq!(keys, want);
    for e in lb.endpoints() {
        let n = held.iter().filter(|h| h.id == e.id()).count() as u64;
        assert_eq!(e.in_flight(), n, "endpoint {}", e.key());
    }
    // The panic flag follows the share in service (50 % threshold).
    let n = lb.len();
    let ejected = lb.endpoints().iter().filter(|e| e.is_ejected()).count();
    let in_service_percent = ((n - ejected) * 100).checked_div(n).unwrap_or(100);
    assert_eq!(
        lb.in_panic(),
        n > 0 && (n - ejected) * 100 < 50 * n,
        "{ejected} of {n} ejected ({in_service_percent} % in service)"
    );
}
