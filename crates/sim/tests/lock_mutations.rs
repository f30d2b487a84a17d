//! The lock checks have teeth: each deliberately broken lock machine
//! (synod-lock's `mutations` feature) is caught within a bounded number of
//! seeds. Runs with `--features mutations` (CI's `--all-features`).
#![cfg(feature = "mutations")]

use synod_lock::mutation::Mutation;
use synod_sim::*;

/// Seeds tried per mutation before the check fails.
const MAX_SEEDS: u64 = 200;

fn first_catching_seed(m: Mutation) -> Option<(u64, LockViolation)> {
    (0..MAX_SEEDS).find_map(|seed| {
        let mut cfg = LockSimConfig::safety(seed);
        if m == Mutation::RenewFromLastStamp {
            // Rarer stamps widen the window between the last stamp and
            // a keep-alive's send.
            cfg.stamp_ticks = 40;
        }
        cfg.mutation = Some(m);
        run_lock(&cfg).unwrap().violation.map(|v| (seed, v))
    })
}

#[test]
fn every_lock_mutation_is_caught() {
    let mut missed = Vec::new();
    for m in [
        Mutation::GrantWithoutSessionCheck,
        Mutation::TokenNotInSnapshot,
        Mutation::NoFailoverExtension,
        Mutation::RenewFromLastStamp,
    ] {
        match first_catching_seed(m) {
            Some((seed, v)) => eprintln!("{m:?}: caught at seed {seed}: {v:?}"),
            None => missed.push(m),
        }
    }
    assert!(
        missed.is_empty(),
        "not caught within {MAX_SEEDS} seeds: {missed:?}"
    );
}
