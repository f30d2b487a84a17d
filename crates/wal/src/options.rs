//! The log's limits, validated once when it opens.

use crate::error::Error;

/// How the log lays out and caches its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// A segment is rolled (synced, and a new one created) once the next
    /// record would take it past this size. Between 4 KiB and 1 GiB; a
    /// single record larger than this gets a segment of its own.
    pub segment_bytes: u64,
    /// Create each segment at its full size up front, so appends never
    /// change a file's length (`fdatasync` then has no size to write). On
    /// Linux the blocks are reserved with `fallocate(2)`; where the file
    /// system does not support it, `set_len` makes a sparse file instead,
    /// whose blocks are still allocated as they are written.
    pub preallocate: bool,
    /// Zero the segment ahead of small writes. After a sync that wrote at
    /// most a tenth of this many bytes past the stretch zeroed before, the
    /// next `zero_ahead_bytes` of the segment (never past `segment_bytes`)
    /// are written with zeros and made durable by the same sync. Later
    /// syncs inside that stretch overwrite blocks the file system has
    /// already written, so `fdatasync` flushes data only: a preallocated
    /// (`fallocate`d) block is "unwritten" until then, and converting it
    /// costs a journal commit per sync. Measured on ext4 (docs/wal.md),
    /// this makes syncs of up to 64 KiB 1.3x to 1.6x faster, and would
    /// make syncs of 128 KiB or more slower (the zeros cost bandwidth),
    /// hence the tenth. The zeros are the clean end of a segment recovery
    /// already reads, so the format is unchanged. `0` turns it off.
    pub zero_ahead_bytes: u64,
    /// Compacted segment files kept for reuse. Compaction renames up to
    /// this many segments it no longer needs to free segment files instead
    /// of deleting them, and the next rolls write over them: their blocks
    /// are already written, so every `fdatasync` into them flushes data
    /// only, where a new (`fallocate`d) segment's first writes also convert
    /// its extents, which on ext4 costs a journal commit per sync. Measured
    /// in docs/wal.md. The old records in a reused file stay behind the new
    /// ones, under another checksum seed, so no scan takes them for the new
    /// segment's (docs/wal.md, "Recycled segments"). Costs this many
    /// segments of disk space. `0` deletes compacted segments.
    pub recycle_segments: usize,
    /// Write a batch ahead of its sync once this many bytes of it wait:
    /// an append that leaves at least this much unwritten writes it out
    /// and asks the file system to start writing it to disk
    /// (`File::start_writeback`), and entries records are cut at this
    /// size so a large append does so as it goes. The disk then works
    /// while the rest of the batch is encoded and written, instead of
    /// idling until the sync. Nothing becomes durable before the sync, and
    /// a failed early write fails the append like a failed sync (the log
    /// refuses writes until reopened). Measured in docs/wal.md: syncs of
    /// a few MiB and more run about 1.5x faster; batches below 1 MiB are
    /// never written early by default (128 KiB pieces measured slower). At
    /// most 1 GiB; `0` turns it off.
    pub write_behind_bytes: u64,
    /// A sync of at least this many bytes (appended since the last sync)
    /// ends its batch on a 4 KiB page boundary: a padding record (format
    /// version 4) fills the rest of the page, so the next batch starts on
    /// a fresh page rather than in the page this one ended in, which the
    /// disk would write a second time. Measured in docs/wal.md: 2-4 %
    /// faster syncs of 256 KiB of entries; small syncs would waste most of
    /// a page each, hence the threshold. Never pads past `segment_bytes`.
    /// `0` turns it off.
    pub pad_syncs_from_bytes: u64,
    /// Recent entries kept in memory (by `Entry::size_bytes`), so a
    /// follower slightly behind, and the apply of what was just committed,
    /// are served without reading the disk.
    pub cache_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            preallocate: true,
            zero_ahead_bytes: 1 << 20,
            recycle_segments: 2,
            write_behind_bytes: 1 << 20,
            pad_syncs_from_bytes: 128 << 10,
            cache_bytes: 8 << 20,
        }
    }
}

impl Options {
    /// Checks the limits.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] naming the field.
    pub fn validate(&self) -> Result<(), Error> {
        if !(4096..=1 << 30).contains(&self.segment_bytes) {
            return Err(Error::InvalidOptions {
                field: "segment_bytes",
                reason: "must be between 4 KiB and 1 GiB",
            });
        }
        if self.zero_ahead_bytes > 1 << 30 {
            return Err(Error::InvalidOptions {
                field: "zero_ahead_bytes",
                reason: "must be at most 1 GiB",
            });
        }
        if self.write_behind_bytes > 1 << 30 {
            return Err(Error::InvalidOptions {
                field: "write_behind_bytes",
                reason: "must be at most 1 GiB",
            });
        }
        if self.recycle_segments > 1024 {
            return Err(Error::InvalidOptions {
                field: "recycle_segments",
                reason: "must be at most 1024",
            });
        }
        Ok(())
    }
}
