use std::sync::Arc;

use super::*;
use crate::endpoint::Shared;
use crate::pick::testing::{keyed, shared};
use crate::rng::SplitMix;

fn named(names: &[&'static str], track_total: bool) -> (Vec<Endpoint<&'static str>>, Arc<Shared>) {
    let shared = shared(names.len(), track_total);
    let mut sorted = names.to_vec();
    sorted.sort_unstable();
    let eps = keyed(sorted.into_iter().map(|k| (k, 1.0)).collect(), &shared);
    (eps, shared)
}

#[test]
fn the_same_hash_goes_to_the_same_endpoint() {
    for mut picker in [HashPick::ring(), HashPick::maglev()] {
        let (eps, _) = named(&["a", "b", "c", "d"], false);
        let mut rng = SplitMix(1);
        picker.rebuild(&eps, &mut rng).unwrap();
        let mut ctx = Context::new(&eps);
        for h in 0..200u64 {
            ctx.hash = Some(synod_hashring::hash_u64(h));
            let first = picker.pick(&ctx, &mut rng);
            assert_eq!(first, picker.pick(&ctx, &mut rng));
            // It is the table's owner.
            let owner = picker
                .table
                .as_ref()
                .unwrap()
                .locate_hash(ctx.hash.unwrap());
            assert_eq!(eps[first.unwrap()].key(), owner.unwrap());
        }
    }
}

#[test]
fn an_excluded_owner_hands_over_to_the_next_on_the_walk() {
    let (eps, _) = named(&["a", "b", "c", "d", "e"], false);
    let mut picker = HashPick::maglev();
    let mut rng = SplitMix(1);
    picker.rebuild(&eps, &mut rng).unwrap();
    let hash = synod_hashring::hash_bytes(b"session-42");
    let table = picker.table.as_ref().unwrap();
    let mut order = Vec::new();
    table.walk(hash, &mut |i| {
        order.push(i);
        ControlFlow::Continue(())
    });
    let mut ctx = Context::new(&eps);
    ctx.hash = Some(hash);
    let excluded = [eps[order[0]].id()];
    ctx.exclude = &excluded;
    assert_eq!(picker.pick(&ctx, &mut rng), Some(order[1]));
}

#[test]
fn bounded_loads_spill_a_hot_key() {
    let (eps, shared) = named(&["a", "b", "c", "d"], true);
    let mut picker = HashPick::ring().bounded(1.25).unwrap();
    let mut rng = SplitMix(1);
    picker.rebuild(&eps, &mut rng).unwrap();
    let mut ctx = Context::new(&eps);
    ctx.total_in_flight = &shared.total_in_flight;
    ctx.hash = Some(7);
    // Every request has the same hash; keep them all in flight.
    let mut guards = Vec::new();
    for _ in 0..100 {
        let i = picker.pick(&ctx, &mut rng).unwrap();
        guards.push(crate::guard::Guard::new(Arc::clone(&eps[i].state), None));
    }
    for e in &eps {
        // cap = ceil(1.25 * 100 / 4) = 32 at the end.
        assert!(e.in_flight() <= 32, "{eps:?}");
        assert!(e.in_flight() > 0, "{eps:?}");
    }
}

#[test]
fn requests_without_a_hash_spread() {
    let (eps, _) = named(&["a", "b", "c", "d"], false);
    let mut picker = HashPick::maglev();
    let mut rng = SplitMix(3);
    picker.rebuild(&eps, &mut rng).unwrap();
    let ctx = Context::new(&eps);
    let mut hits = [0u32; 4];
    for _ in 0..4_000 {
        hits[picker.pick(&ctx, &mut rng).unwrap()] += 1;
    }
    assert!(hits.iter().all(|&h| h > 800), "{hits:?}");
}

#[test]
fn bad_load_factors_are_errors() {
    for c in [0.5, f64::NAN, f64::INFINITY, -1.0] {
        assert!(HashPick::<&str>::ring().bounded(c).is_err());
    }
}
