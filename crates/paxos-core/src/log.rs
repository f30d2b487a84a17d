//! The log as the node sees it: what storage holds, overlaid with what the
//! node appended (or the snapshot it installed) since the last `ready`.
//!
//! The driver writes each `ready`'s write into storage before it feeds the
//! node anything else (the synod-protocol loop), so the overlay only ever
//! holds what the node changed since the last `ready`.

use bytes::Bytes;
use synod_protocol::{Entry, Index, Snapshot, SnapshotMeta, Spare, Storage, StorageError, Term};

#[derive(Debug)]
pub(crate) struct Log<S> {
    pub(crate) storage: S,
    /// Entries replacing storage's from `unstable_from` on.
    unstable: Vec<Entry>,
    unstable_from: Index,
    /// A snapshot replacing everything up to its index.
    snapshot: Option<Snapshot>,
    /// That snapshot's data is staged in storage, not held here (it came
    /// in pieces).
    staged: bool,
    /// Entry buffers handed back, for the next ones filled here.
    spare: Spare<Entry>,
}

/// What changed since the last `ready`, for the driver to write.
pub(crate) struct Unstable {
    /// A snapshot to install, with its data.
    pub(crate) snapshot: Option<Snapshot>,
    /// A snapshot to install from the pieces storage staged.
    pub(crate) staged: Option<SnapshotMeta>,
    pub(crate) entries: Vec<Entry>,
}

impl<S: Storage> Log<S> {
    pub(crate) fn new(storage: S) -> Result<Self, StorageError> {
        let last = storage.last_index()?;
        Ok(Self {
            storage,
            unstable: Vec::new(),
            unstable_from: last + 1,
            snapshot: None,
            staged: false,
            spare: Spare::default(),
        })
    }

