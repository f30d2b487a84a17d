//! The newest entries, kept in memory: they share their payload buffers
//! with what the caller appended, so keeping them costs no copy.
//!
//! Invariant: `entries` are consecutive and end at the log's last index.

use std::collections::VecDeque;

use synod_protocol::{Entry, Index};

/// A byte-bounded window onto the end of the log.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    entries: VecDeque<Entry>,
    bytes: u64,
}

impl Recent {
    /// Index of the oldest entry held, if any.
    pub(crate) fn first(&self) -> Option<Index> {
        self.entries.front().map(|e| e.index)
    }

    /// Appends `entries` (the next indexes, in order) and drops the oldest
    /// entries while over `limit_bytes`, keeping any at or after
    /// `keep_from` (entries not yet written to a file, readable nowhere
    /// else). One trim for the batch leaves what a trim after each entry
    /// would: the shortest prefix whose removal brings the bytes under the
    /// limit.
    pub(crate) fn extend(&mut self, entries: Vec<Entry>, limit_bytes: u64, keep_from: Index) {
        self.bytes += entries.iter().map(Entry::size_bytes).sum::<u64>();
        self.entries.extend(entries);
        self.trim(limit_bytes, keep_from);
    }

    /// Drops the oldest entries while over `limit_bytes`, keeping those at
    /// or after `keep_from`.
    pub(crate) fn trim(&mut self, limit_bytes: u64, keep_from: Index) {
        while self.bytes > limit_bytes {
            match self.entries.front() {
                Some(e) if e.index < keep_from => {
                    self.bytes -= e.size_bytes();
                    self.entries.pop_front();
                }
                _ => break,
            }
        }
    }

    /// Drops the entries at `index` and after.
    pub(crate) fn truncate_from(&mut self, index: Index) {
        while let Some(e) = self.entries.back() {
            if e.index < index {
                break;
            }
            self.bytes -= e.size_bytes();
            self.entries.pop_back();
        }
    }

    /// Drops the entries at `index` and before.
    pub(crate) fn drop_through(&mut self, index: Index) {
        while let Some(e) = self.entries.front() {
            if e.index > index {
                break;
            }
            self.bytes -= e.size_bytes();
            self.entries.pop_front();
        }
    }

    /// Drops everything.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// The entry at `index`, if held.
    pub(crate) fn get(&self, index: Index) -> Option<&Entry> {
        let first = self.first()?;
        let at = usize::try_from(index.checked_sub(first)?).ok()?;
        self.entries.get(at)
    }
}
