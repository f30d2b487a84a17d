//! Record framing: how one record sits in a segment, and how a scan tells
//! a torn tail from corruption.
//!
//! A record is a 24-byte header, its payload, and zero padding to the next
//! multiple of 8 bytes. All integers are little-endian.
//!
//! ```text
//!  offset  size  field
//!       0     4  magic        "SWRC" (0x53 0x57 0x52 0x43)
//!       4     1  kind         what the payload is (the log's business)
//!       5     3  reserved     zero
//!       8     4  length       payload bytes
//!      12     4  payload_crc  CRC32C of the payload
//!      16     4  reserved     zero
//!      20     4  header_crc   CRC32C of bytes 0..20
//!      24     n  payload
//!    24+n     p  padding      zero, p = (8 - n % 8) % 8
//! ```
//!
//! A header of 24 zero bytes ends the data (a preallocated, never written
//! tail, zeros written ahead of the records, or the end mark a recycled
//! segment's writer puts after its records).
//!
//! **Seed.** Since format version 3 the header checksum starts from a
//! per-segment *seed* (CRC32C of the segment's id) instead of zero: a
//! recycled segment file still holds the records of the segment it was
//! before, and those must never read as records of the new one. Their
//! headers fail the new seed's check, so they read as a torn tail, never
//! as entries. Version 1 and 2 segments use seed 0 (plain CRC32C).
//!
//! **Torn or corrupt.** A crash may leave the writes made since the last
//! sync cut short, damaged, or (disks reorder writes) with a later record
//! intact after an earlier one that is not. None of that was acknowledged,
//! so it is a *torn tail*: the data ends at the first bad record. Damage
//! to a record that a sync had made durable is *corruption*: an error,
//! never skipped. To tell them apart the log writes, as the first record
//! after each successful sync, a *synced marker* (kind [`KIND_SYNCED`],
//! payload: the offset in the scanned record data, u64, up to which that
//! sync made the data durable). A scan stops at the first record that is not whole and
//! valid; it is corrupt when a valid synced marker further on attests an
//! offset past it, and torn otherwise. (Damage to the data of the very last
//! sync, before the next batch carries its marker, cannot be told from a
//! torn write and is truncated: the documented limit of this rule.) The
//! log only appends (a Raft truncation is itself a record); a file it
//! reuses holds stale records under another seed, which no scan accepts.

use std::ops::Range;

use synod_protocol::Bytes;

use crate::error::Error;

/// Bytes in a record header.
pub const HEADER_BYTES: usize = 24;
/// The magic number that starts every record.
pub const MAGIC: [u8; 4] = *b"SWRC";
/// Records start at multiples of this many bytes.
pub const ALIGN: usize = 8;
/// The kind of a synced marker: its payload is the offset in the record
/// data (u64, little-endian) up to which the previous sync made the data
/// durable.
pub const KIND_SYNCED: u8 = 0;
/// The kind of a padding record (format version 4 on): its payload is
/// zeros, and it carries nothing. A large sync's batch ends with one so
/// that the batch ends on a page boundary (`Options::pad_syncs_from_bytes`):
/// the next batch then starts on a fresh page instead of writing the last
/// page of this one again. Scans read it like any record; replay skips it.
pub const KIND_PADDING: u8 = 0xFF;

/// One record found by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where its header starts.
    pub offset: usize,
    /// Its kind byte.
    pub kind: u8,
    /// Where its payload lies in the scanned bytes.
    pub payload: Range<usize>,
}

/// How a scan ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// At the end of the bytes, or at a zero header: everything before
    /// `offset` is whole records.
    Clean {
        /// Where the next record would go.
        offset: usize,
    },
    /// A record cut short or damaged, with no valid record after it: a
    /// torn last write. The data ends at `offset`.
    Torn {
        /// Where the torn record starts.
        offset: usize,
    },
    /// A record a sync had made durable is damaged: the synced marker at
    /// `marker` attests it.
    Corrupt {
        /// Where the damaged record starts.
        offset: usize,
        /// Where the synced marker that attests it starts.
        marker: usize,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// The records of a segment's data, in order, and how the data ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Whole, valid records.
    pub records: Vec<Found>,
    /// Why the scan stopped.
    pub end: End,
}

