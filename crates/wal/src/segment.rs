//! One segment file: a 32-byte header, then records (see `record`).
//!
//! ```text
//!  offset  size  field
//!       0     8  magic       "SYNODWAL"
//!       8     4  version     format version, u32 (4)
//!      12     4  flags       u32, since version 3 (zero before):
//!                            bit 0, recycled: the file held another
//!                            segment before, whose records may lie past
//!                            this one's data; other bits zero
//!      16     8  id          segment id, u64
//!      24     4  reserved    zero
//!      28     4  header_crc  CRC32C of bytes 0..28
//! ```
//!
//! The fsync rule of each step is written where the step is.

use std::io::IoSlice;

use crate::error::{Error, io};
use crate::fs::{Dir, File};
use crate::record::{self, End, HEADER_BYTES, KIND_PADDING, KIND_SYNCED, Splice, SplicedPayload};

/// Bytes in a segment header; records start here.
pub const SEGMENT_HEADER_BYTES: u64 = 32;
/// The format version this build writes and the newest it reads (4:
/// padding records, [`record::KIND_PADDING`]; 3: record headers
/// checksummed from a per-segment seed, so segment files can be recycled;
/// 2: snapshot data in a file of its own; versions 1 to 3 are read too).
pub const FORMAT_VERSION: u32 = 4;
/// The first format version whose segments may hold padding records: a
/// writer continuing an older segment never pads it, so a build that
/// reads only that version can still read it.
const PADDING_SINCE: u32 = 4;
/// The page size large syncs align their end to.
pub const PAGE_BYTES: u64 = 4096;
const SEGMENT_MAGIC: [u8; 8] = *b"SYNODWAL";
/// The seed of the id whose CRC32C is 0, if there is one.
const ZERO_CRC_SEED: u32 = 0x5EED_5EED;
/// The header flag of a recycled segment.
const FLAG_RECYCLED: u32 = 1;
/// Zeros written ahead of the data, a piece at a time.
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

/// What a segment header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The segment's id.
    pub id: u64,
    /// The format version that wrote it.
    pub version: u32,
    /// The file held another segment before (version 3 on).
    pub recycled: bool,
}

impl SegmentHeader {
    /// The header this build writes for segment `id`.
    #[must_use]
    pub fn new(id: u64, recycled: bool) -> Self {
        Self {
            id,
            version: FORMAT_VERSION,
            recycled,
        }
    }

    /// The checksum seed of the segment's record headers (see `record`):
    /// from version 3 on, CRC32C of the id, little-endian (distinct for
    /// any two ids below 2^32: they differ only in 32 adjacent bits, a
    /// burst a 32-bit CRC always catches), never 0; 0 before.
    #[must_use]
    pub fn seed(&self) -> u32 {
        if self.version < 3 {
            return 0;
        }
        // Never the seed of version 1 and 2 records, whose stale copies a
        // recycled version 2 file may hold.
        match crc32c::crc32c(&self.id.to_le_bytes()) {
            0 => ZERO_CRC_SEED,
            seed => seed,
        }
    }
}

/// The header of a new segment `id` in this build's format.
#[must_use]
pub fn encode_header(id: u64) -> [u8; 32] {
    encode_header_flags(id, false)
}

