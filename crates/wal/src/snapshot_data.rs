//! Snapshot data in a file of its own, never held whole in memory: the
//! `snapshot` state file names it (by the snapshot's index) with its
//! length and CRC32C; a leader's snapshot arrives piece by piece into a
//! staging file; pieces are read back with positioned reads.
//!
//! Crash safety: the data reaches its final name (`snapshot-INDEX.data`)
//! synced and renamed before the state file that names it is replaced,
//! and the old data file is removed only after; a crash in between leaves
//! a data file nothing names, which opening removes. Staged bytes are not
//! synced until the snapshot is installed: a crash loses the transfer and
//! the leader sends it again.

use std::io::Read;

use synod_protocol::{Bytes, Index, SnapshotMeta, SnapshotPiece, StorageError};

use crate::error::{Error, io};
use crate::fs::{Dir, File};
use crate::wal::Wal;

/// Where a leader's snapshot is staged as it arrives.
pub const STAGING_FILE: &str = "snapshot.staging";
/// Where a snapshot handed over whole is written before its rename.
pub(crate) const NEW_FILE: &str = "snapshot.new";

/// The data file of the snapshot at `index`.
#[must_use]
pub fn data_name(index: Index) -> String {
    format!("snapshot-{index:020}.data")
}

/// Whether `name` is a snapshot data file (any index).
pub(crate) fn is_data_name(name: &str) -> bool {
    name.strip_prefix("snapshot-")
        .and_then(|rest| rest.strip_suffix(".data"))
        .is_some_and(|digits| digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The data file's length and checksum, as the state file records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct External {
    pub(crate) len: u64,
    pub(crate) crc: u32,
}

/// A leader's snapshot being staged.
#[derive(Debug)]
pub(crate) struct Staging<F> {
    meta: SnapshotMeta,
    total: u64,
    written: u64,
    crc: u32,
    file: F,
}

/// Removes `name` if it exists.
pub(crate) fn remove_if_there<D: Dir>(dir: &D, name: &str) -> Result<(), Error> {
    match dir.remove(name) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("remove", name)(e)),
    }
}

/// Reads `len` bytes at `offset` of `file`, failing on a short file.
pub(crate) fn read_exact<F: File>(file: &F, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut at = 0;
    while at < len {
        let n = file.read_at(offset + at as u64, &mut buf[at..])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "snapshot data file shorter than recorded",
            ));
        }
        at += n;
    }
    Ok(buf)
}

/// The CRC32C of the first `len` bytes of `file`, read a MiB at a time.
pub(crate) fn checksum<F: File>(file: &F, len: u64) -> std::io::Result<u32> {
    let mut crc = 0u32;
    let mut at = 0u64;
    while at < len {
        let n = (len - at).min(1 << 20) as usize;
        let buf = read_exact(file, at, n)?;
        crc = crc32c::crc32c_append(crc, &buf);
        at += n as u64;
    }
    Ok(crc)
}

impl<D: Dir> Wal<D> {
    /// Makes the log tell the node it [stages
    /// snapshots](synod_protocol::Storage::stages_snapshots) (off by
    /// default): a follower's node then hands it a leader's snapshot piece
    /// by piece ([`Wal::stage_snapshot_piece`], written to a staging file
    /// as it comes) and has it installed from there
    /// ([`Wal::install_staged_snapshot`]), so a snapshot of any size is
    /// installed with a few pieces in memory. Turn it on only where the
    /// loop that writes the node's `Persist` handles `snapshot_pieces` and
    /// `staged_snapshot` (synod-node's driver turns it on itself).
    pub fn set_stages_snapshots(&mut self, stages: bool) {
        self.stages = stages;
    }