/// Bytes a record with `payload_bytes` of payload takes, padding included.
#[must_use]
pub fn record_bytes(payload_bytes: usize) -> usize {
    HEADER_BYTES + payload_bytes.next_multiple_of(ALIGN)
}

/// Appends one record to `out`, after zero padding `out` to a multiple of
/// [`ALIGN`] if it is not one (records are aligned); returns the offset in
/// `out` where the record starts.
///
/// # Errors
/// [`Error::TooLarge`] for a payload of 4 GiB or more (`out` unchanged).
pub fn encode(kind: u8, payload: &[u8], seed: u32, out: &mut Vec<u8>) -> Result<usize, Error> {
    encode_with(kind, seed, out, |out| {
        out.extend_from_slice(payload);
        Ok(())
    })
}

/// The header at `offset`, when it is whole and its checksum (from
/// `seed`) holds: (kind, payload length).
fn header_at(bytes: &[u8], offset: usize, seed: u32) -> Result<(u8, usize), &'static str> {
    let Some(h) = bytes.get(offset..offset + HEADER_BYTES) else {
        return Err("header cut short");
    };
    if h[..4] != MAGIC {
        return Err("no record magic");
    }
    let header_crc = u32::from_le_bytes([h[20], h[21], h[22], h[23]]);
    if crc32c::crc32c_append(seed, &h[..20]) != header_crc {
        return Err("header checksum mismatch");
    }
    if h[5..8] != [0; 3] || h[16..20] != [0; 4] {
        return Err("reserved header bytes set");
    }
    let length = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    Ok((h[4], length as usize))
}

/// The record at `offset`, when whole and valid.
fn record_at(bytes: &[u8], offset: usize, seed: u32) -> Result<Found, &'static str> {
    let (kind, length) = header_at(bytes, offset, seed)?;
    let start = offset + HEADER_BYTES;
    let end = start
        .checked_add(length)
        .ok_or("length past the address space")?;
    let Some(payload) = bytes.get(start..end) else {
        return Err("payload cut short");
    };
    // A record is whole with its padding, which must be zero.
    let padded_end = length
        .checked_next_multiple_of(ALIGN)
        .and_then(|padded| start.checked_add(padded))
        .ok_or("length past the address space")?;
    let Some(padding) = bytes.get(end..padded_end) else {
        return Err("padding cut short");
    };
    if padding.iter().any(|&b| b != 0) {
        return Err("padding not zero");
    }
    let h = &bytes[offset..start];
    let payload_crc = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    if crc32c::crc32c(payload) != payload_crc {
        return Err("payload checksum mismatch");
    }
    Ok(Found {
        offset,
        kind,
        payload: start..end,
    })
}

/// Scans a segment's data (from its first record) for whole, valid
/// records under the segment's checksum `seed`; see the module docs for
/// how it ends.
#[must_use]
pub fn scan(bytes: &[u8], seed: u32) -> Scan {
    let mut records = Vec::new();
    let mut offset = 0;
    loop {
        if offset >= bytes.len() {
            return Scan {
                records,
                end: End::Clean { offset },
            };
        }
        let rest = &bytes[offset..];
        let head = &rest[..rest.len().min(HEADER_BYTES)];
        if head.iter().all(|&b| b == 0) {
            // A zero header ends the data (as do fewer than a header's
            // bytes, all zero, at the end of a full preallocated segment),
            // unless a synced marker further on attests data here: then
            // these zeros overwrote a record.
            let end = match attesting_marker(bytes, offset, seed) {
                Some(marker) => End::Corrupt {
                    offset,
                    marker,
                    why: "zeroed record",
                },
                None => End::Clean { offset },
            };
            return Scan { records, end };
        }
        match record_at(bytes, offset, seed) {
            Ok(found) => {
                offset = found.offset + record_bytes(found.payload.len());
                records.push(found);
            }
            Err(why) => {
                let end = match attesting_marker(bytes, offset, seed) {
                    Some(marker) => End::Corrupt {
                        offset,
                        marker,
                        why,
                    },
                    None => End::Torn { offset },
                };
                return Scan { records, end };
            }
        }
    }
}

