//! Entries the application has persisted and the node has not yet handed
//! out to apply, kept in memory: in steady state every entry is committed
//! shortly after it is persisted, so the apply hand-off moves it from here
//! instead of reading it back from storage (a disk read for a real log),
//! and appends to a follower that is a little behind are served from here
//! too.

use std::collections::VecDeque;

use crate::types::{Entry, Index, Term};

#[derive(Debug, Clone, Default)]
pub(crate) struct Recent {
    /// Invariant: consecutive indexes, each persisted exactly as stored;
    /// when not empty, the last one is just before the unstable part.
    entries: VecDeque<Entry>,
    /// Invariant: the sum of `Entry::size_bytes` over `entries`.
    bytes: u64,
    /// Oldest entries are dropped (storage still has them) past this.
    limit_bytes: u64,
}

impl Recent {
    pub(crate) fn with_limit(limit_bytes: u64) -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            limit_bytes,
        }
    }

    /// The index of the oldest entry kept.
    pub(crate) fn first_index(&self) -> Option<Index> {
        self.entries.front().map(|e| e.index)
    }

    /// Keeps newly persisted entries, in index order: one pass, one check
    /// that they follow the run, one check of the limit.
    pub(crate) fn extend(&mut self, entries: impl Iterator<Item = Entry>) {
        let mut entries = entries.peekable();
        let Some(first) = entries.peek() else {
            return;
        };
        let follows = self
            .entries
            .back()
            .is_none_or(|last| last.index.checked_add(1) == Some(first.index));
        if !follows {
            self.clear();
        }
        let mut added = 0u64;
        for e in entries {
            added = added.saturating_add(e.size_bytes());
            self.entries.push_back(e);
        }
        self.bytes = self.bytes.saturating_add(added);
        if self.bytes > self.limit_bytes {
            self.shrink_to_half_limit();
        }
    }

    /// Drops the older entries so at most half the limit stays (at least
    /// one entry): a long run over the limit costs amortized O(1) per
    /// entry.
    fn shrink_to_half_limit(&mut self) {
        let mut keep_bytes = 0u64;
        let mut keep = 0;
        for e in self.entries.iter().rev() {
            keep_bytes = keep_bytes.saturating_add(e.size_bytes());
            if keep > 0 && keep_bytes > self.limit_bytes / 2 {
                break;
            }
            keep += 1;
        }
        let cut = self.entries.len() - keep;
        self.drop_front(cut);
    }

    /// Drops the oldest `n` entries.
    fn drop_front(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(e) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(e.size_bytes());
            }
        }
    }

    /// Forgets entries from `index` on: they are being replaced.
    pub(crate) fn truncate_from(&mut self, index: Index) {
        if self.entries.back().is_none_or(|e| e.index < index) {
            return; // the usual case: nothing kept is replaced
        }
        let keep = self
            .entries
            .iter()
            .rposition(|e| e.index < index)
            .map_or(0, |k| k + 1);
        for e in self.entries.drain(keep..) {
            self.bytes = self.bytes.saturating_sub(e.size_bytes());
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Whether entry `index` is kept.
    pub(crate) fn covers(&self, index: Index) -> bool {
        self.first_index()
            .is_some_and(|first| first <= index && index - first < self.entries.len() as Index)
    }

    /// The term of entry `index`, when it is kept.
    pub(crate) fn term(&self, index: Index) -> Option<Term> {
        let first = self.first_index()?;
        let k = usize::try_from(index.checked_sub(first)?).ok()?;
        self.entries.get(k).map(|e| e.term)
    }

    /// Moves out entries `lo..hi` within `max_bytes` (at least one), when
    /// `lo` is kept; entries before `lo` are dropped (handed out already).
    /// Stops early where the kept run ends.
    pub(crate) fn take(&mut self, lo: Index, hi: Index, max_bytes: u64) -> Option<Vec<Entry>> {
        if lo >= hi || !self.covers(lo) {
            return None;
        }
        let first = self.first_index()?;
        // Entries before `lo` were handed out already.
        self.drop_front((lo - first) as usize);
        let (mut used, mut taken) = (0u64, 0u64);
        let mut n = 0;
        for e in &self.entries {
            used = used.saturating_add(e.size_bytes());
            if e.index >= hi || (n > 0 && used > max_bytes) {
                break;
            }
            taken = used;
            n += 1;
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.extend(self.entries.pop_front());
        }
        self.bytes = self.bytes.saturating_sub(taken);
        Some(out)
    }

    /// Appends clones of entries `lo..hi` to `out`, stopping at `max_bytes`
    /// (counting what `out` holds; at least one entry overall) or where the
    /// kept run ends. Returns the index after the last one appended.
    pub(crate) fn clone_into(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        out: &mut Vec<Entry>,
    ) -> Index {
        let Some(first) = self.first_index().filter(|_| self.covers(lo)) else {
            return lo;
        };
        let mut used: u64 = out.iter().map(Entry::size_bytes).sum();
        let mut next = lo;
        for e in self.entries.range((lo - first) as usize..) {
            used = used.saturating_add(e.size_bytes());
            if e.index >= hi || (!out.is_empty() && used > max_bytes) {
                break;
            }
            out.push(e.clone());
            next = e.index + 1;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Payload;

    fn e(index: Index) -> Entry {
        Entry {
            term: 1,
            index,
            payload: Payload::Command(vec![0; 84].into()),
        }
    }

    #[test]
    fn keeps_a_consecutive_run_within_its_limit() {
        let mut r = Recent::with_limit(300); // 100 bytes per entry
        for i in 1..=3 {
            r.extend(std::iter::once(e(i)));
        }
        assert_eq!(r.first_index(), Some(1), "within the limit");
        r.extend(std::iter::once(e(4)));
        assert_eq!(r.first_index(), Some(4), "past it, the older half goes");
        r.extend(std::iter::once(e(5)));
        assert_eq!(r.first_index(), Some(4));
        r.extend(std::iter::once(e(9)));
        assert_eq!(r.first_index(), Some(9), "a gap starts afresh");
        assert!(r.covers(9) && !r.covers(8) && !r.covers(10));
    }

    #[test]
    fn take_moves_out_a_range_and_drops_what_came_before() {
        let mut r = Recent::with_limit(u64::MAX);
        for i in 1..=6 {
            r.extend(std::iter::once(e(i)));
        }
        assert!(r.take(0, 3, u64::MAX).is_none(), "0 is not kept");
        let got: Vec<Index> = r.take(2, 5, 250).unwrap().iter().map(|e| e.index).collect();
        assert_eq!(got, [2, 3], "within 250 bytes");
        assert_eq!(r.first_index(), Some(4));
        let got: Vec<Index> = r
            .take(4, 9, u64::MAX)
            .unwrap()
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(got, [4, 5, 6], "stops where the run ends");
    }

    #[test]
    fn truncation_forgets_replaced_entries() {
        let mut r = Recent::with_limit(u64::MAX);
        for i in 1..=6 {
            r.extend(std::iter::once(e(i)));
        }
        r.truncate_from(4);
        assert!(r.covers(3) && !r.covers(4));
        let mut out = Vec::new();
        assert_eq!(r.clone_into(2, 9, u64::MAX, &mut out), 4);
        assert_eq!(out.len(), 2);
    }
}
