//! The snapshot in storage as a stream: what the driver restores a state
//! machine from, a piece at a time, so a snapshot staged on disk is never
//! read into memory whole.

use std::io;

use bytes::{Buf, Bytes};
use synod_protocol::{Index, Storage};

/// How much of the snapshot one read from storage asks for.
const PIECE_BYTES: u64 = 1 << 20;

/// Reads the snapshot at `index` from storage, in order, through
/// [`Storage::snapshot_piece`]. A snapshot replaced while it is read is an
/// error (`io::ErrorKind::Other`), never a mix of two.
#[derive(Debug)]
pub struct SnapshotReader<'a, S> {
    storage: &'a S,
    index: Index,
    /// The next byte to fetch from storage.
    offset: u64,
    total: u64,
    /// Fetched and not yet read.
    piece: Bytes,
}

impl<'a, S: Storage> SnapshotReader<'a, S> {
    /// A reader of the `total` bytes of the snapshot at `index`.
    pub fn new(storage: &'a S, index: Index, total: u64) -> Self {
        Self {
            storage,
            index,
            offset: 0,
            total,
            piece: Bytes::new(),
        }
    }

    /// The snapshot's size in bytes.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl<S: Storage> io::Read for SnapshotReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.piece.is_empty() {
            if self.offset >= self.total || buf.is_empty() {
                return Ok(0);
            }
            let want = (self.total - self.offset).min(PIECE_BYTES);
            let piece = self
                .storage
                .snapshot_piece(self.index, self.offset, want)
                .map_err(io::Error::other)?;
            if piece.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the snapshot in storage is shorter than its size",
                ));
            }
            self.offset += piece.len() as u64;
            self.piece = piece;
        }
        let n = buf.len().min(self.piece.len());
        buf[..n].copy_from_slice(&self.piece[..n]);
        self.piece.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use synod_protocol::{ConfState, Entry, MemStorage, Payload};

    use super::*;

    #[test]
    fn reads_the_snapshot_in_pieces_and_notices_a_replacement() {
        let mut s = MemStorage::new();
        let e = |index| Entry {
            index,
            term: 1,
            payload: Payload::Noop,
        };
        s.append(vec![e(1), e(2)]).unwrap();
        let conf = ConfState {
            voters: vec![1],
            ..ConfState::default()
        };
        let data: Vec<u8> = (0..(3 * PIECE_BYTES + 7))
            .map(|i| (i % 251) as u8)
            .collect();
        s.create_snapshot(1, conf.clone(), data.clone()).unwrap();
        let mut out = Vec::new();
        SnapshotReader::new(&s, 1, data.len() as u64)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);

        // A reader of the snapshot at 1 after it was replaced by one at 2.
        s.create_snapshot(2, conf, vec![1u8; 10]).unwrap();
        let err = SnapshotReader::new(&s, 1, data.len() as u64)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("snapshot"), "{err}");
    }
}
