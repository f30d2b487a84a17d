//! Entries the application has persisted and the node has not yet handed
//! out to apply, kept in memory: in steady state every entry is committed
//! shortly after it is persisted, so the apply hand-off moves it from here
//! instead of reading it back from storage (a disk read for a real log),
//! and appends to a follower that is a little behind are served from here
//! too.

use crate::types::{Entry, Index, Term, entry_bytes};

#[derive(Debug, Clone, Default)]
pub(crate) struct Recent {
    /// Invariant: consecutive indexes, each persisted exactly as stored;
    /// when not empty, the last one is just before the unstable part.
    ///
    /// A `Vec` rather than a `VecDeque`: entries leave from the front in
    /// runs, and moving a run out of a `Vec` (a bulk copy, then one
    /// `memmove` of the rest, usually a batch or two) measured faster than
    /// a deque's element-by-element drain. A removal from the front moves
    /// what stays: entries persisted and not yet committed, and at most
    /// the limit's worth (four messages' bytes), so each entry is moved a
    /// bounded number of times.
    entries: Vec<Entry>,
    /// Invariant: the sum of `Entry::size_bytes` over `entries`.
    bytes: u64,
    /// Oldest entries are dropped (storage still has them) past this.
    limit_bytes: u64,
}

impl Recent {
    pub(crate) fn with_limit(limit_bytes: u64) -> Self {
        Self {
            entries: Vec::new(),
            bytes: 0,
            limit_bytes,
        }
    }

    /// The index of the oldest entry kept.
    pub(crate) fn first_index(&self) -> Option<Index> {
        self.entries.first().map(|e| e.index)
    }

    /// Keeps newly persisted entries, in index order: one check that they
    /// follow the run, one pass over their sizes, one bulk move, one check
    /// of the limit. Takes the drain itself (rather than any iterator) so
    /// the sizes are read in place and the move is a single reserved copy:
    /// an iterator peeked for its first entry moved every entry through
    /// the stack, a tenth of the 64-proposal benchmark's time.
    pub(crate) fn extend(&mut self, entries: std::vec::Drain<'_, Entry>) {
        let Some(first) = entries.as_slice().first() else {
            return;
        };
        let follows = self
            .entries
            .last()
            .is_none_or(|last| last.index.checked_add(1) == Some(first.index));
        if !follows {
            self.clear();
        }
        let added = entries
            .as_slice()
            .iter()
            .fold(0u64, |sum, e| sum.saturating_add(entry_bytes(e)));
        self.entries.extend(entries);
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
            keep_bytes = keep_bytes.saturating_add(entry_bytes(e));
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
        let n = n.min(self.entries.len());
        let dropped = self.entries[..n]
            .iter()
            .fold(0u64, |sum, e| sum.saturating_add(entry_bytes(e)));
        self.entries.drain(..n);
        self.bytes = self.bytes.saturating_sub(dropped);
    }

