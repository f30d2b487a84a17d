//! The planted bug of a `--features mutations` build: the `Mutation`
//! variant the `SYNOD_MUTATION` environment variable names.

/// The variant of `all` whose `Debug` name is `SYNOD_MUTATION`.
///
/// # Panics
/// When `SYNOD_MUTATION` names none of them: a run must not go on
/// without the bug it was asked to plant.
pub fn named<M: Copy + std::fmt::Debug>(all: &[M]) -> M {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let name = NAME.get_or_init(|| std::env::var("SYNOD_MUTATION").unwrap_or_default());
    all.iter()
        .copied()
        .find(|m| format!("{m:?}") == *name)
        .unwrap_or_else(|| panic!("SYNOD_MUTATION={name:?} names no mutation"))
}