fn encode_header_flags(id: u64, recycled: bool) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    let flags = if recycled { FLAG_RECYCLED } else { 0 };
    h[12..16].copy_from_slice(&flags.to_le_bytes());
    h[16..24].copy_from_slice(&id.to_le_bytes());
    let crc = crc32c::crc32c(&h[..28]);
    h[28..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// The header at the start of `bytes`, or why it is not one this build
/// reads.
///
/// # Errors
/// [`Error::NotALog`] or [`Error::NewerFormat`].
pub fn decode_header(bytes: &[u8], file: &str) -> Result<SegmentHeader, Error> {
    let not_a_log = |why| Error::NotALog {
        file: file.to_string(),
        why,
    };
    let h = bytes.get(..32).ok_or(not_a_log("header cut short"))?;
    if h[..8] != SEGMENT_MAGIC {
        return Err(not_a_log("no segment magic"));
    }
    let crc = u32::from_le_bytes([h[28], h[29], h[30], h[31]]);
    if crc32c::crc32c(&h[..28]) != crc {
        return Err(not_a_log("header checksum mismatch"));
    }
    let version = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            file: file.to_string(),
            version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 || h[24..28] != [0; 4] {
        return Err(not_a_log("bad version or reserved bytes"));
    }
    let flags = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    let known = if version >= 3 { FLAG_RECYCLED } else { 0 };
    if flags & !known != 0 {
        return Err(not_a_log("unknown segment flags"));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[16..24]);
    Ok(SegmentHeader {
        id: u64::from_le_bytes(id),
        version,
        recycled: flags & FLAG_RECYCLED != 0,
    })
}

/// Appends records to one segment, with group commit: [`append`] buffers,
/// [`sync`] writes the batch and makes it durable with one `sync_data`.
///
/// [`append`]: SegmentWriter::append
/// [`sync`]: SegmentWriter::sync
#[derive(Debug)]
pub struct SegmentWriter<F> {
    name: String,
    file: F,
    id: u64,
    /// The checksum seed of its record headers.
    seed: u32,
    /// Record-data offset up to which the file may hold stale bytes of the
    /// segment it was before (0 for a new file): every write there ends
    /// with an end mark, a zero record header, so a scan stops at the
    /// records' end and not inside the stale bytes after them.
    stale_until: u64,
    /// Records appended and not yet written: their owned bytes...
    buf: Vec<u8>,
    /// ...with large entry bodies spliced in, in order of position.
    splices: Vec<Splice>,
    /// Bytes in `splices`.
    spliced: u64,
    /// Record-data offset where `buf` (with its splices) goes.
    /// Invariant: `synced <= written`, both multiples of `record::ALIGN`.
    written: u64,
    /// Record-data offset up to which a sync returned `Ok`.
    synced: u64,
    /// The last sync made data durable and no record follows it yet: the
    /// next batch opens with a synced marker (docs/wal.md).
    marker_due: bool,
    /// A write or sync failed: refuse everything until recovered.
    poisoned: bool,
    /// Record-data offset up to which the file holds written bytes (records
    /// or zeros this writer wrote), so overwriting them changes no block
    /// map. Invariant: `written <= zeroed`.
    zeroed: u64,
    /// How far ahead small syncs zero (`Options::zero_ahead_bytes`; 0:
    /// never).
    zero_ahead: u64,
    /// Record-data offset the zeros stop at: the segment's size.
    zero_limit: u64,
    /// Whether the segment's format has padding records.
    pads: bool,
    /// Syncs of at least this many bytes end on a page boundary
    /// (`Options::pad_syncs_from_bytes`; 0: never).
    pad_from: u64,
    /// Record-data offset no padding passes: the segment's size.
    pad_limit: u64,
}

impl<F: File> SegmentWriter<F> {
    /// Creates segment file `name` with id `id`. After this returns the
    /// empty segment survives a crash: its header is synced, then the
    /// directory entry.
    ///
    /// # Errors
    /// [`Error::Io`] (the name exists, or the file system failed).
    pub fn create<D: Dir<File = F>>(dir: &D, name: &str, id: u64) -> Result<Self, Error> {
        Self::create_sized(dir, name, id, 0)
    }

    /// [`SegmentWriter::create`] with `len_bytes` of disk space allocated
    /// up front ([`File::allocate`]), so appends inside it change neither
    /// the file's size nor its block map (a `sync_data` then writes data,
    /// little metadata). The extra bytes read as zeros: the clean end of a
    /// segment.
    ///
    /// # Errors
    /// As [`SegmentWriter::create`].
    pub fn create_sized<D: Dir<File = F>>(
        dir: &D,
        name: &str,
        id: u64,
        len_bytes: u64,
    ) -> Result<Self, Error> {
        let mut file = dir.create(name).map_err(io("create", name))?;
        file.write_at(0, &encode_header(id))
            .map_err(io("write header of", name))?;
        if len_bytes > SEGMENT_HEADER_BYTES {
            file.allocate(len_bytes).map_err(io("preallocate", name))?;
        }
        file.sync_data().map_err(io("sync", name))?;
        dir.sync().map_err(io("sync directory for", name))?;
        Ok(Self::resume(name, file, &SegmentHeader::new(id, false), 0))
    }

    /// Makes the free segment file `free` (a compacted segment kept for
    /// reuse) into segment `name` with id `id`, at least `len_bytes` long.
    /// Its blocks are already written, so syncs into it flush data only;
    /// the old records in it stay, under another checksum seed, behind an
    /// end mark. The new header and the end mark are synced before the
    /// rename, and the rename before this returns: whatever a crash keeps,
    /// a file named as a segment has this segment's header.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn recycle<D: Dir<File = F>>(
        dir: &D,
        free: &str,
        name: &str,
        id: u64,
        len_bytes: u64,
    ) -> Result<Self, Error> {
        let mut file = dir.open(free).map_err(io("open", free))?;
        let size = file.size_bytes().map_err(io("size", free))?;
        let mut head = [0u8; SEGMENT_HEADER_BYTES as usize + HEADER_BYTES];
        head[..SEGMENT_HEADER_BYTES as usize].copy_from_slice(&encode_header_flags(id, true));
        file.write_at(0, &head)
            .map_err(io("write header of", free))?;
        if len_bytes > size {
            file.allocate(len_bytes).map_err(io("preallocate", free))?;
        }
        file.sync_data().map_err(io("sync", free))?;
        dir.rename(free, name).map_err(io("rename", free))?;
        dir.sync().map_err(io("sync directory for", name))?;
        let writer = Self::resume(name, file, &SegmentHeader::new(id, true), 0);
        Ok(writer.over_stale(size.saturating_sub(SEGMENT_HEADER_BYTES)))
    }

    /// The file holds stale bytes of an earlier segment up to record-data
    /// offset `stale_until`: writes there end with an end mark, and its
    /// blocks are written, so nothing is zeroed ahead inside them.
    fn over_stale(mut self, stale_until: u64) -> Self {
        self.stale_until = stale_until;
        self.zeroed = self.zeroed.max(stale_until);
        self
    }

    /// Continues a segment whose record data up to `end` is durable.
    pub(crate) fn resume(name: &str, file: F, header: &SegmentHeader, end: u64) -> Self {
        Self {
            name: name.to_string(),
            file,
            id: header.id,
            seed: header.seed(),
            stale_until: 0,
            buf: Vec::new(),
            splices: Vec::new(),
            spliced: 0,
            written: end,
            synced: end,
            marker_due: end > 0,
            poisoned: false,
            zeroed: end,
            zero_ahead: 0,
            zero_limit: 0,
            pads: header.version >= PADDING_SINCE,
            pad_from: 0,
            pad_limit: 0,
        }
    }

    /// Ends each sync of at least `bytes` bytes on a page boundary with a
    /// padding record, never past `segment_bytes` of file (see
    /// `Options::pad_syncs_from_bytes`). Segments of a format before
    /// version 4 are never padded.
    #[must_use]
    pub fn with_padding(mut self, bytes: u64, segment_bytes: u64) -> Self {
        self.pad_from = bytes;
        self.pad_limit = segment_bytes.saturating_sub(SEGMENT_HEADER_BYTES);
        self
    }

    /// Zeros up to `bytes` of the segment ahead of small writes, never past
    /// `segment_bytes` of file (see `Options::zero_ahead_bytes`).
    #[must_use]
    pub fn with_zero_ahead(mut self, bytes: u64, segment_bytes: u64) -> Self {
        self.zero_ahead = bytes;
        self.zero_limit = segment_bytes.saturating_sub(SEGMENT_HEADER_BYTES);
        self
    }

    /// The segment's id.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The checksum seed of its record headers.
    #[must_use]
    pub fn seed(&self) -> u32 {
        self.seed
    }

    /// Whether the file held another segment before (it then has stale
    /// bytes after the records, behind an end mark).
    #[must_use]
    pub fn recycled(&self) -> bool {
        self.stale_until > 0
    }

    /// Record-data offset up to which everything is durable.
    #[must_use]
    pub fn synced(&self) -> u64 {
        self.synced
    }

    /// Record-data bytes appended so far, written or not.
    #[must_use]
    pub fn appended(&self) -> u64 {
        self.written + self.buf.len() as u64 + self.spliced
    }

    /// Buffers one record; returns its record-data offset. Durable once a
    /// later [`SegmentWriter::sync`] returns `Ok`.
    ///
    /// # Errors
    /// [`Error::Poisoned`] after a failed write or sync;
    /// [`Error::TooLarge`] for a payload of 4 GiB or more.
    pub fn append(&mut self, kind: u8, payload: &[u8]) -> Result<u64, Error> {
        self.append_with(kind, |out| {
            out.extend_from_slice(payload);
            Ok(())
        })
    }

    /// [`SegmentWriter::append`] for a payload `write` appends to the
    /// buffer itself (see [`record::encode_with`]).
    ///
    /// # Errors
    /// As [`SegmentWriter::append`], or what `write` returns.
    pub fn append_with(
        &mut self,
        kind: u8,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        self.append_spliced(kind, |payload| write(payload.owned()))
    }

    /// [`SegmentWriter::append_with`] for a payload whose large entry
    /// bodies `write` may splice in ([`record::Sink::put_body`]): the
    /// batch then holds them by reference and [`SegmentWriter::sync`]
    /// writes them from where they lie, never copied.
    ///
    /// # Errors
    /// As [`SegmentWriter::append_with`].
    pub fn append_spliced(
        &mut self,
        kind: u8,
        write: impl FnOnce(&mut SplicedPayload<'_>) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        self.open_batch()?;
        let offset = self.appended();
        let (_, spliced) =
            record::encode_spliced(kind, self.seed, &mut self.buf, &mut self.splices, write)?;
        self.spliced += spliced as u64;
        Ok(offset)
    }

    /// Refuses a poisoned writer; opens a batch after a sync with its
    /// synced marker.
    fn open_batch(&mut self) -> Result<(), Error> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if self.marker_due {
            // A sync left the batch empty, so the marker starts it.
            debug_assert!(self.buf.is_empty() && self.splices.is_empty());
            record::encode_synced(self.synced, self.seed, &mut self.buf);
            self.marker_due = false;
        }
        Ok(())
    }

    /// The file, for reading records already written (record-data offset
    /// `o` is at file offset `SEGMENT_HEADER_BYTES + o`).
    #[must_use]
    pub fn file(&self) -> &F {
        &self.file
    }

    /// The file, for reading once the segment is sealed (synced whole).
    #[must_use]
    pub fn into_file(self) -> F {
        self.file
    }

    /// Record-data bytes written to the file (synced or not); records
    /// appended past this are still in the writer's buffer.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes the buffered records and syncs: after `Ok`, every record
    /// appended before this call survives a crash. Returns the durable
    /// record-data offset.
    ///
    /// # Errors
    /// [`Error::Poisoned`], or [`Error::Io`]: then nothing appended since
    /// the last successful sync is durable, and the writer is poisoned (a
    /// sync is never retried: docs/wal.md).
    pub fn sync(&mut self) -> Result<u64, Error> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        self.pad_to_page()?;
        self.write_out()?;
        if self.synced == self.written {
            return Ok(self.synced);
        }
        if let Err(e) = self.file.sync_data() {
            self.poisoned = true;
            return Err(io("sync", &self.name)(e));
        }
        self.synced = self.written;
        self.marker_due = true;
        Ok(self.synced)
    }

    /// Ends a large batch on a page boundary: a padding record up to the
    /// next page (or the one after, when less than a record header is
    /// left), unless that would pass the segment's size. Measured on the
    /// virtual disk of docs/wal.md: a 264 KiB sync that ends on a page
    /// boundary and starts on the next was 2-4 % faster than a 260 KiB
    /// one that starts inside the page the last sync ended in (which the
    /// disk writes a second time).
    fn pad_to_page(&mut self) -> Result<(), Error> {
        let batch = self.appended() - self.synced;
        if !self.pads || self.pad_from == 0 || batch < self.pad_from {
            return Ok(());
        }
        // Part of the batch already went out ahead of the sync (write-
        // behind) and ended inside a page: that page may be under
        // writeback, and a write into it waits for that (measured: 64 KiB
        // x 16 syncs half again as slow with the padding written after
        // them). An early write that was padded itself ended on a page.
        if self.written > self.synced
            && !(SEGMENT_HEADER_BYTES + self.written).is_multiple_of(PAGE_BYTES)
        {
            return Ok(());
        }
        // Record-data offsets are multiples of ALIGN and so is the
        // header's size, so the gap is one too.
        let end = SEGMENT_HEADER_BYTES + self.appended();
        let mut gap = end.next_multiple_of(PAGE_BYTES) - end;
        if gap == 0 {
            return Ok(());
        }
        if gap < HEADER_BYTES as u64 {
            gap += PAGE_BYTES;
        }
        if self.appended() + gap > self.pad_limit {
            return Ok(());
        }
        // `gap` is at least a record header and at most a page more.
        let Ok(payload) = usize::try_from(gap - HEADER_BYTES as u64) else {
            return Ok(());
        };
        // Appended like any record: after spliced bodies the buffer alone
        // is not aligned, the batch is.
        self.append_with(KIND_PADDING, |out| {
            out.resize(out.len() + payload, 0);
            Ok(())
        })?;
        Ok(())
    }

    /// Writes the records appended so far ahead of the next sync if at
    /// least `bytes` of them wait (and `bytes` is not 0), and asks the
    /// file system to start writing them to disk
    /// ([`File::start_writeback`]). Nothing becomes durable before
    /// [`SegmentWriter::sync`]. Returns whether it wrote.
    ///
    /// # Errors
    /// As [`SegmentWriter::sync`]: a failed write poisons the writer.
    pub fn write_behind(&mut self, bytes: u64) -> Result<bool, Error> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if bytes == 0 || self.appended() - self.written < bytes {
            return Ok(false);
        }
        let from = self.written;
        // Ended on a page, so that the next write does not start in a
        // page under writeback.
        self.pad_to_page()?;
        self.write_out()?;
        self.file
            .start_writeback(SEGMENT_HEADER_BYTES + from, self.written - from);
        Ok(true)
    }

    /// Writes the buffered records (not synced); the writer is poisoned if
    /// that fails.
    fn write_out(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let at = SEGMENT_HEADER_BYTES + self.written;
        let wrote = self.buf.len() as u64 + self.spliced;
        // Over stale bytes, an end mark after the records (as many zeros
        // of a record header as fit before them end), written with them
        // and overwritten by the next write.
        let mark = self
            .stale_until
            .saturating_sub(self.written + wrote)
            .min(HEADER_BYTES as u64);
        self.buf.resize(self.buf.len() + mark as usize, 0);
        if let Err(e) = self.write_batch(at) {
            self.poisoned = true;
            return Err(io("write", &self.name)(e));
        }
        self.written += wrote;
        self.buf.clear();
        self.splices.clear();
        self.spliced = 0;
        if let Err(e) = self.zero_ahead_of(wrote) {
            self.poisoned = true;
            return Err(io("zero ahead in", &self.name)(e));
        }
        Ok(())
    }
}

