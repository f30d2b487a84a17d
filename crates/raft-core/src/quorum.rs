//! Majority arithmetic.

use crate::types::Index;

/// The largest index that a majority of `match_indexes` have reached: sort
/// descending and take the one at position `n / 2`. 0 for no voters.
pub(crate) fn committed_index(match_indexes: &mut [Index]) -> Index {
    if match_indexes.is_empty() {
        return 0;
    }
    match_indexes.sort_unstable_by(|a, b| b.cmp(a));
    match_indexes[match_indexes.len() / 2]
}

/// Whether `yes` of `voters` is a majority.
pub(crate) fn is_majority(yes: usize, voters: usize) -> bool {
    yes > voters / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The sort-and-pick agrees with the definition: the largest index
        /// reached by more than half the voters.
        #[test]
        fn committed_index_matches_its_definition(mut m in prop::collection::vec(0u64..20, 1..9)) {
            let naive = (0..=20u64)
                .filter(|&i| is_majority(m.iter().filter(|&&x| x >= i).count(), m.len()))
                .max()
                .unwrap_or(0);
            prop_assert_eq!(committed_index(&mut m), naive);
        }
    }

    #[test]
    fn majorities() {
        assert!(!is_majority(1, 2));
        assert!(is_majority(2, 3));
        assert!(!is_majority(2, 4));
        assert!(is_majority(3, 5));
        assert!(is_majority(1, 1));
    }
}
