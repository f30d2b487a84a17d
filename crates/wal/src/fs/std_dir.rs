//! The real file system.

use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{Dir, File};

/// A directory of the real file system (Unix: positioned reads and writes
/// through `std::os::unix::fs::FileExt`).
#[derive(Debug, Clone)]
pub struct StdDir {
    path: PathBuf,
}

impl StdDir {
    /// The directory at `path`, created (with its parents) if missing.
    ///
    /// # Errors
    /// An I/O error, or `NotADirectory` when `path` is a file.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        fs::create_dir_all(&path)?;
        if !fs::metadata(&path)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", path.display()),
            ));
        }
        Ok(Self { path })
    }

    /// The directory's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file_path(&self, name: &str) -> io::Result<PathBuf> {
        // One directory, plain names: nothing may climb out of it.
        let plain =
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a plain file name"),
            ));
        }
        Ok(self.path.join(name))
    }
}

/// A file of a [`StdDir`].
#[derive(Debug)]
pub struct StdFile {
    file: fs::File,
}

impl Dir for StdDir {
    type File = StdFile;

    fn create(&self, name: &str) -> io::Result<StdFile> {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.file_path(name)?)?;
        Ok(StdFile { file })
    }

    fn open(&self, name: &str) -> io::Result<StdFile> {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.file_path(name)?)?;
        Ok(StdFile { file })
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.file_path(from)?, self.file_path(to)?)
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        fs::remove_file(self.file_path(name)?)
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn sync(&self) -> io::Result<()> {
        // On Linux a directory is fsynced through a read-only handle.
        fs::File::open(&self.path)?.sync_all()
    }
}

impl File for StdFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }

    #[cfg(target_os = "linux")]
    fn write_vectored_at(&mut self, offset: u64, pieces: &[io::IoSlice<'_>]) -> io::Result<()> {
        // pwritev(2) takes at most IOV_MAX pieces a call (rustix passes
        // that many) and may write short: go on after what it wrote.
        let mut left: usize = pieces.iter().map(|p| p.len()).sum();
        let mut pieces = pieces.to_vec();
        let mut rest = &mut pieces[..];
        let mut at = offset;
        while left > 0 {
            match rustix::io::pwritev(&self.file, rest, at) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(wrote) => {
                    at += wrote as u64;
                    left -= wrote;
                    io::IoSlice::advance_slices(&mut rest, wrote);
                }
                Err(e) if e == rustix::io::Errno::INTR => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self, offset: u64, len: u64) {
        // posix_fadvise(DONTNEED): Linux starts writeback of the range's
        // dirty pages without waiting, then drops only its clean pages
        // (not these, dirty or under writeback). PostgreSQL flushes ahead
        // this way where sync_file_range(2), which no safe wrapper offers,
        // is missing. A hint: an error changes nothing and is ignored.
        let _ = rustix::fs::fadvise(
            &self.file,
            offset,
            std::num::NonZeroU64::new(len),
            rustix::fs::Advice::DontNeed,
        );
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn size_bytes(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn allocate(&mut self, len_bytes: u64) -> io::Result<()> {
        // fallocate(2) reserves the blocks (a sparse `set_len` would leave
        // each sync to allocate them, a metadata write per sync).
        #[cfg(target_os = "linux")]
        match rustix::fs::fallocate(
            &self.file,
            rustix::fs::FallocateFlags::empty(),
            0,
            len_bytes,
        ) {
            Ok(()) => return Ok(()),
            // Not every file system supports it: fall back to `set_len`.
            Err(e) if e == rustix::io::Errno::OPNOTSUPP => {}
            Err(e) => return Err(e.into()),
        }
        if self.file.metadata()?.len() < len_bytes {
            self.file.set_len(len_bytes)?;
        }
        Ok(())
    }
}