impl<F: File> SegmentWriter<F> {
    /// Writes the batch at file offset `at`: one write of the buffer, or
    /// with splices one vectored write of the buffer's pieces and the
    /// spliced bytes between them.
    fn write_batch(&mut self, at: u64) -> std::io::Result<()> {
        if self.splices.is_empty() {
            return self.file.write_at(at, &self.buf);
        }
        let mut pieces = Vec::with_capacity(2 * self.splices.len() + 1);
        let mut from = 0;
        for splice in &self.splices {
            pieces.push(IoSlice::new(&self.buf[from..splice.at]));
            pieces.push(IoSlice::new(&splice.data));
            from = splice.at;
        }
        pieces.push(IoSlice::new(&self.buf[from..]));
        self.file.write_vectored_at(at, &pieces)
    }

    /// After a write of `wrote` bytes ending at `written`: if it passed the
    /// zeroed stretch and was small, zeros the next stretch, so the syncs
    /// that follow overwrite written blocks (no extent conversion, no
    /// journal commit per sync). Big writes gain nothing from it (measured:
    /// docs/wal.md) and skip it. The zeros lie past every record, where a
    /// crash may keep any of them: they read as the clean end of a segment.
    fn zero_ahead_of(&mut self, wrote: u64) -> std::io::Result<()> {
        let end = self.written;
        if end <= self.zeroed {
            return Ok(());
        }
        self.zeroed = end;
        if wrote.saturating_mul(10) > self.zero_ahead {
            return Ok(());
        }
        let to = end.saturating_add(self.zero_ahead).min(self.zero_limit);
        write_zeros(&mut self.file, end, to)?;
        self.zeroed = self.zeroed.max(to);
        Ok(())
    }
}

