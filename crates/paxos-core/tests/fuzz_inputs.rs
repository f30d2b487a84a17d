//! The fuzz interpreter (`tests/fuzzing/`) on the committed corpus and on
//! seeded random bytes, so every CI run exercises it and a crash the
//! fuzzer finds becomes a pinned input here.
#![cfg(all(feature = "arbitrary", feature = "serde"))]

mod fuzzing {
    pub mod cluster;
    pub mod step;
}

#[path = "../../raft-core/tests/fuzzing/replay.rs"]
mod replay;

use replay::{assert_caught, corpus, random_inputs};

#[test]
fn step_inputs() {
    for data in random_inputs(3, 2_000, 2_048).chain(corpus("paxos_step")) {
        fuzzing::step::run(&data);
    }
}

#[test]
fn cluster_inputs() {
    let (mut leaders, mut decides, mut reads, mut crashes, mut installs, mut decisions) =
        (0, 0, 0, 0, 0, 0);
    let mut unrounded = 0;
    let inputs = corpus("paxos_cluster");
    assert!(inputs.len() > 100, "the committed corpus is missing");
    for data in random_inputs(4, 1_000, 4_096).chain(inputs) {
        let stats = fuzzing::cluster::run_with_stats(&data);
        leaders += stats.leaders;
        decides += u64::from(stats.max_decided > 1);
        reads += stats.reads;
        crashes += stats.crashes;
        unrounded += stats.reads_without_round;
        installs += stats.installs;
        decisions += stats.decisions;
    }
    // The inputs must drive the cluster deep enough to check something.
    eprintln!(
        "leaders {leaders}, runs deciding {decides}, reads {reads} ({unrounded} without a round), crashes {crashes}, \
         snapshots installed {installs}, decisions checked on their quorum {decisions}"
    );
    assert!(leaders > 3_000, "{leaders} ballots with a leader");
    assert!(
        decides > 1_000,
        "{decides} runs decided past the bootstrap entry"
    );
    assert!(reads > 5_000, "{reads} reads answered");
    assert!(crashes > 100, "{crashes} crashes");
    assert!(
        unrounded > 2_000,
        "{unrounded} reads answered without a round"
    );
    assert!(installs > 50, "{installs} snapshots installed");
    assert!(decisions > 8_000, "{decisions} decisions checked");
}

/// The cluster interpreter's properties have teeth: every planted bug
/// fails it on an input of the committed corpus (the fuzzer, built with
/// `--features mutations` and `SYNOD_MUTATION` naming the bug, found the
/// inputs the corpus lacked; docs/fuzzing.md).
#[cfg(feature = "mutations")]
#[test]
fn planted_bugs_fail_the_cluster_interpreter() {
    use synod_paxos_core::mutation::Mutation;
    assert_caught(&corpus("paxos_cluster"), &Mutation::ALL, |data, m| {
        fuzzing::cluster::run_configured(data, &|c| c.mutation = Some(m));
    });
}
