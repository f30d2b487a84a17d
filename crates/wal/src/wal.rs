//! The log: segments, the in-memory index, and the write path.
//!
//! Every write is a record in the active segment; [`Wal::sync`] makes all
//! of them durable with one `sync_data` (group commit). Snapshots go to the
//! `snapshot` file, replaced crash-safely, and are durable when the call
//! that writes them returns.

use synod_raft_core::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, NodeId,
    Payload, Snapshot, SnapshotMeta, StorageError, Term,
};

use crate::error::{Error, io};
use crate::fs::Dir;
use crate::index::LogIndex;
use crate::options::Options;
use crate::raft_record::{self, KIND_ANCHOR, KIND_ENTRY, KIND_HARD_STATE, KIND_RESET};
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

/// A sealed segment: synced whole, only read from now on.
#[derive(Debug)]
pub(crate) struct Sealed<F> {
    pub(crate) name: String,
    pub(crate) file: F,
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
/// [`Storage`](synod_raft_core::Storage) reading from it.
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
    pub(crate) index: LogIndex,
    pub(crate) recent: Recent,
    /// The first index appended since the last sync: it and later entries
    /// may be only in the writer's buffer, so the cache keeps them.
    pub(crate) unsynced_from: Index,
    pub(crate) hard_state: HardState,
    pub(crate) snapshot: SnapshotFile,
    pub(crate) recovery: Recovery,
    /// Scratch for a membership change's encoded body.
    pub(crate) scratch: Vec<u8>,
}

impl<D: Dir> Wal<D> {
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

    /// Makes every record appended so far durable with one `sync_data`.
    /// After `Ok`, all of them survive a crash. After an error none of
    /// those since the last successful sync may be counted on, and the log
    /// refuses further writes ([`Error::Poisoned`]) until reopened: a
    /// failed sync is never retried.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Poisoned`].
    pub fn sync(&mut self) -> Result<(), Error> {
        self.active.sync()?;
        self.unsynced_from = self.index.last_index() + 1;
        self.recent
            .trim(self.options.cache_bytes, self.unsynced_from);
        Ok(())
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
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let last = self.index.last_index();
        if first.index > last + 1 {
            return Err(StorageError::Gap {
                first: first.index,
                last_index: last,
            }
            .into());
        }
        if let Some(w) = entries
            .windows(2)
            .find(|w| w[0].index.checked_add(1) != Some(w[1].index))
        {
            return Err(StorageError::Gap {
                first: w[1].index,
                last_index: w[0].index,
            }
            .into());
        }
        let base = self.index.base_index;
        for entry in entries.into_iter().filter(|e| e.index > base) {
            self.append_one(entry)?;
        }
        Ok(())
    }

    fn append_one(&mut self, entry: Entry) -> Result<(), Error> {
        self.make_room(raft_record::entry_payload_bytes(&entry))?;
        let (head, body) = raft_record::encode_entry(&entry, &mut self.scratch)?;
        let start = self.active.append_parts(KIND_ENTRY, &[&head, body])?;
        if entry.index <= self.index.last_index() {
            self.index.truncate_from(entry.index);
            self.recent.truncate_from(entry.index);
        }
        // A segment never exceeds 1 GiB plus one record (Options::validate):
        // a start always fits in 32 bits.
        let start = u32::try_from(start).expect("segment offsets fit in u32");
        self.index.push(entry.index, entry.term, start);
        self.unsynced_from = self.unsynced_from.min(entry.index);
        self.recent
            .push(entry, self.options.cache_bytes, self.unsynced_from);
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
        self.make_room(24)?;
        self.active.append(
            KIND_HARD_STATE,
            &raft_record::encode_hard_state(&hard_state),
        )?;
        self.hard_state = hard_state;
        Ok(())
    }