/// The first valid synced marker after the bad record at `bad` that
/// attests data past it (so a sync had made that record durable).
fn attesting_marker(bytes: &[u8], bad: usize, seed: u32) -> Option<usize> {
    (bad + ALIGN..bytes.len()).step_by(ALIGN).find(|&at| {
        if !bytes[at..].starts_with(&MAGIC) {
            return false;
        }
        match record_at(bytes, at, seed) {
            Ok(found) if found.kind == KIND_SYNCED => {
                synced_offset(&bytes[found.payload]).is_some_and(|synced| synced > bad as u64)
            }
            _ => false,
        }
    })
}

/// [`encode`] for a payload that `write` appends to `out` itself (no
/// intermediate buffer): the header goes first, then whatever `write`
/// appends is the payload, checksummed in place.
///
/// # Errors
/// [`Error::TooLarge`] if `write` appended 4 GiB or more, or what `write`
/// returns; `out` is then cut back to where it was.
pub fn encode_with(
    kind: u8,
    seed: u32,
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let before = out.len();
    out.resize(before.next_multiple_of(ALIGN), 0);
    // The spliced encoder with nothing spliced: one framing for both.
    let mut no_splices = Vec::new();
    match encode_spliced(kind, seed, out, &mut no_splices, |p| write(p.owned())) {
        Ok((start, _)) => Ok(start),
        Err(e) => {
            out.truncate(before);
            Err(e)
        }
    }
}

/// Where a record's payload is written as it is encoded.
pub trait Sink {
    /// Copies `bytes` in.
    fn put(&mut self, bytes: &[u8]);

    /// An entry's body: copied in, or (where the sink can) written later
    /// from the buffer it lies in. The default copies.
    fn put_body(&mut self, body: &Bytes) {
        self.put(body);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Bodies shorter than this are copied into the batch even where they
/// could be spliced. A probe (256 bodies per sync, a fallocated file,
/// docs/wal.md) measured no gain from splicing at 1 to 4 KiB (0.99x-1.01x
/// of copying) and 0.94x against 0.82x of the raw loop at
/// 64 KiB, where the copy is a seventh of the round.
pub const SPLICE_MIN_BYTES: usize = 4096;

/// A shared buffer that belongs in a batch of records at byte `at` of the
/// batch's owned bytes: the write takes it from where it lies.
#[derive(Debug, Clone)]
pub struct Splice {
    /// Where in the owned bytes it goes (before the byte at `at`).
    pub at: usize,
    /// The bytes.
    pub data: Bytes,
}

/// The [`Sink`] of [`encode_spliced`]: owned bytes go into the batch's
/// buffer, bodies of [`SPLICE_MIN_BYTES`] or more are spliced in by
/// reference; the payload checksum runs over both, in order.
#[derive(Debug)]
pub struct SplicedPayload<'a> {
    out: &'a mut Vec<u8>,
    splices: &'a mut Vec<Splice>,
    /// Checksum of the payload up to `out[crc_from..]`.
    crc: u32,
    crc_from: usize,
    /// Payload bytes spliced in so far.
    spliced: usize,
}

impl SplicedPayload<'_> {
    /// The batch's buffer, to append owned payload bytes to directly.
    pub fn owned(&mut self) -> &mut Vec<u8> {
        self.out
    }
}

impl Sink for SplicedPayload<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn put_body(&mut self, body: &Bytes) {
        if body.len() < SPLICE_MIN_BYTES {
            self.put(body);
            return;
        }
        self.crc = crc32c::crc32c_append(self.crc, &self.out[self.crc_from..]);
        self.crc = crc32c::crc32c_append(self.crc, body);
        self.crc_from = self.out.len();
        self.spliced += body.len();
        self.splices.push(Splice {
            at: self.out.len(),
            data: body.clone(),
        });
    }
}