/// What recovery found in a segment.
#[derive(Debug)]
pub struct Recovered<F> {
    /// The records, in order, without the synced markers: (record-data
    /// offset, kind, payload).
    pub records: Vec<(u64, u8, Vec<u8>)>,
    /// A writer that continues after them.
    pub writer: SegmentWriter<F>,
    /// Bytes of torn tail cut off.
    pub truncated_bytes: u64,
}

/// Opens segment `name` after a crash or a restart and returns its durable
/// records: a torn tail is cut off (and the cut synced), corruption of
/// synced data is an error.
///
/// # Errors
/// [`Error::NotALog`] or [`Error::NewerFormat`] for a bad header,
/// [`Error::Corrupt`], or [`Error::Io`].
pub fn recover<D: Dir>(dir: &D, name: &str) -> Result<Recovered<D::File>, Error> {
    let mut records = Vec::new();
    let replayed = replay(dir, name, None, Position::Tail, |offset, kind, payload| {
        records.push((offset, kind, payload.to_vec()));
        Ok(())
    })?;
    Ok(Recovered {
        records,
        writer: replayed.writer,
        truncated_bytes: replayed.truncated_bytes,
    })
}

/// Where a segment stands in the log, which decides what a bad record in
/// it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Not the last segment: it was synced whole before the next one was
    /// created, so any bad record in it is damage ([`Error::Corrupt`]).
    Sealed,
    /// The last segment: a bad record no synced marker attests is a torn
    /// tail, cut off.
    Tail,
}

