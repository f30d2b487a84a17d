//! The log: segments, the in-memory index, and the write path.
//!
//! Every write is a record in the active segment; [`Wal::sync`] makes all
//! of them durable with one `sync_data` (group commit). Snapshots go to the
//! `snapshot` file, replaced crash-safely, and are durable when the call
//! that writes them returns.

use synod_protocol::{Entry, HardState, Index, StorageError, Term};

use crate::error::Error;
use crate::fs::Dir;
use crate::index::LogIndex;
use crate::options::Options;
use crate::raft_record::{self, HARD_STATE_BYTES, KIND_ANCHOR, KIND_ENTRIES, KIND_HARD_STATE};
use crate::recent::Recent;
use crate::record;
use crate::segment::{SEGMENT_HEADER_BYTES, SegmentWriter};
use crate::snapshot_file::SnapshotFile;

/// The file name of segment `id`: zero-padded so names sort as ids do.
#[must_use]
pub fn segment_name(id: u64) -> String {
    format!("{id:020}.wal")
}

/// The id in a segment file name, if it is one.
#[must_use]
pub fn segment_id(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The file name of a free segment file: segment `id` compacted away and
/// kept for reuse (`Options::recycle_segments`).
#[must_use]
pub fn free_name(id: u64) -> String {
    format!("{id:020}.free")
}

/// The id in a free segment file name, if it is one.
#[must_use]
pub fn free_id(name: &str) -> Option<u64> {
    segment_id(&format!("{}.wal", name.strip_suffix(".free")?))
}

/// A sealed segment: synced whole, only read from now on.
#[derive(Debug)]
pub(crate) struct Sealed<F> {
    pub(crate) name: String,
    pub(crate) file: F,
    /// The checksum seed of its record headers.
    pub(crate) seed: u32,
}

/// What opening the log found (and repaired).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Segment files read.
    pub segments: usize,
    /// Bytes of torn tail zeroed in the last segment.
    pub torn_bytes: u64,
    /// A last segment whose creation a crash interrupted (no valid header
    /// and nothing after it), removed.
    pub removed_torn_segment: bool,
    /// Entries in the recovered log.
    pub entries: u64,
    /// The recovered log's last index.
    pub last_index: Index,
}

/// A durable Raft log in one directory, and a raft-core
/// [`Storage`](synod_protocol::Storage) reading from it.
///
/// The write calls ([`append`], [`set_hard_state`]) buffer records;
/// [`sync`] makes everything before it durable, and nothing is durable
/// before it. Hand raft-core's `Persist` over in its order (snapshot,
/// entries, hard state), sync, then call `persisted`.
///
/// [`append`]: Wal::append
/// [`set_hard_state`]: Wal::set_hard_state
/// [`sync`]: Wal::sync
#[derive(Debug)]
pub struct Wal<D: Dir> {
    pub(crate) dir: D,
    pub(crate) options: Options,
    pub(crate) sealed: Vec<Sealed<D::File>>,
    pub(crate) active: SegmentWriter<D::File>,
    /// Free segment files (compacted segments kept for reuse), by name;
    /// a roll takes the last.
    pub(crate) free: Vec<String>,
    pub(crate) index: LogIndex,
    pub(crate) recent: Recent,
    /// The first index appended since the last sync: it and later entries
    /// may be only in the writer's buffer, so the cache keeps them.
    pub(crate) unsynced_from: Index,
    pub(crate) hard_state: HardState,
    pub(crate) snapshot: SnapshotFile,
    /// The snapshot's data file, when it has one (read piece by piece).
    pub(crate) snapshot_data: Option<D::File>,
    /// A leader's snapshot being staged piece by piece.
    pub(crate) staging: Option<crate::snapshot_data::Staging<D::File>>,
    /// Whether it tells the node it stages snapshots (off unless asked).
    pub(crate) stages: bool,
    pub(crate) recovery: Recovery,
    /// A write failed: what is in memory may be ahead of or behind the
    /// files, so every further write is refused until the log is reopened.
    pub(crate) failed: bool,
}

impl<D: Dir> Wal<D> {
    /// Runs one write operation, refusing it after an earlier failure and
    /// remembering a failure (anything but a Raft-level refusal, which
    /// changes nothing).
    pub(crate) fn guarded<T>(
        &mut self,
        op: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.failed {
            return Err(Error::Poisoned);
        }
        let result = op(self);
        if let Err(e) = &result
            && !matches!(e, Error::Raft(_))
        {
            self.failed = true;
        }
        result
    }

