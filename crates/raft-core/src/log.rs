//! The Raft log: the persisted part (through [`Storage`]) and the unstable
//! part the application has not written yet, with the commit and apply
//! indexes.

use crate::error::StorageError;
use crate::recent::Recent;
use crate::storage::Storage;
use bytes::Bytes;
use synod_protocol::Spare;

use crate::types::{Entry, Index, Snapshot, SnapshotMeta, Term, entry_bytes};
use crate::unstable::Unstable;

/// What a follower's log did with an append from the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The consistency check failed (Raft §5.3): the log has no entry at
    /// the previous index with the previous term. Nothing changed.
    Mismatch,
    /// The entries are in the log (appended now or already there); the
    /// message vouches for the log up to `last_index`.
    Accepted {
        /// The index of the last entry the message covered.
        last_index: Index,
    },
    /// The entries are not numbered consecutively after the previous
    /// index: a malformed message. Refused; the log is unchanged.
    Malformed,
    /// The entries would replace a committed entry: only a faulty or forged
    /// leader sends that. Refused; the log is unchanged.
    WouldOverwriteCommitted {
        /// The first conflicting index.
        index: Index,
    },
}

/// The log of one node.
///
/// ```text
///   first_index           stable_last         last_index
///       |  storage (persisted) |  unstable (to persist)  |
///   ....[======================][========================]
///              applied <= committed <= last_index
/// ```
#[derive(Debug)]
pub struct RaftLog<S> {
    storage: S,
    unstable: Unstable,
    /// Persisted entries not yet handed out to apply, kept in memory.
    recent: Recent,
    /// Invariant: `applied <= committed <= last_index()`.
    committed: Index,
    /// Invariant: `first_index() - 1 <= applied` after start.
    applied: Index,
    /// Entry buffers handed back, for the next ones handed out.
    spare: Spare<Entry>,
}

impl<S: Storage> RaftLog<S> {
    /// A log over what `storage` holds; committed and applied start just
    /// before the first entry (the snapshot covers what came before).
    ///
    /// # Errors
    /// A storage error.
    pub fn new(storage: S) -> Result<Self, StorageError> {
        let first = storage.first_index()?;
        let last = storage.last_index()?;
        Ok(Self {
            storage,
            unstable: Unstable::new(last + 1),
            recent: Recent::with_limit(u64::MAX),
            committed: first - 1,
            applied: first - 1,
            spare: Spare::default(),
        })
    }

    /// An empty entry buffer, one handed back when there is one.
    pub(crate) fn spare_entries(&mut self) -> Vec<Entry> {
        self.spare.take()
    }

