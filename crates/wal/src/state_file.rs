//! Small files replaced whole and crash-safely: the hard state and a
//! snapshot's metadata will live in them.
//!
//! ```text
//!  offset  size  field
//!       0     8  magic        "SYNODSTF"
//!       8     4  version      format version, u32 (the log's: 4; 1 to 3 are read too)
//!      12     4  length       payload bytes, u32
//!      16     4  payload_crc  CRC32C of the payload
//!      20     4  header_crc   CRC32C of bytes 0..20
//!      24     n  payload
//! ```
//!
//! A replacement writes `NAME.tmp`, syncs it, renames it over `NAME` and
//! syncs the directory: a crash at any point leaves either the old file or
//! the new one, whole (checked by a test that fails every step in turn).

use crate::error::{Error, io};
use crate::fs::{Dir, File};
use crate::segment::FORMAT_VERSION;

const STATE_MAGIC: [u8; 8] = *b"SYNODSTF";
const HEADER_BYTES: usize = 24;

/// The temporary name a replacement of `name` is written under.
#[must_use]
pub fn temporary_name(name: &str) -> String {
    format!("{name}.tmp")
}

/// Replaces file `name` with `payload`. After `Ok`, the new contents
/// survive a crash; before it, a crash leaves the old contents (or no file,
/// if there was none).
///
/// # Errors
/// [`Error::TooLarge`] for 4 GiB or more, or [`Error::Io`].
pub fn write_atomically<D: Dir>(dir: &D, name: &str, payload: &[u8]) -> Result<(), Error> {
    let length = u32::try_from(payload.len()).map_err(|_| Error::TooLarge {
        bytes: payload.len(),
    })?;
    let tmp = temporary_name(name);
    // A leftover from a crash mid-replacement is garbage: start afresh.
    match dir.remove(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove", &tmp)(e)),
    }
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&STATE_MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let header_crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&header_crc.to_le_bytes());
    bytes.extend_from_slice(payload);
    let mut file = dir.create(&tmp).map_err(io("create", &tmp))?;
    file.write_at(0, &bytes).map_err(io("write", &tmp))?;
    // After this sync the new contents are durable under the temporary
    // name; the rename then swaps names, made durable by the directory sync.
    file.sync_data().map_err(io("sync", &tmp))?;
    dir.rename(&tmp, name).map_err(io("rename", &tmp))?;
    dir.sync().map_err(io("sync directory for", name))?;
    Ok(())
}

/// The payload of file `name`, or `None` when there is no such file.
///
/// # Errors
/// [`Error::NotALog`] for a file that is not a whole state file (a bad
/// header, length or checksum: never produced by a crash, only by damage),
/// [`Error::NewerFormat`], or [`Error::Io`].
pub fn read<D: Dir>(dir: &D, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let file = match dir.open(name) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("open", name)(e)),
    };
    let size = file.size_bytes().map_err(io("size", name))?;
    let bad = |why| Error::NotALog {
        file: name.to_string(),
        why,
    };
    // Small files only: a state file is never 4 GiB.
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= HEADER_BYTES + u32::MAX as usize)
        .ok_or(bad("state file too large"))?;
    let mut bytes = vec![0u8; size];
    let read = file.read_at(0, &mut bytes).map_err(io("read", name))?;
    bytes.truncate(read);
    let h = bytes
        .get(..HEADER_BYTES)
        .ok_or(bad("state header cut short"))?;
    if h[..8] != STATE_MAGIC {
        return Err(bad("no state-file magic"));
    }
    let word = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    if crc32c::crc32c(&h[..20]) != word(20) {
        return Err(bad("state header checksum mismatch"));
    }
    let version = word(8);
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            file: name.to_string(),
            version,
            supported: FORMAT_VERSION,
        });
    }
    let end = HEADER_BYTES + word(12) as usize;
    let payload = bytes
        .get(HEADER_BYTES..end)
        .ok_or(bad("state payload cut short"))?;
    if bytes.len() != end {
        return Err(bad("bytes after the state payload"));
    }
    if crc32c::crc32c(payload) != word(16) {
        return Err(bad("state payload checksum mismatch"));
    }
    Ok(Some(payload.to_vec()))
}
