//! Where each live entry is on disk, in memory: 4 bytes per entry (its
//! record's offset in its segment) plus 16 bytes per run of equal terms.
//!
//! Invariant: the live entries are `base_index + 1 ..= last_index`, split
//! over the segments in order, each segment holding a contiguous (possibly
//! empty) range; `term_runs` covers exactly those indexes.

use synod_protocol::{Index, Term};

/// One segment's live entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SegmentEntries {
    /// The index of the first live entry (or where it would be, when empty).
    pub(crate) first: Index,
    /// Record-data offset of each live entry's record, in index order.
    pub(crate) starts: Vec<u32>,
}

impl SegmentEntries {
    /// One past the last live index.
    pub(crate) fn end(&self) -> Index {
        self.first + self.starts.len() as Index
    }
}

/// The in-memory index of the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogIndex {
    /// Index of the entry just before the first live one (a snapshot's or
    /// a compaction's).
    pub(crate) base_index: Index,
    /// Its term (`None` only while recovery has not learned it yet).
    pub(crate) base_term: Option<Term>,
    /// Per segment, oldest first; the last is the active segment.
    pub(crate) segments: Vec<SegmentEntries>,
    /// (first index, term) of each run of equal terms, ascending.
    term_runs: Vec<(Index, Term)>,
}

impl LogIndex {
    /// An empty log after `(base_index, base_term)` with one empty segment.
    pub(crate) fn new(base_index: Index, base_term: Option<Term>) -> Self {
        Self {
            base_index,
            base_term,
            segments: vec![SegmentEntries {
                first: base_index + 1,
                starts: Vec::new(),
            }],
            term_runs: Vec::new(),
        }
    }

    /// The last live index (`base_index` when there is none).
    pub(crate) fn last_index(&self) -> Index {
        self.segments
            .last()
            .map_or(self.base_index, |s| s.end() - 1)
    }

    /// Live entries.
    pub(crate) fn len(&self) -> u64 {
        self.last_index() - self.base_index
    }

    /// Starts a new, empty active segment.
    pub(crate) fn open_segment(&mut self) {
        let first = self.last_index() + 1;
        self.segments.push(SegmentEntries {
            first,
            starts: Vec::new(),
        });
    }

    /// Adds entry `last_index + 1` at `start` in the active segment.
    pub(crate) fn push(&mut self, index: Index, term: Term, start: u32) {
        debug_assert_eq!(index, self.last_index() + 1, "push not after the last");
        if self.term_runs.last().is_none_or(|&(_, t)| t != term) {
            self.term_runs.push((index, term));
        }
        let active = self.segments.last_mut().expect("an active segment");
        if active.starts.is_empty() {
            active.first = index;
        }
        active.starts.push(start);
    }

    /// Discards the entries at `index` and after (`base_index < index`).
    pub(crate) fn truncate_from(&mut self, index: Index) {
        debug_assert!(self.base_index < index, "truncate below the base");
        for seg in self.segments.iter_mut().rev() {
            if seg.first >= index {
                seg.starts.clear();
                seg.first = index;
            } else {
                let keep = (index - seg.first).min(seg.starts.len() as u64) as usize;
                seg.starts.truncate(keep);
                break;
            }
        }
        let runs = self.term_runs.partition_point(|&(start, _)| start < index);
        self.term_runs.truncate(runs);
    }

    /// Empties the log: it continues after `(index, term)`.
    pub(crate) fn reset(&mut self, index: Index, term: Option<Term>) {
        for seg in &mut self.segments {
            seg.starts = Vec::new();
            seg.first = index + 1;
        }
        self.term_runs.clear();
        self.base_index = index;
        self.base_term = term;
    }

    /// Drops the entries up to and including `index`, which becomes the
    /// base (`base_index < index <= last_index`).
    pub(crate) fn compact(&mut self, index: Index) {
        let term = self.term(index);
        for seg in &mut self.segments {
            if seg.end() <= index + 1 {
                seg.starts = Vec::new();
                seg.first = index + 1;
            } else {
                let drop = (index + 1).saturating_sub(seg.first) as usize;
                seg.starts.drain(..drop);
                seg.first = seg.first.max(index + 1);
                break;
            }
        }
        let runs = self.term_runs.partition_point(|&(start, _)| start <= index);
        // The run holding `index + 1` starts at or before it: keep it.
        let keep_from = runs.saturating_sub(1);
        self.term_runs.drain(..keep_from);
        if let Some(first) = self.term_runs.first_mut() {
            first.0 = first.0.max(index + 1);
        }
        self.base_index = index;
        self.base_term = term;
    }

    /// The term of `index`, if it is the base or a live entry.
    pub(crate) fn term(&self, index: Index) -> Option<Term> {
        if index == self.base_index {
            return self.base_term;
        }
        if index < self.base_index || index > self.last_index() {
            return None;
        }
        let run = self.term_runs.partition_point(|&(start, _)| start <= index);
        Some(self.term_runs[run - 1].1)
    }

    /// The segment (position in `segments`) holding live entry `index`.
    pub(crate) fn segment_of(&self, index: Index) -> Option<usize> {
        let pos = self.segments.partition_point(|s| s.end() <= index);
        let seg = self.segments.get(pos)?;
        (seg.first <= index && index < seg.end()).then_some(pos)
    }

    /// Bytes this index holds in memory (capacity, not length).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.segments
            .iter()
            .map(|s| size_of::<SegmentEntries>() + s.starts.capacity() * 4)
            .sum::<usize>()
            + self.term_runs.capacity() * size_of::<(Index, Term)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(terms: &[Term]) -> LogIndex {
        let mut ix = LogIndex::new(0, Some(0));
        for (i, &t) in terms.iter().enumerate() {
            ix.push(i as u64 + 1, t, i as u32 * 8);
        }
        ix
    }

    #[test]
    fn terms_follow_pushes_truncations_and_compactions() {
        let mut ix = log(&[1, 1, 2, 2, 2, 3]);
        assert_eq!(ix.term(0), Some(0));
        assert_eq!(ix.term(2), Some(1));
        assert_eq!(ix.term(5), Some(2));
        assert_eq!(ix.term(6), Some(3));
        assert_eq!(ix.term(7), None);
        ix.truncate_from(4);
        assert_eq!(ix.last_index(), 3);
        ix.push(4, 5, 100);
        assert_eq!(ix.term(4), Some(5));
        assert_eq!(ix.term(3), Some(2));
        ix.compact(3);
        assert_eq!(ix.base_index, 3);
        assert_eq!(ix.term(3), Some(2));
        assert_eq!(ix.term(2), None);
        assert_eq!(ix.term(4), Some(5));
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn entries_split_over_segments_are_found_in_theirs() {
        let mut ix = log(&[1, 1, 1]);
        ix.open_segment();
        ix.push(4, 1, 0);
        ix.push(5, 2, 8);
        ix.open_segment();
        assert_eq!(ix.segment_of(3), Some(0));
        assert_eq!(ix.segment_of(4), Some(1));
        assert_eq!(ix.segment_of(5), Some(1));
        assert_eq!(ix.segment_of(6), None);
        // Truncating into the first segment empties the second.
        ix.truncate_from(3);
        ix.push(3, 4, 64);
        assert_eq!(ix.segment_of(3), Some(2));
        assert_eq!(ix.segments[1].starts, Vec::<u32>::new());
        ix.compact(2);
        assert!(ix.segments[0].starts.is_empty());
        assert_eq!(ix.segment_of(3), Some(2));
        assert_eq!(ix.term(2), Some(1));
    }
}
