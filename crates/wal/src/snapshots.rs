//! Snapshots and compaction: the `snapshot` file, replaced crash-safely,
//! and the segments it lets the log delete.

use synod_protocol::{
    Bytes, ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index,
    NodeId, Payload, Snapshot, SnapshotMeta, StorageError,
};

use crate::error::{Error, io};
use crate::fs::Dir;
use crate::raft_record::{self, KIND_RESET};
use crate::snapshot_data::{External, NEW_FILE, data_name, remove_if_there};
use crate::snapshot_file::SnapshotFile;
use crate::wal::Wal;

impl<D: Dir> Wal<D> {
    /// Installs a snapshot received from the leader: the log is emptied
    /// and continues after it. Durable when this returns: what was
    /// appended before is synced, the snapshot file is replaced
    /// crash-safely, then a reset record and the hard state (commit at
    /// least the snapshot's index) are synced.
    ///
    /// # Errors
    /// [`StorageError::SnapshotOutOfDate`] (as [`Error::Raft`]) for a
    /// snapshot not newer than the log's start; [`Error::Io`] or
    /// [`Error::Poisoned`].
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) -> Result<(), Error> {
        self.check_newer(snapshot.meta.index)?;
        let external = self.write_new_data(&mut &snapshot.data[..])?;
        self.install(snapshot.meta, NEW_FILE, external)
    }

    /// Refuses a leader's snapshot not newer than the log's start.
    pub(crate) fn check_newer(&self, index: Index) -> Result<(), Error> {
        let current = self.snapshot.snapshot.meta.index.max(self.index.base_index);
        if index <= current {
            return Err(StorageError::SnapshotOutOfDate { index, current }.into());
        }
        Ok(())
    }

    /// Installs a leader's snapshot whose data is synced in file `from`:
    /// the log is emptied and continues after it (see
    /// [`Wal::apply_snapshot`]).
    pub(crate) fn install(
        &mut self,
        meta: SnapshotMeta,
        from: &str,
        external: External,
    ) -> Result<(), Error> {
        let (index, term) = (meta.index, meta.term);
        // What was appended before is made durable before the snapshot
        // file changes: a crash then leaves a prefix of the calls.
        self.sync()?;
        let conf_state = meta.conf_state.clone();
        self.replace_snapshot(meta, conf_state, from, external)?;
        self.guarded(|wal| {
            // Until this reset is synced, recovery keeps log entries after
            // the snapshot only if the log holds the snapshot's own entry
            // (same index and term), as etcd's raft does; then they are gone.
            wal.make_room(16, wal.index.last_index() + 1)?;
            wal.active
                .append(KIND_RESET, &raft_record::encode_reset(index, term))?;
            wal.index.reset(index, Some(term));
            wal.recent.clear();
            wal.unsynced_from = index + 1;
            Ok(())
        })?;
        let hs = HardState {
            commit: self.hard_state.commit.max(index),
            ..self.hard_state
        };
        self.set_hard_state(hs)?;
        self.sync()
    }

    /// Makes the synced data in file `from` the snapshot `meta`: renamed to
    /// its data file, then named by a new `snapshot` state file (with
    /// `conf_state`, the membership a restart starts from), then the old
    /// data file removed; each step durable before the next.
    pub(crate) fn replace_snapshot(
        &mut self,
        meta: SnapshotMeta,
        conf_state: ConfState,
        from: &str,
        external: External,
    ) -> Result<(), Error> {
        let old = self
            .snapshot
            .external
            .map(|_| data_name(self.snapshot.snapshot.meta.index));
        self.guarded(|wal| {
            let name = data_name(meta.index);
            wal.dir.rename(from, &name).map_err(io("rename", from))?;
            wal.dir
                .sync()
                .map_err(io("sync directory after renaming", &name))?;
            let data = wal.dir.open(&name).map_err(io("open", &name))?;
            let file = SnapshotFile {
                snapshot: Snapshot {
                    meta,
                    data: Bytes::new(),
                },
                conf_state,
                external: Some(external),
            };
            file.write(&wal.dir)?;
            wal.snapshot = file;
            wal.snapshot_data = Some(data);
            if let Some(old) = old.filter(|old| *old != name) {
                remove_if_there(&wal.dir, &old)?;
                wal.dir
                    .sync()
                    .map_err(io("sync directory after removing", &old))?;
            }
            Ok(())
        })
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
        data: impl Into<synod_protocol::Bytes>,
    ) -> Result<SnapshotMeta, Error> {
        let data: Bytes = data.into();
        self.create_snapshot_from(index, conf_state, &mut &data[..])
    }

    /// As [`Wal::create_snapshot`], with the data read from `data` to its
    /// end and written to the log's directory a MiB at a time, so it is
    /// never held whole in memory.
    ///
    /// # Errors
    /// As [`Wal::create_snapshot`]; a failure reading `data` is
    /// [`StorageError::Other`] (as [`Error::Raft`]: the log stays usable).
    pub fn create_snapshot_from(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: &mut dyn std::io::Read,
    ) -> Result<SnapshotMeta, Error> {
        let current = self.snapshot.snapshot.meta.index;
        if index <= current {
            return Err(StorageError::SnapshotOutOfDate { index, current }.into());
        }
        let term = self.term_of(index)?;
        self.sync()?;
        let external = self.write_new_data(data)?;
        let meta = SnapshotMeta {
            index,
            term,
            conf_state: conf_state.clone(),
        };
        self.replace_snapshot(meta.clone(), conf_state, NEW_FILE, external)?;
        Ok(meta)
    }

    /// Drops the entries up to and including `index` (at most the
    /// snapshot's index) from memory, and deletes every segment holding
    /// nothing newer (or, up to `Options::recycle_segments`, renames it to
    /// a free segment file that a later roll reuses). The active segment is
    /// synced first (the hard state must not live only in a deleted
    /// segment), then the segments are removed oldest first, each removal
    /// made durable before the next, so a crash never leaves a hole in the
    /// middle.
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
        if self.failed {
            return Err(Error::Poisoned);
        }
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
        self.guarded(|wal| {
            for _ in 0..dead {
                let name = &wal.sealed[0].name;
                // Kept for reuse while the pool has room (its blocks are
                // written: syncs into them flush data only), else removed.
                // The rename is synced before the file can be reused, so a
                // crash never shows a reused file under its old name.
                let keep = wal.free.len() < wal.options.recycle_segments;
                match crate::wal::segment_id(name).map(crate::wal::free_name) {
                    Some(free) if keep => {
                        wal.dir.rename(name, &free).map_err(io("rename", name))?;
                        wal.free.push(free);
                    }
                    _ => wal.dir.remove(name).map_err(io("remove", name))?,
                }
                wal.dir
                    .sync()
                    .map_err(io("sync directory after removing", name))?;
                wal.sealed.remove(0);
                wal.index.segments.remove(0);
            }
            Ok(())
        })
    }

    /// Sets the membership a restarted node starts from (normally set by
    /// snapshots; for setting up a fresh log). Rewrites the snapshot file
    /// crash-safely; durable when this returns.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn set_conf_state(&mut self, conf_state: ConfState) -> Result<(), Error> {
        self.sync()?;
        let file = SnapshotFile {
            snapshot: self.snapshot.snapshot.clone(),
            conf_state,
            external: self.snapshot.external,
        };
        self.replace_snapshot_file(file)
    }

    /// Replaces the snapshot file, then what memory says it holds.
    fn replace_snapshot_file(&mut self, file: SnapshotFile) -> Result<(), Error> {
        self.guarded(|wal| {
            file.write(&wal.dir)?;
            wal.snapshot = file;
            Ok(())
        })
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
}
