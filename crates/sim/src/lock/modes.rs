//! The holders' view of read-write locks and semaphores: a writer
//! overlaps nobody, readers overlap only readers, at most `capacity`
//! permits overlap, and a grant that begins after another ended carries a
//! larger token when either is a writer's. (For mutexes alone the run uses [`crate::check_mutex`].)

use std::collections::BTreeMap;

use synod_lock::Mode;

use crate::mutex::LockGrant;

/// The first broken rule: the two grants and what is wrong.
pub(super) fn check_modes(grants: &[LockGrant], modes: &[Mode]) -> Option<(usize, usize, String)> {
    let mut by_lock: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, g) in grants.iter().enumerate() {
        by_lock.entry(g.lock).or_default().push(i);
    }
    let ends = |g: &LockGrant| g.released.unwrap_or(u64::MAX);
    for ids in by_lock.values() {
        for (x, &a) in ids.iter().enumerate() {
            // The most permits held at once is reached at some grant's start.
            if let Mode::Permit { capacity } = modes[a]
                && let Some(&b) = over_capacity(grants, ids, a, capacity)
            {
                return Some((a, b, format!("more than {capacity} permits held")));
            }
            for &b in &ids[x + 1..] {
                let (ga, gb) = (&grants[a], &grants[b]);
                let overlap = ga.acquired < ends(gb) && gb.acquired < ends(ga);
                let writer = modes[a] == Mode::Exclusive || modes[b] == Mode::Exclusive;
                if !overlap {
                    // Readers (or permit holders) granted together learn of
                    // it in any order: tokens order only around a writer.
                    if !writer {
                        continue;
                    }
                    let (first, second) = if ga.acquired <= gb.acquired {
                        (ga, gb)
                    } else {
                        (gb, ga)
                    };
                    if second.token <= first.token {
                        return Some((a, b, "a later holder's token is not larger".to_string()));
                    }
                    continue;
                }
                match (modes[a], modes[b]) {
                    (Mode::Shared, Mode::Shared) | (Mode::Permit { .. }, Mode::Permit { .. }) => {}
                    _ => return Some((a, b, "a writer overlaps another holder".to_string())),
                }
            }
        }
    }
    None
}

/// Another of the lock's grants holding at `a`'s start when, with `a`,
/// more than `capacity` hold then.
fn over_capacity<'g>(
    grants: &[LockGrant],
    ids: &'g [usize],
    a: usize,
    capacity: u32,
) -> Option<&'g usize> {
    let t = grants[a].acquired;
    let mut holding = (ids.iter()).filter(|&&i| {
        i != a && grants[i].acquired <= t && t < grants[i].released.unwrap_or(u64::MAX)
    });
    let others = holding.clone().count();
    if others + 1 > capacity as usize {
        holding.next()
    } else {
        None
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn g(holder: u64, token: u64, acquired: u64, released: u64) -> LockGrant {
        LockGrant {
            lock: 1,
            holder,
            token,
            acquired,
            released: Some(released),
        }
    }

    #[test]
    fn readers_share_writers_do_not_and_permits_count() {
        let (r, w, p) = (Mode::Shared, Mode::Exclusive, Mode::Permit { capacity: 2 });
        assert_eq!(
            check_modes(&[g(1, 1, 0, 10), g(2, 2, 5, 15)], &[r, r]),
            None
        );
        assert!(check_modes(&[g(1, 1, 0, 10), g(2, 2, 5, 15)], &[r, w]).is_some());
        assert!(check_modes(&[g(1, 1, 0, 10), g(2, 2, 10, 15)], &[w, w]).is_none());
        let two = [g(1, 1, 0, 10), g(2, 2, 5, 15)];
        assert_eq!(check_modes(&two, &[p, p]), None);
        let three = [g(1, 1, 0, 10), g(2, 2, 5, 15), g(3, 3, 6, 8)];
        assert!(check_modes(&three, &[p, p, p]).is_some());
        // Three permits, but never more than two at once.
        let staggered = [g(1, 1, 0, 10), g(2, 2, 5, 15), g(3, 3, 10, 12)];
        assert_eq!(check_modes(&staggered, &[p, p, p]), None);
        let stale = [g(1, 5, 0, 10), g(2, 4, 12, 15)];
        assert!(check_modes(&stale, &[w, w]).is_some());
        assert!(check_modes(&stale, &[r, w]).is_some());
        assert_eq!(check_modes(&stale, &[r, r]), None);
    }
}
