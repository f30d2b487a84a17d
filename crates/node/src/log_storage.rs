//! The durable log as the driver writes it: synod-wal, the in-memory
//! store, or the user's own.

use bytes::Bytes;
use synod_protocol::{ConfState, Index, MemStorage, Storage, StorageError, Write};

/// A log the driver can write. The protocol reads it through
/// [`Storage`]; the driver writes what [`synod_protocol::Ready::write`]
/// hands out and makes it durable with [`LogStorage::sync`] before any
/// message that vouches for it leaves.
pub trait LogStorage: Storage + Send + 'static {
    /// Stores `write`: the snapshot (replacing the log), then the entries
    /// (replacing any suffix from the first one's index on), then the hard
    /// state. Durable only after [`LogStorage::sync`].
    ///
    /// # Errors
    /// The backend's failure; the replica stops.
    fn write(&mut self, write: Write) -> Result<(), StorageError>;

    /// Makes everything written so far durable. After an error nothing
    /// written since the last successful sync may be counted on, and the
    /// driver stops (a failed sync is never retried).
    ///
    /// # Errors
    /// The backend's failure.
    fn sync(&mut self) -> Result<(), StorageError>;

    /// Whether [`LogStorage::write`] would store `write` without touching
    /// a file: it only fills memory (a buffer the next sync writes out).
    /// The driver asks only about writes that need no sync (a commit index
    /// alone, typically) and then writes them on its own task instead of
    /// the blocking executor, which saves two thread hand-offs between a
    /// quorum's acknowledgement and the answer to the caller. The default
    /// says no: every write goes to the blocking executor.
    fn writes_in_memory(&self, write: &Write) -> bool {
        let _ = write;
        false
    }

    /// Records a snapshot of the state machine at `index` (applied, so
    /// committed) with the membership `conf_state`, then discards the
    /// entries through `compact_through` (at most `index`: the entries
    /// after it stay, for followers slightly behind). Entries already
    /// discarded are not an error.
    ///
    /// # Errors
    /// The backend's failure, or `index` not in the log.
    fn snapshot_and_compact(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: Bytes,
        compact_through: Index,
    ) -> Result<(), StorageError>;

    /// As [`LogStorage::snapshot_and_compact`], with the snapshot's data
    /// read from `data` to its end (the driver passes
    /// [`StateMachine::snapshot_stream`](crate::StateMachine::snapshot_stream)).
    /// Storage that writes it to disk as it reads never holds it whole;
    /// the default reads it into memory and calls
    /// [`LogStorage::snapshot_and_compact`].
    ///
    /// # Errors
    /// As [`LogStorage::snapshot_and_compact`], or the read's failure.
    fn snapshot_and_compact_from(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: &mut dyn std::io::Read,
        compact_through: Index,
    ) -> Result<(), StorageError> {
        let mut buf = Vec::new();
        data.read_to_end(&mut buf).map_err(|e| {
            StorageError::Other(format!("reading the state machine's snapshot: {e}"))
        })?;
        self.snapshot_and_compact(index, conf_state, Bytes::from(buf), compact_through)
    }

    /// Called once by the driver, which handles snapshots handed over in
    /// pieces ([`Write::snapshot_pieces`], [`Write::staged_snapshot`]):
    /// storage that can stage them turns that on here, so a follower
    /// installs a leader's snapshot without holding it whole. The default
    /// does nothing (snapshots are then handed over whole).
    fn enable_staging(&mut self) {}
}

impl LogStorage for MemStorage {
    fn write(&mut self, write: Write) -> Result<(), StorageError> {
        self.apply_write(write)
    }

    /// In memory this saves nothing, but it runs the path disk-backed
    /// storage takes.
    fn enable_staging(&mut self) {
        self.set_stages_snapshots(true);
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }

    fn writes_in_memory(&self, _: &Write) -> bool {
        true
    }

    fn snapshot_and_compact(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: Bytes,
        compact_through: Index,
    ) -> Result<(), StorageError> {
        self.create_snapshot(index, conf_state, data)?;
        let through = compact_through.min(index);
        if through >= self.first_index()? {
            self.compact(through)?;
        }
        Ok(())
    }
}

#[cfg(feature = "wal")]
mod wal {
    use bytes::Bytes;
    use synod_protocol::{ConfState, Index, StorageError, Write};
    use synod_wal::Wal;
    use synod_wal::fs::Dir;

    use super::LogStorage;

    fn storage(e: synod_wal::Error) -> StorageError {
        match e {
            synod_wal::Error::Raft(e) => e,
            other => StorageError::Other(other.to_string()),
        }
    }

    impl<D> LogStorage for Wal<D>
    where
        D: Dir + Send + 'static,
        D::File: Send,
    {
        fn write(&mut self, write: Write) -> Result<(), StorageError> {
            for piece in &write.snapshot_pieces {
                self.stage_snapshot_piece(piece).map_err(storage)?;
            }
            if let Some(snapshot) = write.snapshot {
                self.apply_snapshot(snapshot).map_err(storage)?;
            }
            if let Some(meta) = &write.staged_snapshot {
                self.install_staged_snapshot(meta).map_err(storage)?;
            }
            if !write.entries.is_empty() {
                self.append(write.entries).map_err(storage)?;
            }
            if let Some(hs) = write.hard_state {
                self.set_hard_state(hs).map_err(storage)?;
            }
            Ok(())
        }

        fn sync(&mut self) -> Result<(), StorageError> {
            Wal::sync(self).map_err(storage)
        }

        /// A hard state alone is buffered, unless its record rolls the
        /// log to a new segment; everything else may touch files.
        fn writes_in_memory(&self, write: &Write) -> bool {
            write.entries.is_empty()
                && write.snapshot.is_none()
                && write.snapshot_pieces.is_empty()
                && write.staged_snapshot.is_none()
                && write
                    .hard_state
                    .is_none_or(|hs| self.buffers_hard_state(&hs))
        }

        fn enable_staging(&mut self) {
            self.set_stages_snapshots(true);
        }

        fn snapshot_and_compact_from(
            &mut self,
            index: Index,
            conf_state: ConfState,
            data: &mut dyn std::io::Read,
            compact_through: Index,
        ) -> Result<(), StorageError> {
            self.create_snapshot_from(index, conf_state, data)
                .map_err(storage)?;
            let through = compact_through.min(index);
            if through >= synod_protocol::Storage::first_index(self)? {
                self.compact(through).map_err(storage)?;
            }
            Ok(())
        }

        fn snapshot_and_compact(
            &mut self,
            index: Index,
            conf_state: ConfState,
            data: Bytes,
            compact_through: Index,
        ) -> Result<(), StorageError> {
            self.snapshot_and_compact_from(index, conf_state, &mut &data[..], compact_through)
        }
    }
}
