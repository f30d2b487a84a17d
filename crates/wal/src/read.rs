//! The log as a raft-core [`Storage`]: recent entries from memory, older
//! ones read from their segment with one positioned read per segment.

use synod_protocol::{
    Bytes, Entry, Index, InitialState, Snapshot, SnapshotMeta, Storage, StorageError, Term,
};

use crate::error::Error;
use crate::fs::{Dir, File};
use crate::raft_record;
use crate::record::HEADER_BYTES;
use crate::segment::SEGMENT_HEADER_BYTES;
use crate::wal::Wal;

/// Bytes a record may take beyond its entries' `size_bytes`, per entry at
/// most: record header (24), batch head (16) and padding (7), plus the
/// entry head (16) less the 16 `size_bytes` counts.
const RECORD_OVERHEAD_BYTES: u64 = 24 + 16 + 7;

fn other(e: Error) -> StorageError {
    StorageError::Other(e.to_string())
}

impl<D: Dir> Wal<D> {
    /// Reads live entries `lo..hi` of segment `pos` from disk, stopping
    /// early once more could not fit `max_bytes` (at least one entry).
    fn read_segment(
        &self,
        pos: usize,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        out: &mut Vec<Entry>,
    ) -> Result<(), Error> {
        let seg = &self.index.segments[pos];
        let starts = &seg.starts[(lo - seg.first) as usize..];
        let count = (hi - lo) as usize;
        let first = u64::from(starts[0]);
        // Entries whose records start past this cannot fit the limit: a
        // record is at most RECORD_OVERHEAD_BYTES more than its entry.
        let mut take = 1;
        while take < count {
            let span = u64::from(starts[take]) - first;
            if span > max_bytes.saturating_add(RECORD_OVERHEAD_BYTES * take as u64) {
                break;
            }
            take += 1;
        }
        let (file, seed) = match self.sealed.get(pos) {
            Some(sealed) => (&sealed.file, sealed.seed),
            None => (self.active.file(), self.active.seed()),
        };
        let last = u64::from(starts[take - 1]);
        let end = match starts.get(take) {
            Some(&next) if u64::from(next) > last => u64::from(next),
            _ => {
                // The last record needed: its header gives its end.
                let mut h = [0u8; HEADER_BYTES];
                self.read_exact(pos, file, last, &mut h)?;
                let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
                last + crate::record::record_bytes(len as usize) as u64
            }
        };
        let mut buf = vec![0u8; usize::try_from(end - first).unwrap_or(usize::MAX)];
        self.read_exact(pos, file, first, &mut buf)?;
        let buf = Bytes::from(buf);
        let name = self.segment_file_name(pos);
        let bad = |start: u32, why| Error::BadRecord {
            file: name.clone(),
            offset: SEGMENT_HEADER_BYTES + u64::from(start),
            why,
        };
        // Entries sharing a record share its start: decode each record once.
        let mut decoded_at = None;
        let mut entries = Vec::new();
        for (k, &start) in starts[..take].iter().enumerate() {
            if decoded_at != Some(start) {
                let at = (u64::from(start) - first) as usize;
                entries = crate::record::read_one(&buf, at, seed)
                    .and_then(|found| {
                        if found.kind != raft_record::KIND_ENTRIES {
                            return Err("not an entries record");
                        }
                        raft_record::decode_entries(&buf.slice(found.payload))
                    })
                    .map_err(|why| bad(start, why))?;
                decoded_at = Some(start);
            }
            let index = lo + k as u64;
            let entry = entries
                .first()
                .and_then(|head| entries.get(usize::try_from(index.checked_sub(head.index)?).ok()?))
                .filter(|e| e.index == index)
                .ok_or_else(|| bad(start, "the index points at a record without the entry"))?;
            out.push(entry.clone());
        }
        Ok(())
    }

    fn segment_file_name(&self, pos: usize) -> String {
        match self.sealed.get(pos) {
            Some(s) => s.name.clone(),
            None => crate::wal::segment_name(self.active.id()),
        }
    }

