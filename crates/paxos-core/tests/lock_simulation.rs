//! synod-lock on Multi-Paxos under the simulator's lock workload (the same
//! runs raft-core gets in synod-sim's tests): mutual exclusion and rising
//! tokens as the clients saw them and in log order, identical answers on
//! every replica, and no acknowledged increment lost behind fencing.

use rand::rngs::StdRng;
use synod_paxos_core::{Config, PaxosNode};
use synod_protocol::MemStorage;
use synod_sim::{LockSimConfig, LockSummary, ProtocolReplica, run_lock_with};

type Paxos = ProtocolReplica<PaxosNode<MemStorage, StdRng>>;

fn paxos(seed: u64, base: fn(u64) -> LockSimConfig) -> LockSimConfig<Config> {
    base(seed).with_protocol(|o| Config {
        election_timeout_ticks: o.election_timeout_ticks,
        ..Config::new(1)
    })
}

#[test]
fn fenced_locks_on_multi_paxos_keep_mutual_exclusion_under_faults() {
    let mut t = LockSummary::default();
    for seed in 0..30 {
        let r = run_lock_with::<Paxos>(&paxos(seed, LockSimConfig::safety)).unwrap();
        assert_eq!(r.violation, None, "paxos lock seed {seed}");
        t.add(&r.summary);
    }
    assert!(t.grants > 150 && t.fenced > 0 && t.expired > 0, "{t:?}");
    assert!(t.snapshots.1 > 0 && t.terms_with_leader > 60, "{t:?}");
}

#[test]
fn calm_multi_paxos_runs_hand_the_lock_around() {
    let r = run_lock_with::<Paxos>(&paxos(1, LockSimConfig::calm)).unwrap();
    assert_eq!(r.violation, None);
    for c in 1..=4 {
        assert!(r.grants.iter().filter(|g| g.holder == c).count() >= 10);
    }
}
