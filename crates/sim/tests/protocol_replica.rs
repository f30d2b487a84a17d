//! The simulator drives raft-core through synod-protocol's `Protocol`
//! trait alone (`ProtocolReplica`), and it is the same simulation as
//! raft-core's own replica: seed for seed, the same trace, the same
//! operations, the same verdict. When the generic replica was added this
//! compared it with raft-core's separate, hand-written replica (180 seeds,
//! equal); `RaftReplica` is now the generic one plus raft-core's options
//! and trace descriptions, and the test keeps that mapping exact (a
//! profile's options must reach the protocol unchanged).

use rand::rngs::StdRng;
use synod_protocol::MemStorage;
use synod_raft_core::RaftNode;
use synod_sim::{ProtocolReplica, RaftReplica, SimConfig, run_with};

type Generic = ProtocolReplica<RaftNode<MemStorage, StdRng>>;

fn same_run(profile: &str, cfg: &SimConfig) {
    let ours = run_with::<RaftReplica>(cfg).expect("runs");
    // raft-core's own `Config` as the protocol's options; its id is set
    // per node by `Protocol::start`.
    let generic_cfg = cfg.clone().with_protocol(|o| o.config(1));
    let generic = run_with::<Generic>(&generic_cfg).expect("runs");
    let seed = cfg.seed;
    assert_eq!(ours.violation, None, "{profile} seed {seed}");
    assert_eq!(generic.violation, None, "{profile} seed {seed}");
    assert_eq!(
        ours.trace_hash, generic.trace_hash,
        "{profile} seed {seed}: the traces differ"
    );
    assert_eq!(ours.history, generic.history, "{profile} seed {seed}");
    assert_eq!(ours.summary, generic.summary, "{profile} seed {seed}");
}

#[test]
fn the_generic_replica_runs_raft_core_exactly_as_its_own_replica_does() {
    for seed in 0..60 {
        same_run("safety", &SimConfig::safety(seed));
        same_run("chaos", &SimConfig::chaos(seed));
    }
    for seed in 0..30 {
        same_run("lease", &SimConfig::lease(seed));
        same_run("liveness", &SimConfig::liveness(1_000 + seed));
    }
}