    /// Stages a piece of a leader's snapshot: offset 0 starts a new
    /// staging file (dropping any other); any other offset must continue
    /// the staged bytes of the same snapshot. Not synced: see
    /// [`Wal::install_staged_snapshot`].
    ///
    /// # Errors
    /// [`StorageError::Other`] (as [`Error::Raft`]) for a piece that does
    /// not continue what is staged or ends past the snapshot's size;
    /// [`Error::Io`] or [`Error::Poisoned`].
    pub fn stage_snapshot_piece(&mut self, piece: &SnapshotPiece) -> Result<(), Error> {
        if piece.end() > piece.total_bytes {
            return Err(
                StorageError::Other("snapshot piece past the snapshot's end".into()).into(),
            );
        }
        if piece.offset != 0 {
            let continues = self.staging.as_ref().is_some_and(|s| {
                s.meta == piece.meta && s.total == piece.total_bytes && s.written == piece.offset
            });
            if !continues {
                return Err(StorageError::Other(
                    "snapshot piece does not continue the staged bytes".into(),
                )
                .into());
            }
        }
        self.guarded(|wal| {
            if piece.offset == 0 {
                wal.staging = None;
                remove_if_there(&wal.dir, STAGING_FILE)?;
                let file = wal
                    .dir
                    .create(STAGING_FILE)
                    .map_err(io("create", STAGING_FILE))?;
                wal.staging = Some(Staging {
                    meta: piece.meta.clone(),
                    total: piece.total_bytes,
                    written: 0,
                    crc: 0,
                    file,
                });
            }
            let Some(staging) = wal.staging.as_mut() else {
                return Err(Error::Poisoned);
            };
            staging
                .file
                .write_at(piece.offset, &piece.data)
                .map_err(io("write", STAGING_FILE))?;
            staging.crc = crc32c::crc32c_append(staging.crc, &piece.data);
            staging.written = piece.end();
            Ok(())
        })
    }

    /// Installs the staged snapshot `meta` (every byte staged) as
    /// [`Wal::apply_snapshot`] installs one handed over whole; durable when
    /// this returns.
    ///
    /// # Errors
    /// [`StorageError::Other`] (as [`Error::Raft`]) when the staged bytes
    /// are not all of `meta`'s snapshot; as [`Wal::apply_snapshot`].
    pub fn install_staged_snapshot(&mut self, meta: &SnapshotMeta) -> Result<(), Error> {
        let complete = self
            .staging
            .as_ref()
            .is_some_and(|s| s.meta == *meta && s.written == s.total);
        if !complete {
            return Err(
                StorageError::Other("no complete staged snapshot to install".into()).into(),
            );
        }
        self.check_newer(meta.index)?;
        let Some(staging) = self.staging.take() else {
            return Err(Error::Poisoned);
        };
        let Staging {
            total,
            crc,
            mut file,
            ..
        } = staging;
        self.guarded(|_| {
            file.sync_data().map_err(io("sync", STAGING_FILE))?;
            Ok(())
        })?;
        self.install(meta.clone(), STAGING_FILE, External { len: total, crc })
    }

    /// Writes what `data` reads, to its end, into [`NEW_FILE`] a MiB at a
    /// time, synced, for [`Wal::install`] or [`Wal::replace_snapshot`].
    pub(crate) fn write_new_data(&mut self, data: &mut dyn Read) -> Result<External, Error> {
        if self.failed {
            return Err(Error::Poisoned);
        }
        let mut file = self.guarded(|wal| {
            remove_if_there(&wal.dir, NEW_FILE)?;
            wal.dir.create(NEW_FILE).map_err(io("create", NEW_FILE))
        })?;
        let mut buf = vec![0u8; 1 << 20];
        let mut external = External::default();
        loop {
            // A failure of the reader is the caller's, not the disk's: the
            // log stays usable (the partial file is removed next time).
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(
                        StorageError::Other(format!("reading the snapshot's data: {e}")).into(),
                    );
                }
            };
            let chunk = &buf[..n];
            let at = external.len;
            self.guarded(|_| file.write_at(at, chunk).map_err(io("write", NEW_FILE)))?;
            external.crc = crc32c::crc32c_append(external.crc, chunk);
            external.len += n as u64;
        }
        self.guarded(|_| file.sync_data().map_err(io("sync", NEW_FILE)))?;
        Ok(external)
    }

    /// The snapshot's data length, and its bytes from `offset` (at most
    /// `max_bytes`) while it is still the one at `index`.
    pub(crate) fn read_snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        let snap = &self.snapshot;
        let len = snap.data_len();
        if snap.snapshot.meta.index != index || offset > len {
            return Err(StorageError::SnapshotTemporarilyUnavailable);
        }
        let end = offset.saturating_add(max_bytes).min(len);
        match (&snap.external, &self.snapshot_data) {
            (Some(_), Some(file)) => {
                let want = usize::try_from(end - offset)
                    .map_err(|_| StorageError::Other("snapshot piece too large".into()))?;
                read_exact(file, offset, want)
                    .map(Bytes::from)
                    .map_err(|e| StorageError::Other(format!("reading the snapshot: {e}")))
            }
            (Some(_), None) => Err(StorageError::Other("snapshot data file not open".into())),
            // In range: `offset <= end <= len`, the inline data's length.
            (None, _) => Ok(snap.snapshot.data.slice(offset as usize..end as usize)),
        }
    }
}