    /// Rolls to a new segment if a record of `payload_bytes` would take
    /// the active one past `segment_bytes` (an empty segment takes any
    /// record).
    fn make_room(&mut self, payload_bytes: usize) -> Result<(), Error> {
        // A synced marker may ride in front of the record.
        let need = (record::record_bytes(payload_bytes) + record::record_bytes(8)) as u64;
        let used = SEGMENT_HEADER_BYTES + self.active.appended();
        if self.active.appended() == 0 || used + need <= self.options.segment_bytes {
            return Ok(());
        }
        self.roll()
    }

    /// Seals the active segment and starts the next. The sealed one is
    /// synced first, so every sealed segment is durable whole (a bad record
    /// in one is damage, never a torn write). The new segment opens with
    /// the hard state, so deleting older segments never loses it, and an
    /// anchor naming the log's last entry, so the term before the first
    /// entry it holds is known even once its predecessors are deleted.
    fn roll(&mut self) -> Result<(), Error> {
        self.active.sync()?;
        let id = self.active.id() + 1;
        let name = segment_name(id);
        let len = if self.options.preallocate {
            self.options.segment_bytes
        } else {
            0
        };
        let next = SegmentWriter::create_sized(&self.dir, &name, id, len)?;
        let done = std::mem::replace(&mut self.active, next);
        self.sealed.push(Sealed {
            name: segment_name(id - 1),
            file: done.into_file(),
        });
        self.index.open_segment();
        self.active.append(
            KIND_HARD_STATE,
            &raft_record::encode_hard_state(&self.hard_state),
        )?;
        let last = self.index.last_index();
        if let Some(term) = self.index.term(last) {
            self.active
                .append(KIND_ANCHOR, &raft_record::encode_reset(last, term))?;
        }
        Ok(())
    }

