//! The fuzz interpreters (`tests/fuzzing/`) on pinned inputs and on seeded
//! random bytes, so every CI run exercises them and a crash the fuzzer
//! finds becomes a pinned input here.
#![cfg(all(feature = "arbitrary", feature = "serde"))]

mod fuzzing {
    pub mod cluster;
    pub mod decode;
    pub(crate) mod replay;
    pub mod step;
}

use fuzzing::replay::{assert_caught, corpus, random_inputs};

#[test]
fn decode_inputs() {
    for data in random_inputs(1, 20_000, 96).chain(corpus("raft_decode")) {
        fuzzing::decode::run(&data);
    }
}

#[test]
fn step_inputs() {
    for data in random_inputs(2, 2_000, 2_048).chain(corpus("raft_step")) {
        fuzzing::step::run(&data);
    }
}

#[test]
fn cluster_inputs() {
    let (mut leaders, mut commits, mut reads, mut crashes, mut unrounded) = (0, 0, 0, 0, 0);
    let (mut counted, mut sticky) = (0, 0);
    let inputs = corpus("raft_cluster");
    assert!(inputs.len() > 100, "the committed corpus is missing");
    for data in random_inputs(3, 1_000, 4_096).chain(inputs) {
        let stats = fuzzing::cluster::run_with_stats(&data);
        leaders += stats.leaders;
        commits += u64::from(stats.max_commit > 1);
        reads += stats.reads;
        crashes += stats.crashes;
        unrounded += stats.reads_without_round;
        counted += stats.commits;
        sticky += stats.sticky_refusals;
    }
    // The inputs must drive the cluster deep enough to check something.
    eprintln!(
        "leaders {leaders}, runs committing {commits}, reads {reads} ({unrounded} without a \
         round), crashes {crashes}, commits checked on their quorum {counted}, vote \
         requests within a lease {sticky}"
    );
    assert!(leaders > 3_000, "{leaders} terms with a leader");
    assert!(
        commits > 1_200,
        "{commits} runs committed past the bootstrap entry"
    );
    assert!(reads > 30_000, "{reads} reads answered");
    assert!(crashes > 100, "{crashes} crashes");
    assert!(
        unrounded > 10_000,
        "{unrounded} reads answered without a round"
    );
    assert!(counted > 15_000, "{counted} commits checked");
    assert!(sticky > 50, "{sticky} vote requests within a lease");
}

/// The cluster interpreter's properties have teeth: each planted bug
/// listed fails it on an input of the committed corpus (the fuzzer, built
/// with `--features mutations` and `SYNOD_MUTATION` naming the bug, finds
/// such inputs; docs/fuzzing.md).
#[cfg(feature = "mutations")]
#[test]
fn planted_bugs_fail_the_cluster_interpreter() {
    use synod_raft_core::mutation::Mutation;
    assert_caught(
        &corpus("raft_cluster"),
        &[
            Mutation::SkipConsistencyCheck,
            Mutation::DoubleVote,
            Mutation::VoteBeforePersist,
            Mutation::ReusedReadIds,
            Mutation::CommitPreviousTermByCounting,
            Mutation::NoLeaderStickiness,
        ],
        |data, m| {
            fuzzing::cluster::run_configured(data, &|c| c.mutation = Some(m));
        },
    );
}
