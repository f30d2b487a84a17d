//! How each bench builds the crates.io peers, in one place. Included with
//! `mod peers;` by the bench binaries (the peers are dev-dependencies, so
//! the shared library cannot name them).

/// `hashring` 0.3 with 160 virtual nodes per node, as its docs suggest,
/// added in one batch (one sort).
pub(crate) fn hashring_160(names: &[String]) -> hashring::HashRing<String> {
    let mut ring = hashring::HashRing::new();
    ring.batch_add(
        names
            .iter()
            .flat_map(|s| (0..160).map(move |v| format!("{s}-{v}")))
            .collect(),
    );
    ring
}