/// A segment replayed by [`replay`].
#[derive(Debug)]
pub struct Replayed<F> {
    /// A writer that continues after its records (for the tail; a sealed
    /// segment's is used only to read).
    pub writer: SegmentWriter<F>,
    /// Bytes zeroed after the tail's data, when it held a torn record or
    /// any other non-zero byte (the file keeps its length, so a
    /// preallocated segment stays preallocated).
    pub truncated_bytes: u64,
}

/// Reads segment `name` (whose header must carry `expect_id`, if given),
/// hands each record but the synced markers and padding to
/// `visit` as (record-data offset, kind, payload), and returns a writer
/// after the last one. A torn tail of the [`Position::Tail`] segment is
/// zeroed and the result synced; bad records anywhere else are errors.
/// The file is synced either way: what was read may still be only in the
/// page cache (a process restart without a machine crash) and must be
/// durable before anything is reported durable.
///
/// # Errors
/// [`Error::NotALog`] or [`Error::NewerFormat`] for a bad header,
/// [`Error::Corrupt`], whatever `visit` returns, or [`Error::Io`].
pub fn replay<D: Dir>(
    dir: &D,
    name: &str,
    expect_id: Option<u64>,
    position: Position,
    mut visit: impl FnMut(u64, u8, &[u8]) -> Result<(), Error>,
) -> Result<Replayed<D::File>, Error> {
    let mut file = dir.open(name).map_err(io("open", name))?;
    let size = file.size_bytes().map_err(io("size", name))?;
    let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
    let read = file.read_at(0, &mut bytes).map_err(io("read", name))?;
    bytes.truncate(read);
    let header = decode_header(&bytes, name)?;
    if expect_id.is_some_and(|id| id != header.id) {
        // Checked before anything is read or repaired: the header's id
        // seeds the records' checksums, so under a wrong one every record
        // would look torn.
        return Err(Error::NotALog {
            file: name.to_string(),
            why: "header id does not match the file name",
        });
    }
    let seed = header.seed();
    let data = &bytes[SEGMENT_HEADER_BYTES as usize..];
    let scan = record::scan(data, seed);
    let corrupt = |offset: usize, marker: usize, why| Error::Corrupt {
        file: name.to_string(),
        offset: SEGMENT_HEADER_BYTES + offset as u64,
        marker: SEGMENT_HEADER_BYTES + marker as u64,
        why,
    };
    let (end, torn) = match scan.end {
        End::Clean { offset } => (offset, false),
        End::Torn { offset } if position == Position::Tail => (offset, true),
        // A sealed segment was synced whole before its successor was
        // created: the successor attests every byte of it.
        End::Torn { offset } => {
            return Err(Error::SealedDamaged {
                file: name.to_string(),
                offset: SEGMENT_HEADER_BYTES + offset as u64,
            });
        }
        End::Corrupt {
            offset,
            marker,
            why,
        } => return Err(corrupt(offset, marker, why)),
    };
    let carries = |f: &&record::Found| f.kind != KIND_SYNCED && f.kind != KIND_PADDING;
    for found in scan.records.iter().filter(carries) {
        visit(
            found.offset as u64,
            found.kind,
            &data[found.payload.clone()],
        )?;
    }
    let keep = SEGMENT_HEADER_BYTES + end as u64;
    let truncated_bytes = if position == Position::Sealed {
        0
    } else if header.recycled {
        zero_recycled_tail(&mut file, name, data, end, torn, seed)?
    } else {
        // Anything but zeros after the end of the tail's data (a torn
        // record, or pieces of a lost batch a disk wrote out of order) is
        // zeroed too: appends will fill that space, and once the segment
        // is sealed a stray byte there would read as damage.
        let dirty = torn || data[end..].iter().any(|&b| b != 0);
        if dirty {
            // Cut, then restore the length: the torn bytes read as zeros
            // (the clean end of a segment) and a preallocated file keeps
            // its space.
            file.set_len(keep).map_err(io("truncate", name))?;
            file.allocate(size).map_err(io("extend", name))?;
        }
        if dirty { size - keep } else { 0 }
    };
    file.sync_data().map_err(io("sync", name))?;
    let mut writer = SegmentWriter::resume(name, file, &header, end as u64);
    if header.recycled {
        writer = writer.over_stale(data.len() as u64);
    }
    Ok(Replayed {
        writer,
        truncated_bytes,
    })
}

