//! A sorted array of hash points with a radix index, shared by the ring and
//! multi-probe hashing.
//!
//! Lookup is a binary search over a sorted `Vec`, narrowed first by a table
//! indexed with the top bits of the hash (about one point per bucket), so a
//! lookup touches one index entry and a run of one or two points instead of
//! walking `log2(points)` levels of cold memory.

/// One point on the circle: a position and the slot of the node owning it.
///
/// The derived order (hash, then slot) is the circle's order; because slots
/// are node ranks, two nodes on the same position are ordered by node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Point {
    pub(crate) hash: u64,
    pub(crate) slot: u32,
}

/// Top-bit buckets are capped at 2^24 (64 MiB of index at most).
const MAX_INDEX_BITS: u32 = 24;

#[derive(Debug, Clone)]
pub(crate) struct SortedPoints {
    /// Invariant: sorted by (hash, slot).
    points: Vec<Point>,
    /// Invariant: `index.len() == (1 << (64 - shift)) + 1` and `index[b]` is
    /// the first position whose point has `hash >> shift >= b`.
    index: Vec<u32>,
    shift: u32,
}

impl SortedPoints {
    pub(crate) fn new() -> Self {
        Self::from_unsorted(Vec::new())
    }

    pub(crate) fn from_unsorted(mut points: Vec<Point>) -> Self {
        points.sort_unstable();
        let mut this = Self {
            points,
            index: Vec::new(),
            shift: 63,
        };
        this.rebuild_index();
        this
    }

    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    pub(crate) fn get(&self, pos: usize) -> Point {
        self.points[pos]
    }

    /// Position of the first point at or after `hash` going clockwise,
    /// wrapping to the start; `None` when there are no points.
    #[inline]
    pub(crate) fn successor(&self, hash: u64) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let bucket = (hash >> self.shift) as usize;
        let lo = self.index[bucket] as usize;
        let hi = self.index[bucket + 1] as usize;
        // Every point past `hi` lies in a later bucket, so it is > hash.
        let pos = lo + self.points[lo..hi].partition_point(|p| p.hash < hash);
        Some(if pos == self.points.len() { 0 } else { pos })
    }

    /// Adds a new node's points at `slot`, renumbering the slots above it.
    ///
    /// One pass over the existing points and an in-place merge: existing
    /// points are never rehashed or re-sorted.
    pub(crate) fn insert_slot(&mut self, slot: u32, mut added: Vec<Point>) {
        for p in &mut self.points {
            if p.slot >= slot {
                p.slot += 1;
            }
        }
        for p in &mut added {
            p.slot = slot;
        }
        added.sort_unstable();
        let old_len = self.points.len();
        self.points
            .resize(old_len + added.len(), Point { hash: 0, slot: 0 });
        // Merge from the back so nothing is overwritten before it is moved.
        let (mut i, mut j, mut w) = (old_len, added.len(), old_len + added.len());
        while j > 0 {
            w -= 1;
            if i > 0 && self.points[i - 1] > added[j - 1] {
                self.points[w] = self.points[i - 1];
                i -= 1;
            } else {
                self.points[w] = added[j - 1];
                j -= 1;
            }
        }
        self.rebuild_index();
    }

    /// Removes every point of `slot`, renumbering the slots above it.
    pub(crate) fn remove_slot(&mut self, slot: u32) {
        self.points.retain_mut(|p| {
            if p.slot == slot {
                return false;
            }
            if p.slot > slot {
                p.slot -= 1;
            }
            true
        });
        self.rebuild_index();
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.points.capacity() * size_of::<Point>() + self.index.capacity() * size_of::<u32>()
    }

    fn rebuild_index(&mut self) {
        let len = self.points.len();
        // About one point per bucket: bits = ceil(log2(len)), at least 1.
        let bits = (usize::BITS - len.saturating_sub(1).leading_zeros()).clamp(1, MAX_INDEX_BITS);
        self.shift = 64 - bits;
        let buckets = 1usize << bits;
        self.index.clear();
        self.index.reserve_exact(buckets + 1);
        let mut pos = 0usize;
        for bucket in 0..=buckets {
            while pos < len && ((self.points[pos].hash >> self.shift) as usize) < bucket {
                pos += 1;
            }
            // Positions fit: structures cap their point count below u32::MAX.
            self.index.push(pos as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_successor(points: &[Point], hash: u64) -> Option<usize> {
        if points.is_empty() {
            return None;
        }
        Some(points.iter().position(|p| p.hash >= hash).unwrap_or(0))
    }

    #[test]
    fn successor_matches_linear_scan() {
        let mut rng = crate::KeySample::new(1);
        for len in [0usize, 1, 2, 3, 7, 64, 1000] {
            let pts: Vec<Point> = (0..len)
                .map(|i| Point {
                    hash: rng.next().unwrap(),
                    slot: i as u32,
                })
                .collect();
            let sp = SortedPoints::from_unsorted(pts);
            for _ in 0..2000 {
                let h = rng.next().unwrap();
                assert_eq!(
                    sp.successor(h),
                    naive_successor(&sp.points, h),
                    "len {len} h {h}"
                );
            }
            for edge in [0, u64::MAX] {
                assert_eq!(sp.successor(edge), naive_successor(&sp.points, edge));
            }
        }
    }

    #[test]
    fn insert_and_remove_keep_order_and_slots() {
        let mut sp = SortedPoints::new();
        let mk = |hs: &[u64]| {
            hs.iter()
                .map(|&hash| Point { hash, slot: 0 })
                .collect::<Vec<_>>()
        };
        sp.insert_slot(0, mk(&[50, 10]));
        sp.insert_slot(0, mk(&[10, 70])); // collides with slot 1's point at 10
        assert_eq!(
            sp.points,
            vec![
                Point { hash: 10, slot: 0 },
                Point { hash: 10, slot: 1 },
                Point { hash: 50, slot: 1 },
                Point { hash: 70, slot: 0 },
            ]
        );
        sp.remove_slot(0);
        assert_eq!(
            sp.points,
            vec![Point { hash: 10, slot: 0 }, Point { hash: 50, slot: 0 }]
        );
        assert_eq!(sp.successor(11), Some(1));
        assert_eq!(sp.successor(51), Some(0));
    }
}
