//! The file system the log writes through: one directory of files.
//!
//! Two implementations share the traits: [`StdDir`] (the real file system)
//! and [`SimDir`] (in memory, with crashes and injected faults). The
//! durability rules are the POSIX ones the log must follow, stated here so
//! both implementations keep them:
//!
//! - Bytes written to a file are durable only after [`File::sync_data`]
//!   returns `Ok`. A crash may keep any prefix of the writes made since
//!   the last sync, in order, the last one possibly torn.
//! - Creating, renaming and removing a file are durable only after
//!   [`Dir::sync`] returns `Ok`; a crash before that restores the names
//!   as of the last directory sync.
//! - A sync that fails may have lost the writes it covered even if a later
//!   sync succeeds (the page cache drops or cleans the dirty pages:
//!   PostgreSQL's "fsyncgate"). A caller must treat them as lost.

mod sim;
mod std_dir;

use std::io;

pub use sim::{Fault, Op, SimDir};
pub use std_dir::{StdDir, StdFile};

/// One directory of files, addressed by name (no subdirectories).
pub trait Dir {
    /// A file in this directory.
    type File: File;

    /// Creates a new, empty file for reading and writing.
    ///
    /// # Errors
    /// `AlreadyExists` when the name is taken, or an I/O error.
    fn create(&self, name: &str) -> io::Result<Self::File>;

    /// Opens an existing file for reading and writing.
    ///
    /// # Errors
    /// `NotFound`, or an I/O error.
    fn open(&self, name: &str) -> io::Result<Self::File>;

    /// Renames a file, replacing any file at `to`. Durable after
    /// [`Dir::sync`].
    ///
    /// # Errors
    /// `NotFound`, or an I/O error.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;

    /// Removes a file. Durable after [`Dir::sync`].
    ///
    /// # Errors
    /// `NotFound`, or an I/O error.
    fn remove(&self, name: &str) -> io::Result<()>;

    /// The names of the files, sorted.
    ///
    /// # Errors
    /// An I/O error.
    fn list(&self) -> io::Result<Vec<String>>;

    /// Makes every create, rename and remove so far durable (fsync of the
    /// directory).
    ///
    /// # Errors
    /// An I/O error; the changes may then be lost at a crash.
    fn sync(&self) -> io::Result<()>;
}

/// A file open for reading and writing.
pub trait File {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many (0 at or
    /// past the end).
    ///
    /// # Errors
    /// An I/O error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `data` at `offset`, extending the file if needed (a
    /// gap reads as zeros). Durable after [`File::sync_data`].
    ///
    /// # Errors
    /// An I/O error (`StorageFull` for ENOSPC); part of `data` may have
    /// been written.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;

    /// Writes `pieces` one after another from `offset`, as one
    /// [`File::write_at`] of their concatenation would (the same
    /// durability and the same partial-write rule). The log hands large
    /// entry bodies over this way so that they are written from the
    /// buffers they lie in rather than copied into its own first. The
    /// default concatenates them and makes that one call.
    ///
    /// # Errors
    /// As [`File::write_at`].
    fn write_vectored_at(&mut self, offset: u64, pieces: &[io::IoSlice<'_>]) -> io::Result<()> {
        let mut all = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
        for piece in pieces {
            all.extend_from_slice(piece);
        }
        self.write_at(offset, &all)
    }

    /// A hint: start writing bytes `offset..offset + len` (written with
    /// [`File::write_at`]) to the disk now, without waiting for them. It
    /// makes nothing durable; [`File::sync_data`] still does. The log
    /// gives it after writing part of a large batch early, so the disk
    /// works while the rest is encoded. The default does nothing.
    fn start_writeback(&mut self, offset: u64, len: u64) {
        let _ = (offset, len);
    }

    /// Makes every write and length change so far durable (fdatasync).
    ///
    /// # Errors
    /// An I/O error; the writes since the last successful sync must then be
    /// treated as lost, whatever later syncs return.
    fn sync_data(&mut self) -> io::Result<()>;

    /// The file's size in bytes.
    ///
    /// # Errors
    /// An I/O error.
    fn size_bytes(&self) -> io::Result<u64>;

    /// Reserves disk space for the first `len_bytes` bytes, extending the
    /// file with zeros if it is shorter (never shortening it), so writes
    /// inside need no block allocation when they are synced. Durable after
    /// [`File::sync_data`].
    ///
    /// # Errors
    /// An I/O error (`StorageFull` for ENOSPC).
    fn allocate(&mut self, len_bytes: u64) -> io::Result<()>;

    /// Truncates or extends (with zeros) the file to `len` bytes. Durable
    /// after [`File::sync_data`].
    ///
    /// # Errors
    /// An I/O error.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}