    /// Keeps `buffer` (emptied) to be filled again.
    pub(crate) fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        self.spare.give(buffer);
    }

    /// The snapshot index below which nothing is readable.
    fn floor(&self) -> Result<Index, StorageError> {
        match &self.snapshot {
            Some(s) => Ok(s.meta.index),
            None => Ok(self.storage.first_index()? - 1),
        }
    }

    pub(crate) fn first_index(&self) -> Result<Index, StorageError> {
        Ok(self.floor()? + 1)
    }

    pub(crate) fn last_index(&self) -> Result<Index, StorageError> {
        if let Some(e) = self.unstable.last() {
            return Ok(e.index);
        }
        if let Some(s) = &self.snapshot {
            return Ok(s.meta.index);
        }
        // Entries at or past `unstable_from` were replaced by nothing only
        // if none were appended: storage's last is then below it.
        Ok(self.storage.last_index()?.min(self.unstable_from - 1))
    }

    pub(crate) fn term(&self, index: Index) -> Result<Term, StorageError> {
        if index >= self.unstable_from {
            let at = (index - self.unstable_from) as usize;
            return self
                .unstable
                .get(at)
                .map(|e| e.term)
                .ok_or(StorageError::Unavailable {
                    index,
                    last_index: self.unstable_from + self.unstable.len() as u64 - 1,
                });
        }
        if let Some(s) = &self.snapshot {
            return match index.cmp(&s.meta.index) {
                std::cmp::Ordering::Equal => Ok(s.meta.term),
                std::cmp::Ordering::Less => Err(StorageError::Compacted {
                    index,
                    first_index: s.meta.index + 1,
                }),
                // Between the snapshot and the unstable run: nothing.
                std::cmp::Ordering::Greater => Err(StorageError::Unavailable {
                    index,
                    last_index: s.meta.index,
                }),
            };
        }
        if index == 0 {
            return Ok(0);
        }
        self.storage.term(index)
    }

    pub(crate) fn last_term(&self) -> Result<Term, StorageError> {
        self.term(self.last_index()?)
    }

    /// Entries `lo..=hi`, at most `max_bytes` of payload (at least one).
    pub(crate) fn entries(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        self.entries_in(lo, hi, max_bytes, Vec::new())
    }

    /// As [`Log::entries`], in a kept buffer.
    pub(crate) fn entries_reusing(
        &mut self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        let out = if lo <= hi {
            self.spare.take()
        } else {
            Vec::new()
        };
        self.entries_in(lo, hi, max_bytes, out)
    }

    /// As [`Log::entries`], appending to the empty `out`.
    fn entries_in(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        mut out: Vec<Entry>,
    ) -> Result<Vec<Entry>, StorageError> {
        if lo > hi {
            return Ok(out);
        }
        if lo <= self.floor()? {
            return Err(StorageError::Compacted {
                index: lo,
                first_index: self.floor()? + 1,
            });
        }
        let mut bytes = 0u64;
        if lo < self.unstable_from {
            let end = hi.min(self.unstable_from - 1);
            self.storage
                .entries_into(lo, end + 1, max_bytes, &mut out)?;
            bytes = out.iter().map(Entry::size_bytes).sum();
            if out.last().is_none_or(|e| e.index < end) {
                return Ok(out);
            }
        }
        let from = lo.max(self.unstable_from);
        let run = self
            .unstable
            .get((from - self.unstable_from) as usize..)
            .unwrap_or_default();
        // A run is counted first and then cloned in one `extend`, which
        // writes each clone in place: a `push` per clone goes through the
        // stack, a store-forwarding stall per entry (8-10 % of the time at
        // 64 proposals per cycle). A lone entry (one proposal per round)
        // is pushed: there the `extend`'s setup costs more than one stall.
        let mut n = 0;
        for e in run {
            if e.index > hi {
                break;
            }
            let size = e.size_bytes();
            if (!out.is_empty() || n > 0) && bytes.saturating_add(size) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(size);
            n += 1;
        }
        match &run[..n] {
            [one] => out.push(one.clone()),
            many => out.extend(many.iter().cloned()),
        }
        Ok(out)
    }

    /// Appends `entries` (consecutive), replacing everything from the first
    /// one's index on.
    pub(crate) fn append(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first().map(|e| e.index) else {
            return;
        };
        if first >= self.unstable_from && first <= self.unstable_from + self.unstable.len() as u64 {
            let keep = (first - self.unstable_from) as usize;
            if keep == 0 {
                // The common case after a ready took the overlay: the
                // batch becomes it, no copy and no allocation.
                let before = std::mem::replace(&mut self.unstable, entries);
                self.spare.give(before);
            } else {
                self.unstable.truncate(keep);
                self.unstable.extend(entries);
            }
        } else {
            let before = std::mem::replace(&mut self.unstable, entries);
            self.spare.give(before);
            self.unstable_from = first;
        }
    }

    /// Appends one entry right after the last: a proposal, without a
    /// one-entry `Vec` of its own.
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert_eq!(self.last_index().ok().map(|l| l + 1), Some(entry.index));
        if self.unstable.is_empty() {
            self.unstable_from = entry.index;
        }
        self.unstable.push(entry);
    }

    /// Replaces the whole log with `snapshot`.
    pub(crate) fn install(&mut self, snapshot: Snapshot) {
        self.unstable.clear();
        self.unstable_from = snapshot.meta.index + 1;
        self.snapshot = Some(snapshot);
        self.staged = false;
    }

    /// Replaces the whole log with the snapshot storage staged.
    pub(crate) fn install_staged(&mut self, meta: SnapshotMeta) {
        self.install(Snapshot {
            meta,
            data: Bytes::new(),
        });
        self.staged = true;
    }

    /// Hands out what changed since the last call, for the driver to write;
    /// from then on storage holds it.
    pub(crate) fn take_unstable(&mut self) -> Unstable {
        // A leader pushes its proposals into what takes the place.
        let entries = self.spare.hand_out(&mut self.unstable);
        let snapshot = self.snapshot.take();
        self.unstable_from = entries
            .last()
            .map(|e| e.index)
            .or(snapshot.as_ref().map(|s| s.meta.index))
            .map_or(self.unstable_from, |last| last + 1);
        if std::mem::take(&mut self.staged) {
            return Unstable {
                snapshot: None,
                staged: snapshot.map(|s| s.meta),
                entries,
            };
        }
        Unstable {
            snapshot,
            staged: None,
            entries,
        }
    }

    /// Whether anything waits to be written.
    pub(crate) fn has_unstable(&self) -> bool {
        !self.unstable.is_empty() || self.snapshot.is_some()
    }

    /// The index of the latest snapshot (pending or stored); 0 for none.
    pub(crate) fn snapshot_index(&self) -> Index {
        match &self.snapshot {
            Some(s) => s.meta.index,
            None => self
                .storage
                .snapshot_meta(0)
                .map_or(0, |(meta, _)| meta.index),
        }
    }

    /// The latest snapshot: the pending one, or storage's.
    pub(crate) fn snapshot(&self) -> Result<Snapshot, StorageError> {
        match &self.snapshot {
            // Staged, not installed yet: its data is not readable.
            Some(_) if self.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => Ok(s.clone()),
            None => self.storage.snapshot(0),
        }
    }

    /// The latest snapshot's position and size in bytes.
    pub(crate) fn snapshot_meta(&self) -> Result<(SnapshotMeta, u64), StorageError> {
        match &self.snapshot {
            Some(_) if self.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => Ok((s.meta.clone(), s.data.len() as u64)),
            None => self.storage.snapshot_meta(0),
        }
    }

    /// Up to `max_bytes` of the snapshot at `index` from `offset`, while it
    /// is still the latest (see `Storage::snapshot_piece`).
    pub(crate) fn snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        match &self.snapshot {
            Some(_) if self.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => synod_protocol::slice_piece(s, index, offset, max_bytes),
            None => self.storage.snapshot_piece(index, offset, max_bytes),
        }
    }

    /// Whether the entry after `after` was compacted (a peer that far
    /// behind needs the snapshot).
    pub(crate) fn compacted_past(&self, after: Index) -> Result<bool, StorageError> {
        Ok(after < self.floor()?)
    }

    /// The log after `after` for a peer: entries, or this node's snapshot
    /// and the entries after it when `after + 1` was compacted; at most
    /// `max_bytes` of entries (at least one).
    pub(crate) fn suffix(
        &self,
        after: Index,
        max_bytes: u64,
    ) -> Result<crate::message::Suffix, StorageError> {
        let last = self.last_index()?;
        let floor = self.floor()?;
        if after < floor {
            let snapshot = self.snapshot()?;
            let at = snapshot.meta.index;
            let entries = self.entries(at + 1, last, max_bytes)?;
            return Ok(crate::message::Suffix {
                after: at,
                snapshot: Some(Box::new(snapshot)),
                entries,
            });
        }
        Ok(crate::message::Suffix {
            after,
            snapshot: None,
            entries: self.entries(after + 1, last, max_bytes)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use synod_protocol::{MemStorage, Payload};

    use super::*;

    fn e(index: Index, term: Term) -> Entry {
        Entry {
            term,
            index,
            payload: Payload::Command(Bytes::from(vec![index as u8; 4])),
        }
    }

    fn indexes_terms(log: &Log<MemStorage>, lo: Index, hi: Index) -> Vec<(Index, Term)> {
        log.entries(lo, hi, u64::MAX)
            .unwrap()
            .iter()
            .map(|e| (e.index, e.term))
            .collect()
    }

    /// Writes what the log hands out into its storage, as a driver does.
    fn write_out(log: &mut Log<MemStorage>) {
        let unstable = log.take_unstable();
        log.storage.append(unstable.entries).unwrap();
    }

    #[test]
    fn a_batch_after_a_ready_becomes_the_overlay_and_reads_back() {
        let mut log = Log::new(MemStorage::with_voters(&[1, 2, 3])).unwrap();
        log.append(vec![e(1, 1), e(2, 1)]);
        write_out(&mut log);
        // The overlay is empty: the next batch is moved in whole.
        log.append(vec![e(3, 1), e(4, 1)]);
        assert_eq!(log.last_index().unwrap(), 4);
        assert_eq!(
            indexes_terms(&log, 1, 4),
            [(1, 1), (2, 1), (3, 1), (4, 1)],
            "storage's part, then the overlay's"
        );
        // Within the overlay: kept up to the first index, then replaced.
        log.append(vec![e(4, 2), e(5, 2)]);
        assert_eq!(indexes_terms(&log, 3, 5), [(3, 1), (4, 2), (5, 2)]);
        // Below the overlay: storage's entries from 2 on are replaced.
        log.append(vec![e(2, 3)]);
        assert_eq!(log.last_index().unwrap(), 2);
        assert_eq!(indexes_terms(&log, 1, 2), [(1, 1), (2, 3)]);
        let handed = log.take_unstable().entries;
        assert_eq!(handed.len(), 1, "only the replacement is handed out");
        assert_eq!((handed[0].index, handed[0].term), (2, 3));
    }

    #[test]
    fn a_pushed_proposal_follows_the_last_entry_with_or_without_an_overlay() {
        let mut log = Log::new(MemStorage::with_voters(&[1, 2, 3])).unwrap();
        log.append(vec![e(1, 1)]);
        write_out(&mut log);
        log.push(e(2, 1));
        log.push(e(3, 1));
        assert_eq!(indexes_terms(&log, 1, 3), [(1, 1), (2, 1), (3, 1)]);
        let handed: Vec<Index> = log
            .take_unstable()
            .entries
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(handed, [2, 3]);
    }

    /// The overlay's run obeys the same limits as storage's read: `hi`,
    /// at least one entry, then `max_bytes` counted across both parts.
    #[test]
    fn an_overlay_run_stops_at_hi_and_at_the_byte_limit() {
        let mut log = Log::new(MemStorage::with_voters(&[1, 2, 3])).unwrap();
        log.append(vec![e(1, 1), e(2, 1)]);
        write_out(&mut log);
        log.append((3..=7).map(|i| e(i, 1)).collect()); // 20 bytes each
        let got = |lo, hi, max| -> Vec<Index> {
            log.entries(lo, hi, max)
                .unwrap()
                .iter()
                .map(|e| e.index)
                .collect()
        };
        assert_eq!(got(3, 7, u64::MAX), [3, 4, 5, 6, 7]);
        assert_eq!(got(4, 5, u64::MAX), [4, 5], "stops at hi");
        assert_eq!(got(3, 7, 0), [3], "at least one");
        assert_eq!(got(3, 7, 59), [3, 4], "within the limit");
        assert_eq!(got(3, 7, 60), [3, 4, 5]);
        assert_eq!(got(7, 7, 0), [7], "a lone entry");
        // Across storage and the overlay, one limit for both.
        assert_eq!(got(1, 7, 60), [1, 2, 3]);
        assert_eq!(got(2, 7, 20), [2], "storage's entry fills it");
    }

    #[test]
    fn dropping_the_front_keeps_the_rest_in_order() {
        use crate::node::drop_front;
        assert_eq!(drop_front(vec![1, 2, 3], 0), [1, 2, 3]);
        assert_eq!(drop_front(vec![1, 2, 3], 2), [3]);
        assert_eq!(drop_front(vec![1, 2, 3], 3), Vec::<i32>::new());
        assert_eq!(
            drop_front(vec![1, 2, 3], 9),
            Vec::<i32>::new(),
            "past the end: empty"
        );
    }
}