    /// What opening found.
    #[must_use]
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The options the log runs with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The last hard state handed to [`Wal::set_hard_state`] (or
    /// recovered).
    #[must_use]
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// Bytes the in-memory index holds (4 per entry, 16 per run of equal
    /// terms, a little per segment); the recent-entry cache is apart.
    #[must_use]
    pub fn index_memory_bytes(&self) -> usize {
        self.index.memory_bytes()
    }

    /// Segment files in the directory.
    #[must_use]
    pub fn segment_count(&self) -> usize {
        self.sealed.len() + 1
    }

    /// Free segment files in the directory: compacted segments kept for
    /// the next rolls to reuse (`Options::recycle_segments`).
    #[must_use]
    pub fn free_segment_count(&self) -> usize {
        self.free.len()
    }

    /// Makes every record appended so far durable with one `sync_data`.
    /// After `Ok`, all of them survive a crash. After an error none of
    /// those since the last successful sync may be counted on, and the log
    /// refuses further writes ([`Error::Poisoned`]) until reopened: a
    /// failed sync is never retried.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Poisoned`].
    pub fn sync(&mut self) -> Result<(), Error> {
        self.guarded(|wal| {
            wal.active.sync()?;
            wal.unsynced_from = wal.index.last_index() + 1;
            wal.recent.trim(wal.options.cache_bytes, wal.unsynced_from);
            Ok(())
        })
    }

    /// Appends entries, discarding any existing entry at the first one's
    /// index or after (Raft's truncation). Entries at or below the first
    /// index are skipped, like `MemStorage`. Durable after [`Wal::sync`].
    ///
    /// # Errors
    /// [`Error::Raft`] with [`StorageError::Gap`] for entries that do not
    /// continue the log; [`Error::Io`] or [`Error::Poisoned`].
    pub fn append(&mut self, entries: impl Into<Vec<Entry>>) -> Result<(), Error> {
        let entries = entries.into();
        self.guarded(|wal| wal.append_entries(entries))
    }

    fn append_entries(&mut self, entries: Vec<Entry>) -> Result<(), Error> {
        synod_protocol::check_continues(&entries, self.index.last_index())?;
        let base = self.index.base_index;
        let mut entries = entries;
        let covered = entries.iter().take_while(|e| e.index <= base).count();
        entries.drain(..covered);
        let Some(first) = entries.first().map(|e| e.index) else {
            return Ok(());
        };
        if first <= self.index.last_index() {
            // A truncation. The anchor names the entry the new ones follow,
            // so replay knows its term even once its segment is deleted.
            self.make_room(16, first)?;
            self.append_anchor(first - 1)?;
            self.index.truncate_from(first);
            self.recent.truncate_from(first);
        }
        let mut done = 0;
        while done < entries.len() {
            let take = self.entries_that_fit(&entries[done..]);
            if take == 0 {
                self.roll(entries[done].index - 1)?;
                continue;
            }
            let chunk = &entries[done..done + take];
            let start = self
                .active
                .append_spliced(KIND_ENTRIES, |out| raft_record::encode_entries(chunk, out))?;
            // A large batch goes to the file as it is encoded, a record at
            // a time, so the disk works while the rest is (Options::
            // write_behind_bytes).
            self.active.write_behind(self.options.write_behind_bytes)?;
            // A record starts inside a segment of at most 1 GiB
            // (Options::validate), so its offset fits in 32 bits; were it
            // ever not to, refuse rather than index it wrongly.
            let start = u32::try_from(start).map_err(|_| Error::TooLarge {
                bytes: usize::try_from(start).unwrap_or(usize::MAX),
            })?;
            for e in chunk {
                self.index.push(e.index, e.term, start);
            }
            done += take;
        }
        self.unsynced_from = self.unsynced_from.min(first);
        self.recent
            .extend(entries, self.options.cache_bytes, self.unsynced_from);
        Ok(())
    }

    /// How many of `entries` one record can take in the active segment
    /// without passing `segment_bytes`, and within `write_behind_bytes` of
    /// payload if that is on; at least one if the segment holds no entry
    /// yet (a record larger than a segment gets one of its own).
    fn entries_that_fit(&self, entries: &[Entry]) -> usize {
        let used = SEGMENT_HEADER_BYTES + self.active.appended();
        // A synced marker, the record header, the batch head, padding.
        let overhead = (record::record_bytes(8)
            + record::HEADER_BYTES
            + raft_record::BATCH_HEAD_BYTES
            + record::ALIGN) as u64;
        let room = self
            .options
            .segment_bytes
            .saturating_sub(used)
            .saturating_sub(overhead);
        let cap = match self.options.write_behind_bytes {
            0 => u64::MAX,
            bytes => bytes,
        };
        let mut bytes = 0u64;
        let mut take = 0;
        for e in entries {
            bytes += raft_record::entry_bytes(e) as u64;
            if bytes > room {
                break;
            }
            if take > 0 && bytes > cap {
                return take;
            }
            take += 1;
        }
        let empty = self
            .index
            .segments
            .last()
            .is_none_or(|s| s.starts.is_empty());
        if take == 0 && empty && !entries.is_empty() {
            take = 1;
        }
        take
    }

    /// Writes an anchor naming entry `index` (the base or a live entry).
    fn append_anchor(&mut self, index: Index) -> Result<(), Error> {
        if let Some(term) = self.index.term(index) {
            self.active
                .append(KIND_ANCHOR, &raft_record::encode_reset(index, term))?;
        }
        Ok(())
    }

    /// Records the hard state (if it changed). Durable after
    /// [`Wal::sync`]; written after the entries appended before it, so a
    /// crash never keeps a commit index past the entries it covers.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Poisoned`].
    pub fn set_hard_state(&mut self, hard_state: HardState) -> Result<(), Error> {
        if hard_state == self.hard_state {
            return Ok(());
        }
        self.guarded(|wal| {
            wal.make_room(HARD_STATE_BYTES, wal.index.last_index() + 1)?;
            wal.active.append(
                KIND_HARD_STATE,
                &raft_record::encode_hard_state(&hard_state),
            )?;
            wal.hard_state = hard_state;
            Ok(())
        })
    }

    /// Whether [`Wal::set_hard_state`] with `hard_state` would touch no
    /// file: it is unchanged, or its record goes into the write buffer
    /// (which the next [`Wal::sync`] writes out) without rolling to a new
    /// segment. A driver may then call it on its own thread rather than
    /// hand it to a disk thread: it is a memory copy.
    #[must_use]
    pub fn buffers_hard_state(&self, hard_state: &HardState) -> bool {
        *hard_state == self.hard_state || self.failed || self.fits(HARD_STATE_BYTES)
    }

    /// Rolls to a new segment if a record of `payload_bytes` would take
    /// the active one past `segment_bytes` (an empty segment takes any
    /// record). `next_index` is the index of the entry about to be written
    /// (or the one after the last, for other records).
    pub(crate) fn make_room(
        &mut self,
        payload_bytes: usize,
        next_index: Index,
    ) -> Result<(), Error> {
        if self.fits(payload_bytes) {
            return Ok(());
        }
        self.roll(next_index - 1)
    }

    /// Whether a record of `payload_bytes` goes into the active segment
    /// without rolling to a new one (an empty segment takes any record).
    fn fits(&self, payload_bytes: usize) -> bool {
        // A synced marker may ride in front of the record.
        let need = (record::record_bytes(payload_bytes) + record::record_bytes(8)) as u64;
        let used = SEGMENT_HEADER_BYTES + self.active.appended();
        self.active.appended() == 0 || used + need <= self.options.segment_bytes
    }

    /// Seals the active segment and starts the next, in a free segment
    /// file when there is one. The sealed one is synced first, so every
    /// sealed segment is durable whole (a bad record in one is damage,
    /// never a torn write). The new segment opens with the hard state, so
    /// deleting older segments never loses it, and an anchor naming the
    /// log's last entry, so the term before the first entry it holds is
    /// known even once its predecessors are deleted.
    fn roll(&mut self, anchor: Index) -> Result<(), Error> {
        self.active.sync()?;
        let id = self.active.id() + 1;
        let name = segment_name(id);
        let len = if self.options.preallocate {
            self.options.segment_bytes
        } else {
            0
        };
        let next = match self.free.pop() {
            Some(free) => SegmentWriter::recycle(&self.dir, &free, &name, id, len)?,
            None => SegmentWriter::create_sized(&self.dir, &name, id, len)?,
        }
        .with_zero_ahead(self.options.zero_ahead_bytes, self.options.segment_bytes)
        .with_padding(
            self.options.pad_syncs_from_bytes,
            self.options.segment_bytes,
        );
        let done = std::mem::replace(&mut self.active, next);
        self.sealed.push(Sealed {
            name: segment_name(id - 1),
            seed: done.seed(),
            file: done.into_file(),
        });
        self.index.open_segment();
        self.open_segment_with(anchor)
    }

    /// Writes the records a rolled segment opens with, for the entry after
    /// the last: what recovery does before the first new append.
    pub(crate) fn reopen_segment(&mut self) -> Result<(), Error> {
        self.open_segment_with(self.index.last_index())
    }

    /// Opens the (empty) active segment with the hard state and an anchor
    /// naming entry `anchor`, and syncs them.
    fn open_segment_with(&mut self, anchor: Index) -> Result<(), Error> {
        self.active.append(
            KIND_HARD_STATE,
            &raft_record::encode_hard_state(&self.hard_state),
        )?;
        // The entry the next record follows: the last one, or the one
        // before a truncating append.
        self.append_anchor(anchor)?;
        // Synced now, not with the next batch: a crash before that batch's
        // sync would otherwise leave a segment that later batches continue
        // without its opening records.
        self.active.sync()?;
        Ok(())
    }

    /// The term of `index` (the base or a live entry), as a typed error
    /// otherwise.
    pub(crate) fn term_of(&self, index: Index) -> Result<Term, StorageError> {
        if index < self.index.base_index {
            return Err(StorageError::Compacted {
                index,
                first_index: self.index.base_index + 1,
            });
        }
        self.index.term(index).ok_or(StorageError::Unavailable {
            index,
            last_index: self.index.last_index(),
        })
    }
}