    /// Keeps `buffer` (emptied) for a later [`RaftLog::spare_entries`].
    pub(crate) fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        self.spare.give(buffer);
    }

    /// Bounds the memory kept for persisted entries not yet handed out to
    /// apply (beyond it they are read back from storage).
    pub(crate) fn set_recent_limit_bytes(&mut self, bytes: u64) {
        self.recent = Recent::with_limit(bytes);
    }

    /// The storage, for reading.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, for the application's writes between `ready` rounds.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The highest index known to be committed.
    #[must_use]
    pub fn committed(&self) -> Index {
        self.committed
    }

    /// The highest index the application has applied.
    #[must_use]
    pub fn applied(&self) -> Index {
        self.applied
    }

    /// The first index in the log.
    ///
    /// # Errors
    /// A storage error.
    pub fn first_index(&self) -> Result<Index, StorageError> {
        match self.unstable.maybe_first_index() {
            Some(i) => Ok(i),
            None => self.storage.first_index(),
        }
    }

    /// The last index in the log.
    ///
    /// # Errors
    /// A storage error.
    pub fn last_index(&self) -> Result<Index, StorageError> {
        match self.unstable.maybe_last_index() {
            Some(i) => Ok(i),
            None => self.storage.last_index(),
        }
    }

    /// The term of the last entry.
    ///
    /// # Errors
    /// A storage error.
    pub fn last_term(&self) -> Result<Term, StorageError> {
        self.term(self.last_index()?)
    }

    /// The term of the entry at `index`, from `first_index() - 1` (the
    /// snapshot's) to `last_index()`.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] or [`StorageError::Unavailable`] outside
    /// that range; a storage error.
    pub fn term(&self, index: Index) -> Result<Term, StorageError> {
        // Fast paths, for the terms replication asks about: the unstable
        // part (always inside the log's range), then persisted entries
        // still in memory (unless a snapshot is pending: it redraws the
        // range).
        if let Some(t) = self.unstable.maybe_term(index) {
            return Ok(t);
        }
        if self.unstable.snapshot.is_none()
            && index < self.unstable.offset
            && let Some(t) = self.recent.term(index)
        {
            return Ok(t);
        }
        let first = self.first_index()?;
        if index < first - 1 {
            return Err(StorageError::Compacted {
                index,
                first_index: first,
            });
        }
        let last = self.last_index()?;
        if index > last {
            return Err(StorageError::Unavailable {
                index,
                last_index: last,
            });
        }
        match self.unstable.maybe_term(index) {
            Some(t) => Ok(t),
            None => self.storage.term(index),
        }
    }

    /// Whether the entry at `index` has `term`. Index 0 matches term 0.
    #[must_use]
    pub fn match_term(&self, index: Index, term: Term) -> bool {
        if index == 0 {
            return term == 0;
        }
        self.term(index).is_ok_and(|t| t == term)
    }

    /// Whether a log ending at (`last_index`, `term`) is at least as
    /// up-to-date as this one (Raft §5.4.1): a later last term wins; with
    /// equal last terms the longer log wins.
    ///
    /// # Errors
    /// A storage error.
    pub fn is_up_to_date(&self, last_index: Index, term: Term) -> Result<bool, StorageError> {
        let (our_index, our_term) = (self.last_index()?, self.last_term()?);
        Ok(term > our_term || (term == our_term && last_index >= our_index))
    }

    /// The index of the first of `entries` that this log does not already
    /// hold with the same term, or `None` when it holds them all.
    #[must_use]
    pub fn find_conflict(&self, entries: &[Entry]) -> Option<Index> {
        // Entries past the last index are new: no term lookup for them
        // (the common case, a follower in step). With the last index
        // unknown, every term is looked up.
        let last = self.last_index().unwrap_or(Index::MAX);
        entries
            .iter()
            .find(|e| e.index > last || !self.match_term(e.index, e.term))
            .map(|e| e.index)
    }

    /// For fast backtracking: the largest index at or below `index` whose
    /// term is at or below `term`, and that term. A leader that was refused
    /// at (`index`, `term`) can retry from there, skipping a whole term of
    /// mismatches in one round trip (Raft §5.3, the optimisation after
    /// Figure 7).
    #[must_use]
    pub fn find_conflict_by_term(&self, index: Index, term: Term) -> (Index, Term) {
        let mut i = index.min(self.last_index().unwrap_or(index));
        loop {
            match self.term(i) {
                Ok(t) if t > term && i > 0 => i -= 1,
                Ok(t) => return (i, t),
                // Compacted (or unreadable) below here: stop at this index.
                Err(_) => return (i, 0),
            }
        }
    }

    /// A follower's handling of the leader's entries after
    /// (`prev_index`, `prev_term`) with commit index `leader_commit`
    /// (Raft Figure 2, AppendEntries receiver steps 2-5).
    ///
    /// # Errors
    /// A storage error.
    pub fn maybe_append(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        leader_commit: Index,
        mut entries: Vec<Entry>,
    ) -> Result<AppendOutcome, StorageError> {
        if !self.match_term(prev_index, prev_term) {
            return Ok(AppendOutcome::Mismatch);
        }
        let consecutive = entries
            .iter()
            .enumerate()
            .all(|(k, e)| Some(e.index) == prev_index.checked_add(1 + k as Index));
        if !consecutive {
            return Ok(AppendOutcome::Malformed);
        }
        // Consecutive after a matching entry, so this cannot overflow.
        let last_new = prev_index + entries.len() as Index;
        if let Some(conflict) = self.find_conflict(&entries) {
            if conflict <= self.committed {
                return Ok(AppendOutcome::WouldOverwriteCommitted { index: conflict });
            }
            let from = (conflict - prev_index - 1) as usize;
            entries.drain(..from);
            self.append(entries);
        }
        self.commit_to(leader_commit.min(last_new));
        Ok(AppendOutcome::Accepted {
            last_index: last_new,
        })
    }

    /// Appends entries (the leader's own, or a follower's past a conflict),
    /// replacing the suffix from their first index. Returns the new last
    /// index. Entries at or below the commit index are never replaced.
    pub(crate) fn append(&mut self, mut entries: Vec<Entry>) -> Index {
        if let Some(after) = entries.first().map(|e| e.index) {
            self.check_replaceable(after);
            self.unstable.truncate_and_append(after, &mut entries);
        }
        // The buffer a leader's append arrived in serves the next one
        // handed out here.
        self.spare.give(entries);
        self.last_index().unwrap_or(0)
    }

    /// Appends one entry after the last (a leader's own).
    pub(crate) fn append_one(&mut self, entry: Entry) {
        self.replace_from(entry.index, std::iter::once(entry));
    }

    /// Puts consecutive `entries`, the first at index `after`, in place of
    /// the log from `after` on.
    fn replace_from(&mut self, after: Index, entries: impl IntoIterator<Item = Entry>) {
        self.check_replaceable(after);
        self.unstable.truncate_and_extend(after, entries);
    }

    /// Before the log from `after` on is replaced: it must not hold a
    /// committed entry, and what `recent` keeps from there goes.
    fn check_replaceable(&mut self, after: Index) {
        assert!(
            after > self.committed,
            "append at {after} would replace committed entries (committed {})",
            self.committed
        );
        // Replaced entries must never be handed out from memory.
        self.recent.truncate_from(after);
    }

    /// Raises the commit index to `index` (never lowers it, never past the
    /// last index).
    pub fn commit_to(&mut self, index: Index) {
        let last = self.last_index().unwrap_or(self.committed);
        let index = index.min(last);
        if index > self.committed {
            self.committed = index;
        }
    }

    /// Commits up to `index` if that entry is from `term`: how a leader
    /// commits, counting replicas only for entries of its own term (Raft
    /// §5.4.2, Figure 8).
    pub fn maybe_commit(&mut self, index: Index, term: Term) -> bool {
        if index > self.committed && self.term(index).is_ok_and(|t| t == term) {
            self.commit_to(index);
            return true;
        }
        false
    }

    /// Records that the application applied entries up to `index`
    /// (clamped to the commit index; never lowered).
    pub fn applied_to(&mut self, index: Index) {
        let index = index.min(self.committed);
        if index > self.applied {
            self.applied = index;
        }
    }

    /// Committed entries not yet applied, within `max_bytes` (at least one
    /// when there are any). Entries still unstable are included only when
    /// `include_unstable`: a committed entry is durable on a quorum, so it
    /// may be applied before it is durable here.
    ///
    /// # Errors
    /// A storage error.
    pub fn next_committed_entries(
        &self,
        include_unstable: bool,
        max_bytes: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        self.committed_entries_after(self.applied, include_unstable, max_bytes)
    }

    /// As [`RaftLog::next_committed_entries`], from `after + 1` (entries up
    /// to `after` are already being applied).
    pub(crate) fn committed_entries_after(
        &self,
        after: Index,
        include_unstable: bool,
        max_bytes: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        let (lo, hi) = self.committed_range_after(after, include_unstable)?;
        if lo >= hi {
            return Ok(Vec::new());
        }
        self.slice(lo, hi, max_bytes)
    }

    /// As [`RaftLog::committed_entries_after`] without unstable entries,
    /// moving them out of memory when they are still there (the usual case:
    /// entries commit soon after they are persisted) instead of reading
    /// storage.
    pub(crate) fn take_committed_entries_after(
        &mut self,
        after: Index,
        max_bytes: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        let (lo, hi) = self.committed_range_after(after, false)?;
        let mut out = self.spare.take();
        if self.recent.take(lo, hi, max_bytes, &mut out) {
            return Ok(out);
        }
        self.spare.give(out);
        self.committed_entries_after(after, false, max_bytes)
    }

    /// The range `lo..hi` of committed entries after `after` that can be
    /// handed out (empty when `lo >= hi`). `has_ready` and `ready` both use
    /// it, so they never disagree: entries covered by a pending snapshot are
    /// not entries.
    pub(crate) fn committed_range_after(
        &self,
        after: Index,
        include_unstable: bool,
    ) -> Result<(Index, Index), StorageError> {
        let lo = (after.max(self.applied) + 1).max(self.first_index()?);
        let mut hi = self.committed + 1;
        if !include_unstable {
            hi = hi.min(self.unstable.offset);
        }
        Ok((lo, hi))
    }

    /// Entries `lo..hi` within `max_bytes` (at least one when `lo < hi`),
    /// reading storage for the stable part and the unstable part in memory.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] below the first index,
    /// [`StorageError::Unavailable`] past the last, or a storage error.
    pub fn slice(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        self.slice_counted(lo, hi, max_bytes, Vec::new())
            .map(|(entries, _)| entries)
    }

    /// As [`RaftLog::slice`], in the empty buffer `out`, with the entries'
    /// total [`Entry::size_bytes`].
    pub(crate) fn slice_counted(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        mut out: Vec<Entry>,
    ) -> Result<(Vec<Entry>, u64), StorageError> {
        let first = self.first_index()?;
        if lo < first {
            return Err(StorageError::Compacted {
                index: lo,
                first_index: first,
            });
        }
        let last = self.last_index()?;
        if hi > last + 1 {
            return Err(StorageError::Unavailable {
                index: hi - 1,
                last_index: last,
            });
        }
        if lo >= hi {
            return Ok((out, 0));
        }
        let offset = self.unstable.offset;
        if lo < offset {
            let stable_hi = hi.min(offset);
            // The recent run ends just before `offset`: when it holds `lo`
            // it holds the whole stable part of the range.
            let next = self.recent.clone_into(lo, stable_hi, max_bytes, &mut out);
            if next == lo {
                self.storage
                    .entries_into(lo, stable_hi, max_bytes, &mut out)?;
            }
            let complete = out.len() as Index == stable_hi - lo;
            if !complete || hi <= offset {
                let used = out.iter().map(entry_bytes).sum();
                return Ok((out, used));
            }
        }
        let mut used: u64 = out.iter().map(entry_bytes).sum();
        // Count first, then clone the run in one go.
        let part = self.unstable.slice(lo.max(offset), hi);
        let mut n = 0;
        for e in part {
            let next = used.saturating_add(entry_bytes(e));
            if (n > 0 || !out.is_empty()) && next > max_bytes {
                break;
            }
            used = next;
            n += 1;
        }
        out.extend_from_slice(&part[..n]);
        Ok((out, used))
    }

    /// Entries the application must persist.
    #[must_use]
    pub fn unstable_entries(&self) -> &[Entry] {
        &self.unstable.entries
    }

    /// Unstable entries not yet handed out; marks them handed out.
    pub(crate) fn take_unstable(&mut self) -> Vec<Entry> {
        if !self.unstable.has_new() {
            return Vec::new();
        }
        let out = self.spare.take();
        self.unstable.take_new(out)
    }

    /// Whether unstable entries wait to be handed out.
    pub(crate) fn has_new_unstable(&self) -> bool {
        self.unstable.has_new()
    }

    /// The last index known persisted locally.
    pub(crate) fn persisted_last_index(&self) -> Index {
        self.unstable.offset - 1
    }

    /// A snapshot from the leader the application must install.
    #[must_use]
    pub fn unstable_snapshot(&self) -> Option<&Snapshot> {
        self.unstable.snapshot.as_ref()
    }

    /// Whether the pending snapshot was staged in storage piece by piece
    /// (its `data` is then empty).
    #[must_use]
    pub fn unstable_snapshot_staged(&self) -> bool {
        self.unstable.snapshot.is_some() && self.unstable.staged
    }

    /// The application persisted entries up to (`index`, `term`).
    pub fn stable_to(&mut self, index: Index, term: Term) {
        if let Some(persisted) = self.unstable.stable_to(index, term) {
            self.recent.extend(persisted);
        }
    }

    /// The application installed the snapshot at `index`.
    pub fn stable_snap_to(&mut self, index: Index) {
        self.unstable.stable_snap_to(index);
    }

    /// Replaces the log with a leader's snapshot (which the caller checked
    /// is past the commit index); commit and applied move to its index
    /// once the application installs it, commit at once.
    pub fn restore(&mut self, snapshot: Snapshot) {
        self.restore_from(snapshot, false);
    }

    /// As [`RaftLog::restore`], for a snapshot whose data was handed to
    /// storage in pieces (`snapshot.data` is then empty).
    pub(crate) fn restore_from(&mut self, snapshot: Snapshot, staged: bool) {
        self.committed = snapshot.meta.index;
        self.recent.clear();
        self.unstable.restore(snapshot, staged);
    }

    /// The latest snapshot: a pending one from the leader, or storage's.
    ///
    /// # Errors
    /// A storage error, including `SnapshotTemporarilyUnavailable` (also
    /// while a staged snapshot is being installed).
    pub fn snapshot(&self, request_index: Index) -> Result<Snapshot, StorageError> {
        match &self.unstable.snapshot {
            Some(_) if self.unstable.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => Ok(s.clone()),
            None => self.storage.snapshot(request_index),
        }
    }

    /// The latest snapshot's metadata and size, as [`RaftLog::snapshot`]
    /// would return it, without reading storage's data.
    ///
    /// # Errors
    /// As [`RaftLog::snapshot`].
    pub fn snapshot_meta(&self, request_index: Index) -> Result<(SnapshotMeta, u64), StorageError> {
        match &self.unstable.snapshot {
            Some(_) if self.unstable.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => Ok((s.meta.clone(), s.data.len() as u64)),
            None => self.storage.snapshot_meta(request_index),
        }
    }

    /// A piece of the latest snapshot's data, while it is still the one at
    /// `index` (see [`Storage::snapshot_piece`]).
    ///
    /// # Errors
    /// As [`Storage::snapshot_piece`].
    pub fn snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        match &self.unstable.snapshot {
            Some(_) if self.unstable.staged => Err(StorageError::SnapshotTemporarilyUnavailable),
            Some(s) => synod_protocol::slice_piece(s, index, offset, max_bytes),
            None => self.storage.snapshot_piece(index, offset, max_bytes),
        }
    }

    /// Whether storage stages a leader's snapshot piece by piece.
    #[must_use]
    pub fn storage_stages_snapshots(&self) -> bool {
        self.storage.stages_snapshots()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemStorage;
    use crate::types::Payload;

    fn e(index: Index, term: Term) -> Entry {
        Entry {
            index,
            term,
            payload: Payload::Noop,
        }
    }

    // A follower's persisted entries that a new leader replaces must leave
    // the in-memory copy at once, not only when the replacements are
    // persisted: nothing may hand a replaced entry out.
    #[test]
    fn replaced_entries_leave_memory_at_once() {
        let mut log = RaftLog::new(MemStorage::new()).unwrap();
        log.append(vec![e(1, 1), e(2, 1), e(3, 1)]);
        let persisted = log.take_unstable();
        log.storage_mut().append(persisted).unwrap();
        log.stable_to(3, 1);
        assert!(log.recent.covers(1) && log.recent.covers(3));
        let outcome = log.maybe_append(1, 1, 0, vec![e(2, 2)]).unwrap();
        assert_eq!(outcome, AppendOutcome::Accepted { last_index: 2 });
        assert!(log.recent.covers(1));
        assert!(!log.recent.covers(2) && !log.recent.covers(3));
        assert_eq!((log.term(2), log.last_index()), (Ok(2), Ok(2)));
    }
}
