//! A model check for locks with fencing tokens (for synod-lock): at most
//! one holder at a time, and tokens strictly increasing per lock in the
//! order the lock was granted.

use std::collections::BTreeMap;

use crate::error::SimError;

/// One grant of a lock, as observed by its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockGrant {
    /// The lock.
    pub lock: u64,
    /// Who held it.
    pub holder: u64,
    /// The fencing token it came with.
    pub token: u64,
    /// When the holder learned it held the lock.
    pub acquired: u64,
    /// When it stopped holding it (released, or its lease expired); `None`
    /// if it still held it at the end.
    pub released: Option<u64>,
}

/// A broken mutex property; indexes point into the grants given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutexViolation {
    /// Two grants of one lock overlap in time.
    TwoHolders {
        /// The lock.
        lock: u64,
        /// The earlier grant.
        first: usize,
        /// The grant that began while the first was held.
        second: usize,
    },
    /// A later grant carries a token not above an earlier one's.
    TokenNotIncreasing {
        /// The lock.
        lock: u64,
        /// The earlier grant.
        earlier: usize,
        /// The later grant.
        later: usize,
    },
}

/// Checks every lock's grants.
///
/// ```
/// use synod_sim::{check_mutex, LockGrant};
/// let g = |holder, token, acquired, released| LockGrant { lock: 1, holder, token, acquired, released: Some(released) };
/// assert_eq!(check_mutex(&[g(1, 1, 0, 10), g(2, 2, 10, 20)]), Ok(Ok(())));
/// assert!(check_mutex(&[g(1, 1, 0, 10), g(2, 2, 5, 20)]).unwrap().is_err());
/// ```
///
/// # Errors
/// [`SimError::CompletionBeforeInvocation`] for a grant released before it
/// was acquired (a malformed record, not a verdict).
pub fn check_mutex(grants: &[LockGrant]) -> Result<Result<(), MutexViolation>, SimError> {
    for (i, g) in grants.iter().enumerate() {
        if let Some(r) = g.released
            && r < g.acquired
        {
            return Err(SimError::CompletionBeforeInvocation {
                op: i,
                invoked: g.acquired,
                completed: r,
            });
        }
    }
    let mut by_lock: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, g) in grants.iter().enumerate() {
        by_lock.entry(g.lock).or_default().push(i);
    }
    for (lock, mut ids) in by_lock {
        ids.sort_by_key(|&i| (grants[i].acquired, i));
        for w in ids.windows(2) {
            let (a, b) = (&grants[w[0]], &grants[w[1]]);
            // Half-open intervals: a release at t and an acquisition at t
            // do not overlap.
            let overlaps = a.released.is_none_or(|r| b.acquired < r);
            if overlaps {
                return Ok(Err(MutexViolation::TwoHolders {
                    lock,
                    first: w[0],
                    second: w[1],
                }));
            }
            if b.token <= a.token {
                return Ok(Err(MutexViolation::TokenNotIncreasing {
                    lock,
                    earlier: w[0],
                    later: w[1],
                }));
            }
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(lock: u64, holder: u64, token: u64, acquired: u64, released: Option<u64>) -> LockGrant {
        LockGrant {
            lock,
            holder,
            token,
            acquired,
            released,
        }
    }

    #[test]
    fn good_histories_pass() {
        let h = [
            g(1, 1, 1, 0, Some(5)),
            g(1, 2, 2, 5, Some(9)),
            g(2, 1, 1, 3, None),
            g(1, 3, 7, 12, None),
        ];
        assert_eq!(check_mutex(&h), Ok(Ok(())));
        assert_eq!(check_mutex(&[]), Ok(Ok(())));
    }

    #[test]
    fn overlaps_and_stale_tokens_fail() {
        let overlap = [g(1, 1, 1, 0, Some(6)), g(1, 2, 2, 5, Some(9))];
        assert_eq!(
            check_mutex(&overlap),
            Ok(Err(MutexViolation::TwoHolders {
                lock: 1,
                first: 0,
                second: 1
            }))
        );
        let never_released = [g(1, 1, 1, 0, None), g(1, 2, 2, 50, Some(60))];
        assert!(matches!(
            check_mutex(&never_released),
            Ok(Err(MutexViolation::TwoHolders { .. }))
        ));
        let stale = [g(1, 1, 5, 0, Some(5)), g(1, 2, 5, 6, Some(9))];
        assert_eq!(
            check_mutex(&stale),
            Ok(Err(MutexViolation::TokenNotIncreasing {
                lock: 1,
                earlier: 0,
                later: 1
            }))
        );
        // Listed out of order: sorted by acquisition first.
        let unordered = [g(1, 2, 2, 10, None), g(1, 1, 3, 0, Some(5))];
        assert_eq!(
            check_mutex(&unordered),
            Ok(Err(MutexViolation::TokenNotIncreasing {
                lock: 1,
                earlier: 1,
                later: 0
            }))
        );
    }

    #[test]
    fn malformed_records_are_errors() {
        let bad = [g(1, 1, 1, 10, Some(5))];
        assert_eq!(
            check_mutex(&bad),
            Err(SimError::CompletionBeforeInvocation {
                op: 0,
                invoked: 10,
                completed: 5
            })
        );
    }
}
