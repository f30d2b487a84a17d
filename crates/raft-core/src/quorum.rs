//! Majority arithmetic.

use crate::types::{Index, NodeId};

/// The largest index that a majority of `match_indexes` have reached: sort
/// descending and take the one at position `n / 2`. 0 for no voters.
pub(crate) fn committed_index(match_indexes: &mut [Index]) -> Index {
    if match_indexes.is_empty() {
        return 0;
    }
    match_indexes.sort_unstable_by(|a, b| b.cmp(a));
    match_indexes[match_indexes.len() / 2]
}

/// The largest index a majority of `voters` have reached, where
/// `match_of` gives each voter's match index. Sorts on the stack for up to
/// `STACK_VOTERS` voters, so a leader's acknowledgement never allocates.
pub(crate) fn committed_index_of(voters: &[NodeId], match_of: impl Fn(NodeId) -> Index) -> Index {
    const STACK_VOTERS: usize = 16;
    if voters.len() <= STACK_VOTERS {
        let mut buf = [0; STACK_VOTERS];
        for (slot, &id) in buf.iter_mut().zip(voters) {
            *slot = match_of(id);
        }
        return committed_index(&mut buf[..voters.len()]);
    }
    let mut m: Vec<Index> = voters.iter().map(|&id| match_of(id)).collect();
    committed_index(&mut m)
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

    proptest! {
        /// The stack path (up to 16 voters) and the heap path (more) agree
        /// with the plain sort-and-pick.
        #[test]
        fn committed_index_of_matches_the_plain_one(m in prop::collection::vec(0u64..50, 1..40)) {
            let ids: Vec<NodeId> = (1..=m.len() as NodeId).collect();
            let got = committed_index_of(&ids, |id| m[(id - 1) as usize]);
            prop_assert_eq!(got, committed_index(&mut m.clone()));
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