/// The tail of a recycled segment past its data at `end` holds stale
/// records under other seeds, which stay (their blocks are why the file
/// was kept), and perhaps pieces of a batch a crash lost, under this
/// segment's seed: those are zeroed, from `end` up to the end of the last
/// record header this seed accepts, and at least an end mark at `end` so
/// the data ends cleanly there. Returns the bytes zeroed (0 when the end
/// mark is there and nothing after it passes as this segment's).
fn zero_recycled_tail<F: File>(
    file: &mut F,
    name: &str,
    data: &[u8],
    end: usize,
    torn: bool,
    seed: u32,
) -> Result<u64, Error> {
    let reach = record::live_reach(data, end, seed);
    let mark_end = (end + HEADER_BYTES).min(data.len());
    let mark_missing = data[end..mark_end].iter().any(|&b| b != 0);
    if !torn && reach == end && !mark_missing {
        return Ok(0);
    }
    let to = reach.max(mark_end);
    write_zeros(file, end as u64, to as u64).map_err(io("zero the torn tail of", name))?;
    Ok((to - end) as u64)
}

/// Writes zeros over record-data offsets `from..to`, a piece at a time.
fn write_zeros<F: File>(file: &mut F, from: u64, to: u64) -> std::io::Result<()> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64);
        // `n` is at most ZEROS.len().
        let piece = &ZEROS[..usize::try_from(n).unwrap_or(ZEROS.len())];
        file.write_at(SEGMENT_HEADER_BYTES + at, piece)?;
        at += n;
    }
    Ok(())
}