    /// Installs a snapshot received from the leader: the log is emptied
    /// and continues after it. Durable when this returns: the snapshot
    /// file is replaced crash-safely, then a reset record and the hard
    /// state (commit at least the snapshot's index) are synced.
    ///
    /// # Errors
    /// [`StorageError::SnapshotOutOfDate`] (as [`Error::Raft`]) for a
    /// snapshot not newer than the log's start; [`Error::Io`] or
    /// [`Error::Poisoned`].
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) -> Result<(), Error> {
        let current = self.snapshot.snapshot.meta.index.max(self.index.base_index);
        let (index, term) = (snapshot.meta.index, snapshot.meta.term);
        if index <= current {
            return Err(StorageError::SnapshotOutOfDate { index, current }.into());
        }
        let file = SnapshotFile {
            conf_state: snapshot.meta.conf_state.clone(),
            snapshot,
        };
        file.write(&self.dir)?;
        self.snapshot = file;
        // Until this reset is synced, recovery keeps log entries after the
        // snapshot only if the log holds the snapshot's own entry (same
        // index and term), as etcd's raft does; afterwards they are gone.
        self.make_room(16)?;
        self.active
            .append(KIND_RESET, &raft_record::encode_reset(index, term))?;
        self.index.reset(index, Some(term));
        self.recent.clear();
        self.unsynced_from = index + 1;
        let hs = HardState {
            commit: self.hard_state.commit.max(index),
            ..self.hard_state
        };
        self.set_hard_state(hs)?;
        self.sync()
    }

    /// Records a snapshot of the state machine taken at `index` (applied,
    /// so in the log or its base), replacing the snapshot file
    /// crash-safely; durable when this returns. Follow with
    /// [`Wal::compact`] to drop the entries it covers.
    ///
    /// # Errors
    /// [`StorageError::SnapshotOutOfDate`] for an index not after the
    /// current snapshot's, [`StorageError::Compacted`] or
    /// [`StorageError::Unavailable`] for an index the log does not hold;
    /// [`Error::Io`].
    pub fn create_snapshot(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: impl Into<synod_raft_core::Bytes>,
    ) -> Result<&Snapshot, Error> {
        let current = self.snapshot.snapshot.meta.index;
        if index <= current {
            return Err(StorageError::SnapshotOutOfDate { index, current }.into());
        }
        let term = self.term_of(index)?;
        let file = SnapshotFile {
            snapshot: Snapshot {
                meta: SnapshotMeta {
                    index,
                    term,
                    conf_state: conf_state.clone(),
                },
                data: data.into(),
            },
            conf_state,
        };
        file.write(&self.dir)?;
        self.snapshot = file;
        Ok(&self.snapshot.snapshot)
    }

    /// Drops the entries up to and including `index` (at most the
    /// snapshot's index) from memory, and deletes every segment holding
    /// nothing newer. The active segment is synced first (the hard state
    /// must not live only in a deleted segment), then the segments are
    /// removed oldest first, each removal made durable before the next, so
    /// a crash never leaves a hole in the middle.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] for an index at or below the first
    /// index's base, [`StorageError::NotSnapshotted`] past the snapshot;
    /// [`Error::Io`] or [`Error::Poisoned`].
    pub fn compact(&mut self, index: Index) -> Result<(), Error> {
        let base = self.index.base_index;
        if index <= base {
            return Err(StorageError::Compacted {
                index,
                first_index: base + 1,
            }
            .into());
        }
        let snapshot_index = self.snapshot.snapshot.meta.index;
        if index > snapshot_index {
            return Err(StorageError::NotSnapshotted {
                index,
                snapshot_index,
            }
            .into());
        }
        self.term_of(index)?;
        self.index.compact(index);
        self.recent.drop_through(index);
        let dead = self
            .index
            .segments
            .iter()
            .take(self.sealed.len())
            .take_while(|s| s.starts.is_empty())
            .count();
        if dead == 0 {
            return Ok(());
        }
        self.sync()?;
        for _ in 0..dead {
            let name = &self.sealed[0].name;
            self.dir.remove(name).map_err(io("remove", name))?;
            self.dir
                .sync()
                .map_err(io("sync directory after removing", name))?;
            self.sealed.remove(0);
            self.index.segments.remove(0);
        }
        Ok(())
    }

    /// Sets the membership a restarted node starts from (normally set by
    /// snapshots; for setting up a fresh log). Rewrites the snapshot file
    /// crash-safely; durable when this returns.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn set_conf_state(&mut self, conf_state: ConfState) -> Result<(), Error> {
        let file = SnapshotFile {
            snapshot: self.snapshot.snapshot.clone(),
            conf_state,
        };
        file.write(&self.dir)?;
        self.snapshot = file;
        Ok(())
    }

    /// Sets up a fresh log the way `MemStorage::bootstrap` does: the given
    /// voters as the membership, a first entry adding them, committed, in
    /// term 1. Durable when this returns.
    ///
    /// # Errors
    /// [`Error::Raft`] with [`StorageError::Other`] if the log is not
    /// empty; [`Error::Io`] or [`Error::Poisoned`].
    pub fn bootstrap(&mut self, voters: &[NodeId]) -> Result<(), Error> {
        if self.index.last_index() != 0
            || self.hard_state != HardState::default()
            || !self.snapshot.snapshot.is_empty()
        {
            return Err(StorageError::Other("bootstrap of a log that is not empty".into()).into());
        }
        let mut voters = voters.to_vec();
        voters.sort_unstable();
        voters.dedup();
        let changes = voters
            .iter()
            .map(|&node| ConfChangeSingle {
                kind: ConfChangeKind::AddVoter,
                node,
            })
            .collect();
        self.set_conf_state(ConfState {
            voters,
            ..ConfState::default()
        })?;
        self.append(vec![Entry {
            term: 1,
            index: 1,
            payload: Payload::ConfChange(ConfChange { changes }),
        }])?;
        self.set_hard_state(HardState {
            term: 1,
            vote: None,
            commit: 1,
        })?;
        self.sync()
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