    fn read_exact(
        &self,
        pos: usize,
        file: &D::File,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        let name = self.segment_file_name(pos);
        let read = file
            .read_at(SEGMENT_HEADER_BYTES + offset, buf)
            .map_err(crate::error::io("read", &name))?;
        if read < buf.len() {
            return Err(Error::BadRecord {
                file: name,
                offset: SEGMENT_HEADER_BYTES + offset,
                why: "segment shorter than its index",
            });
        }
        Ok(())
    }

    /// Entries `lo..hi` (both live), at most `max_bytes` by
    /// `Entry::size_bytes` but at least one: from the cache where it holds
    /// them (it holds a suffix of the log), else from disk.
    fn read_entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, Error> {
        let cached_from = self.recent.first().unwrap_or(Index::MAX).max(lo);
        let mut out = Vec::new();
        let mut next = lo;
        while next < hi.min(cached_from) {
            let Some(pos) = self.index.segment_of(next) else {
                return Err(Error::Raft(StorageError::Unavailable {
                    index: next,
                    last_index: self.index.last_index(),
                }));
            };
            let to = self.index.segments[pos].end().min(hi).min(cached_from);
            let used: u64 = out.iter().map(Entry::size_bytes).sum();
            self.read_segment(pos, next, to, max_bytes.saturating_sub(used), &mut out)?;
            next = lo + out.len() as u64;
            if next < to {
                // The read stopped early: the size limit is reached.
                return Ok(limit(out, max_bytes));
            }
        }
        let mut used: u64 = out.iter().map(Entry::size_bytes).sum();
        for index in next..hi {
            let Some(entry) = self.recent.get(index) else {
                break;
            };
            used = used.saturating_add(entry.size_bytes());
            if used > max_bytes && !out.is_empty() {
                break;
            }
            out.push(entry.clone());
        }
        Ok(limit(out, max_bytes))
    }
}

/// `out` cut to the entries that fit `max_bytes` (at least one).
fn limit(mut out: Vec<Entry>, max_bytes: u64) -> Vec<Entry> {
    let mut total = 0u64;
    let keep = out
        .iter()
        .position(|e| {
            total = total.saturating_add(e.size_bytes());
            total > max_bytes
        })
        .map_or(out.len(), |i| i.max(1));
    out.truncate(keep);
    out
}

impl<D: Dir> Storage for Wal<D> {
    fn initial_state(&self) -> Result<InitialState, StorageError> {
        Ok(InitialState {
            hard_state: self.hard_state,
            conf_state: self.snapshot.conf_state.clone(),
        })
    }

    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        let base = self.index.base_index;
        let last = self.index.last_index();
        if lo <= base {
            return Err(StorageError::Compacted {
                index: lo,
                first_index: base + 1,
            });
        }
        if hi > last + 1 {
            return Err(StorageError::Unavailable {
                index: hi - 1,
                last_index: last,
            });
        }
        if lo >= hi {
            return Ok(Vec::new());
        }
        self.read_entries(lo, hi, max_bytes).map_err(other)
    }

    fn term(&self, index: Index) -> Result<Term, StorageError> {
        self.term_of(index)
    }

    fn first_index(&self) -> Result<Index, StorageError> {
        Ok(self.index.base_index + 1)
    }

    fn last_index(&self) -> Result<Index, StorageError> {
        Ok(self.index.last_index())
    }

    fn snapshot(&self, _request_index: Index) -> Result<Snapshot, StorageError> {
        let snap = &self.snapshot;
        if snap.external.is_none() {
            return Ok(snap.snapshot.clone());
        }
        // Read whole only when asked for whole: the node and the driver
        // read it a piece at a time (`snapshot_piece`).
        let index = snap.snapshot.meta.index;
        let data = self.read_snapshot_piece(index, 0, snap.data_len())?;
        Ok(Snapshot {
            meta: snap.snapshot.meta.clone(),
            data,
        })
    }

    fn snapshot_meta(&self, _request_index: Index) -> Result<(SnapshotMeta, u64), StorageError> {
        Ok((
            self.snapshot.snapshot.meta.clone(),
            self.snapshot.data_len(),
        ))
    }

    fn snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        self.read_snapshot_piece(index, offset, max_bytes)
    }

    /// When [`Wal::set_stages_snapshots`] turned it on.
    fn stages_snapshots(&self) -> bool {
        self.stages
    }
}
