//! Disk faults on demand, for the nemesis: the replica's log directory
//! behind a switch that makes every write, sync, allocation and name
//! change fail with EIO (a dying disk) or ENOSPC (a full one) while it is
//! on. Reads still work. The switch is a file the test writes (`eio`,
//! `enospc`, or empty for healthy), polled every few milliseconds, so the
//! fault reaches a replica running as another process.
//!
//! Off (no `--disk-fault-file`), the wrapper only adds one relaxed atomic
//! load per operation.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use synod_wal::fs::{Dir, File, StdDir, StdFile};

const HEALTHY: u8 = 0;
const EIO: u8 = 1;
const ENOSPC: u8 = 2;

/// Which fault is on.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch(Arc<AtomicU8>);

impl FaultSwitch {
    /// A switch that stays healthy.
    #[must_use]
    pub fn healthy() -> Self {
        Self::default()
    }

    /// A switch set from the file at `path` every 5 ms by a background
    /// thread: `eio`, `enospc`, anything else (or no file) healthy.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn watch(path: PathBuf) -> io::Result<Self> {
        let switch = Self::default();
        let state = switch.0.clone();
        std::thread::Builder::new()
            .name("disk-fault-switch".into())
            .spawn(move || {
                loop {
                    let fault = match std::fs::read_to_string(&path) {
                        Ok(s) if s.trim() == "eio" => EIO,
                        Ok(s) if s.trim() == "enospc" => ENOSPC,
                        _ => HEALTHY,
                    };
                    state.store(fault, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })?;
        Ok(switch)
    }

    fn check(&self) -> io::Result<()> {
        match self.0.load(Ordering::Relaxed) {
            // The kernel's own error numbers, so the log sees what a real
            // disk would give it (ENOSPC maps to `StorageFull`).
            EIO => Err(io::Error::from_raw_os_error(5)),
            ENOSPC => Err(io::Error::from_raw_os_error(28)),
            _ => Ok(()),
        }
    }
}

/// A [`StdDir`] behind a [`FaultSwitch`].
#[derive(Debug, Clone)]
pub struct FaultyDir {
    inner: StdDir,
    switch: FaultSwitch,
}

impl FaultyDir {
    /// Wraps `inner`.
    #[must_use]
    pub fn new(inner: StdDir, switch: FaultSwitch) -> Self {
        Self { inner, switch }
    }
}

/// A [`StdFile`] behind a [`FaultSwitch`].
#[derive(Debug)]
pub struct FaultyFile {
    inner: StdFile,
    switch: FaultSwitch,
}

impl Dir for FaultyDir {
    type File = FaultyFile;

    fn create(&self, name: &str) -> io::Result<FaultyFile> {
        self.switch.check()?;
        Ok(FaultyFile {
            inner: self.inner.create(name)?,
            switch: self.switch.clone(),
        })
    }

    fn open(&self, name: &str) -> io::Result<FaultyFile> {
        Ok(FaultyFile {
            inner: self.inner.open(name)?,
            switch: self.switch.clone(),
        })
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.switch.check()?;
        self.inner.rename(from, to)
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.switch.check()?;
        self.inner.remove(name)
    }

    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }

    fn sync(&self) -> io::Result<()> {
        self.switch.check()?;
        self.inner.sync()
    }
}

impl File for FaultyFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_at(offset, buf)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.switch.check()?;
        self.inner.write_at(offset, data)
    }

    fn write_vectored_at(&mut self, offset: u64, pieces: &[io::IoSlice<'_>]) -> io::Result<()> {
        self.switch.check()?;
        self.inner.write_vectored_at(offset, pieces)
    }

    fn start_writeback(&mut self, offset: u64, len: u64) {
        self.inner.start_writeback(offset, len);
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.switch.check()?;
        self.inner.sync_data()
    }

    fn size_bytes(&self) -> io::Result<u64> {
        self.inner.size_bytes()
    }

    fn allocate(&mut self, len_bytes: u64) -> io::Result<()> {
        self.switch.check()?;
        self.inner.allocate(len_bytes)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.switch.check()?;
        self.inner.set_len(len)
    }
}