/// [`encode_with`] for a batch whose large bodies are spliced in
/// ([`Splice`]) rather than copied into `out`. The record starts at the
/// end of `out` and is aligned there only if the batch so far (owned and
/// spliced bytes) is: the caller keeps it so, as every record ends
/// aligned. Returns where in `out` the record starts and how many payload
/// bytes it spliced.
///
/// # Errors
/// As [`encode_with`]; `out` and `splices` are then as they were.
pub fn encode_spliced(
    kind: u8,
    seed: u32,
    out: &mut Vec<u8>,
    splices: &mut Vec<Splice>,
    write: impl FnOnce(&mut SplicedPayload<'_>) -> Result<(), Error>,
) -> Result<(usize, usize), Error> {
    let (start, splices_before) = (out.len(), splices.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&[0; 16]); // length, payload_crc, reserved, header_crc
    let body = out.len();
    let mut payload = SplicedPayload {
        out,
        splices,
        crc: 0,
        crc_from: body,
        spliced: 0,
    };
    let written = write(&mut payload);
    let SplicedPayload {
        out,
        splices,
        crc,
        crc_from,
        spliced,
    } = payload;
    let payload_bytes = out.len() - body + spliced;
    let length = match (written, u32::try_from(payload_bytes)) {
        (Ok(()), Ok(length)) => length,
        (Err(e), _) => {
            out.truncate(start);
            splices.truncate(splices_before);
            return Err(e);
        }
        (Ok(()), Err(_)) => {
            out.truncate(start);
            splices.truncate(splices_before);
            return Err(Error::TooLarge {
                bytes: payload_bytes,
            });
        }
    };
    let payload_crc = crc32c::crc32c_append(crc, &out[crc_from..]);
    out[start + 8..start + 12].copy_from_slice(&length.to_le_bytes());
    out[start + 12..start + 16].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc32c::crc32c_append(seed, &out[start..start + 20]);
    out[start + 20..start + 24].copy_from_slice(&header_crc.to_le_bytes());
    let padding = payload_bytes.next_multiple_of(ALIGN) - payload_bytes;
    out.resize(out.len() + padding, 0);
    Ok((start, spliced))
}

/// The record at `offset` of `bytes`, checked (header under `seed`,
/// length, padding, checksum): how the log reads back one entry.
///
/// # Errors
/// Why it is not a whole, valid record.
pub fn read_one(bytes: &[u8], offset: usize, seed: u32) -> Result<Found, &'static str> {
    record_at(bytes, offset, seed)
}

/// Where the record data after `from` that a scan under `seed` could ever
/// take for records ends: the end of the furthest record header at an
/// aligned offset at or after `from` whose checksum holds under `seed`
/// (its length counted, up to the end of `bytes`), or `from` if there is
/// none. Past a recycled segment's data lie the stale records of the
/// segment it was (other seeds) and perhaps pieces of a batch a crash lost
/// (this seed); recovery zeroes up to here so that no later scan takes
/// those pieces for records, and keeps the stale bytes after it.
#[must_use]
pub fn live_reach(bytes: &[u8], from: usize, seed: u32) -> usize {
    let start = from.next_multiple_of(ALIGN);
    let mut reach = from;
    for at in (start..bytes.len()).step_by(ALIGN) {
        if !bytes[at..].starts_with(&MAGIC) {
            continue;
        }
        if let Ok((_, length)) = header_at(bytes, at, seed) {
            let padded = length.checked_next_multiple_of(ALIGN).unwrap_or(usize::MAX);
            let end = (at + HEADER_BYTES).saturating_add(padded).min(bytes.len());
            reach = reach.max(end);
        }
    }
    reach
}

/// The offset a synced marker's payload attests.
#[must_use]
pub fn synced_offset(payload: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(payload.try_into().ok()?))
}

/// Appends a synced marker attesting that the record data before offset
/// `synced` is durable.
pub fn encode_synced(synced: u64, seed: u32, out: &mut Vec<u8>) {
    // Eight bytes of payload: never too large.
    let _ = encode(KIND_SYNCED, &synced.to_le_bytes(), seed, out);
}