    /// Forgets entries from `index` on: they are being replaced.
    pub(crate) fn truncate_from(&mut self, index: Index) {
        if self.entries.last().is_none_or(|e| e.index < index) {
            return; // the usual case: nothing kept is replaced
        }
        let keep = self
            .entries
            .iter()
            .rposition(|e| e.index < index)
            .map_or(0, |k| k + 1);
        for e in self.entries.drain(keep..) {
            self.bytes = self.bytes.saturating_sub(entry_bytes(&e));
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

    /// Moves entries `lo..hi` within `max_bytes` (at least one) into the
    /// empty `out`, when `lo` is kept (returns whether it was); entries
    /// before `lo` are dropped (handed out already). Stops early where the
    /// kept run ends.
    pub(crate) fn take(
        &mut self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        out: &mut Vec<Entry>,
    ) -> bool {
        if lo >= hi || !self.covers(lo) {
            return false;
        }
        let Some(first) = self.first_index() else {
            return false;
        };
        // Entries before `lo` were handed out already.
        self.drop_front((lo - first) as usize);
        let (mut used, mut taken) = (0u64, 0u64);
        let mut n = 0;
        for e in &self.entries {
            used = used.saturating_add(entry_bytes(e));
            if e.index >= hi || (n > 0 && used > max_bytes) {
                break;
            }
            taken = used;
            n += 1;
        }
        out.extend(self.entries.drain(..n));
        self.bytes = self.bytes.saturating_sub(taken);
        true
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
        let mut used: u64 = out.iter().map(entry_bytes).sum();
        let run = &self.entries[(lo - first) as usize..];
        // Count first, then clone the run in one `extend`, which writes
        // each clone in place (a `push` per clone goes through the stack).
        let mut n = 0;
        for e in run {
            used = used.saturating_add(entry_bytes(e));
            if e.index >= hi || ((n > 0 || !out.is_empty()) && used > max_bytes) {
                break;
            }
            n += 1;
        }
        out.extend(run[..n].iter().cloned());
        lo + n as Index
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
            r.extend(vec![e(i)].drain(..));
        }
        assert_eq!(r.first_index(), Some(1), "within the limit");
        r.extend(vec![e(4)].drain(..));
        assert_eq!(r.first_index(), Some(4), "past it, the older half goes");
        r.extend(vec![e(5)].drain(..));
        assert_eq!(r.first_index(), Some(4));
        r.extend(vec![e(9)].drain(..));
        assert_eq!(r.first_index(), Some(9), "a gap starts afresh");
        assert!(r.covers(9) && !r.covers(8) && !r.covers(10));
    }

    #[test]
    fn take_moves_out_a_range_and_drops_what_came_before() {
        let mut r = Recent::with_limit(u64::MAX);
        for i in 1..=6 {
            r.extend(vec![e(i)].drain(..));
        }
        let taken = |r: &mut Recent, lo, hi, max| {
            let mut out = Vec::new();
            r.take(lo, hi, max, &mut out)
                .then(|| out.iter().map(|e| e.index).collect::<Vec<Index>>())
        };
        assert_eq!(taken(&mut r, 0, 3, u64::MAX), None, "0 is not kept");
        let got = taken(&mut r, 2, 5, 250).unwrap();
        assert_eq!(got, [2, 3], "within 250 bytes");
        assert_eq!(r.first_index(), Some(4));
        let got = taken(&mut r, 4, 9, u64::MAX).unwrap();
        assert_eq!(got, [4, 5, 6], "stops where the run ends");
    }

    /// The byte count is what the limit acts on: after every kind of
    /// change it must equal the sum over the entries kept.
    #[test]
    fn the_byte_count_follows_every_change() {
        let sum = |r: &Recent| r.entries.iter().map(entry_bytes).sum::<u64>();
        let mut r = Recent::with_limit(1_000); // ten entries of 100 bytes
        let mut unstable: Vec<Entry> = (1..=8).map(e).collect();
        r.extend(unstable.drain(..5));
        assert_eq!((r.bytes, sum(&r)), (500, 500));
        assert_eq!(unstable.len(), 3, "only the drained run moved");
        r.extend(unstable.drain(..));
        assert_eq!((r.bytes, sum(&r)), (800, 800));
        let mut got = Vec::new();
        assert!(r.take(3, 6, u64::MAX, &mut got));
        assert_eq!(got.iter().map(|e| e.index).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(
            r.bytes,
            sum(&r),
            "taken and skipped entries leave the count"
        );
        assert_eq!(r.bytes, 300);
        r.truncate_from(8);
        assert_eq!((r.bytes, sum(&r)), (200, 200));
        r.extend((8..=20).map(e).collect::<Vec<_>>().drain(..));
        assert!(r.bytes <= 1_000, "past the limit it shrinks");
        assert_eq!(r.bytes, sum(&r));
        assert_eq!(
            r.entries.last().map(|e| e.index),
            Some(20),
            "the newest stay"
        );
        r.extend(vec![e(40)].drain(..));
        assert_eq!(
            (r.bytes, sum(&r), r.first_index()),
            (100, 100, Some(40)),
            "a gap restarts"
        );
    }

    /// `clone_into` counts what `out` already holds against the limit,
    /// gives at least one entry overall, and stops at `hi` or the run's end.
    #[test]
    fn clone_into_obeys_hi_the_limit_and_what_out_holds() {
        let mut r = Recent::with_limit(u64::MAX);
        r.extend((3..=7).map(e).collect::<Vec<_>>().drain(..)); // 100 bytes each
        let ids = |out: &[Entry]| out.iter().map(|e| e.index).collect::<Vec<_>>();
        let mut out = Vec::new();
        assert_eq!(r.clone_into(3, 6, u64::MAX, &mut out), 6);
        assert_eq!(ids(&out), [3, 4, 5], "stops before hi");
        let mut out = Vec::new();
        assert_eq!(r.clone_into(4, 99, 0, &mut out), 5, "at least one");
        assert_eq!(ids(&out), [4]);
        let mut out = vec![e(2)];
        assert_eq!(r.clone_into(3, 99, 250, &mut out), 4, "out's 100 count");
        assert_eq!(ids(&out), [2, 3]);
        let mut out = vec![e(2)];
        assert_eq!(r.clone_into(3, 99, 100, &mut out), 3, "out is full");
        assert_eq!(ids(&out), [2]);
        let mut out = Vec::new();
        assert_eq!(r.clone_into(6, 99, u64::MAX, &mut out), 8, "the run ends");
        assert_eq!(ids(&out), [6, 7]);
        assert_eq!(
            r.clone_into(2, 99, u64::MAX, &mut Vec::new()),
            2,
            "2 not kept"
        );
    }

    /// Past the limit the newest entries that fit in half of it stay (a
    /// run of exactly half included), and always at least one, however
    /// large.
    #[test]
    fn shrinking_keeps_the_newest_half_limit_and_at_least_one_entry() {
        let mut r = Recent::with_limit(1_000); // 100 bytes per entry
        r.extend((1..=11).map(e).collect::<Vec<_>>().drain(..));
        assert_eq!((r.first_index(), r.bytes), (Some(7), 500), "7..=11 fit");
        let mut r = Recent::with_limit(300);
        let large = Entry {
            payload: Payload::Command(vec![0; 384].into()),
            ..e(1)
        };
        r.extend(vec![large].drain(..));
        assert_eq!((r.first_index(), r.bytes), (Some(1), 400), "kept alone");
    }

    /// `term` answers from the kept run only.
    #[test]
    fn term_answers_for_kept_entries_only() {
        let mut r = Recent::with_limit(u64::MAX);
        let mut entries: Vec<Entry> = (4..=6).map(|i| Entry { term: i, ..e(i) }).collect();
        r.extend(entries.drain(..));
        assert_eq!(
            (3..=7).map(|i| r.term(i)).collect::<Vec<_>>(),
            [None, Some(4), Some(5), Some(6), None]
        );
    }

    /// Both hand-outs fill `max_bytes` exactly when the entries fit it
    /// exactly, and `take` gives one entry however small the limit.
    #[test]
    fn hand_outs_fill_the_limit_exactly_and_take_at_least_one() {
        let mut r = Recent::with_limit(u64::MAX);
        r.extend((1..=6).map(e).collect::<Vec<_>>().drain(..)); // 100 bytes each
        let mut out = Vec::new();
        assert_eq!(r.clone_into(1, 99, 300, &mut out), 4);
        assert_eq!(out.len(), 3, "three entries of 100 in 300 bytes");
        let mut out = Vec::new();
        assert!(r.take(1, 99, 300, &mut out));
        assert_eq!(out.iter().map(|e| e.index).collect::<Vec<_>>(), [1, 2, 3]);
        let mut out = Vec::new();
        assert!(r.take(4, 99, 0, &mut out));
        assert_eq!(
            out.iter().map(|e| e.index).collect::<Vec<_>>(),
            [4],
            "at least one"
        );
    }

    #[test]
    fn truncation_forgets_replaced_entries() {
        let mut r = Recent::with_limit(u64::MAX);
        for i in 1..=6 {
            r.extend(vec![e(i)].drain(..));
        }
        r.truncate_from(4);
        assert!(r.covers(3) && !r.covers(4));
        let mut out = Vec::new();
        assert_eq!(r.clone_into(2, 9, u64::MAX, &mut out), 4);
        assert_eq!(out.len(), 2);
    }
}
