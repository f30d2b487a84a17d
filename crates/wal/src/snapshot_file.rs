//! The `snapshot` state file: the latest snapshot (metadata and data) and
//! the membership a restarted node starts from, replaced whole and
//! crash-safely through [`crate::state_file`].
//!
//! ```text
//!  payload offset  size  field
//!               0     8  snapshot index (0: no snapshot)
//!               8     8  snapshot term
//!              16     .  the snapshot's membership (three node lists)
//!               .     .  the current membership (three node lists)
//!               .     8  data length n (0 when the data has a file)
//!               .     n  snapshot data, inline
//!               .     8  the data file's length   } present when the data
//!               .     4  the data file's CRC32C   } is in its own file
//!  node list: count u32, then count node ids u64 (voters, outgoing
//!  voters, learners, in that order)
//! ```
//!
//! The data of every snapshot written now is in its own file,
//! `snapshot-INDEX.data` (see `snapshot_data`), so a large snapshot is
//! never held whole in memory; a file with inline data (as written before)
//! is still read.

use synod_protocol::{Bytes, ConfState, NodeId, Snapshot, SnapshotMeta};

use crate::error::Error;
use crate::fs::Dir;
use crate::snapshot_data::External;
use crate::state_file;

/// The snapshot file's name.
pub const SNAPSHOT_FILE: &str = "snapshot";

/// What the snapshot file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SnapshotFile {
    /// The latest snapshot (`Snapshot::default()` when none).
    pub(crate) snapshot: Snapshot,
    /// The membership a restarted node starts from.
    pub(crate) conf_state: ConfState,
    /// When the data is in its own file (then `snapshot.data` is empty):
    /// that file's length and checksum.
    pub(crate) external: Option<External>,
}

fn put_list(list: &[NodeId], out: &mut Vec<u8>) {
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for node in list {
        out.extend_from_slice(&node.to_le_bytes());
    }
}

fn put_conf(conf: &ConfState, out: &mut Vec<u8>) {
    put_list(&conf.voters, out);
    put_list(&conf.voters_outgoing, out);
    put_list(&conf.learners, out);
}

/// Reads fields off a payload, failing on a short one.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("length overflows")?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or("snapshot file cut short")?;
        self.at = end;
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }

    fn list(&mut self) -> Result<Vec<NodeId>, &'static str> {
        let mut w = [0u8; 4];
        w.copy_from_slice(self.take(4)?);
        let count = u32::from_le_bytes(w) as usize;
        // Checked against what is left before allocating: a forged count
        // cannot make us reserve gigabytes.
        if count > (self.bytes.len() - self.at) / 8 {
            return Err("node list longer than the file");
        }
        (0..count).map(|_| self.u64()).collect()
    }

    fn conf(&mut self) -> Result<ConfState, &'static str> {
        Ok(ConfState {
            voters: self.list()?,
            voters_outgoing: self.list()?,
            learners: self.list()?,
        })
    }
}

impl SnapshotFile {
    fn encode(&self) -> Vec<u8> {
        let data = &self.snapshot.data;
        let mut out = Vec::with_capacity(64 + data.len());
        out.extend_from_slice(&self.snapshot.meta.index.to_le_bytes());
        out.extend_from_slice(&self.snapshot.meta.term.to_le_bytes());
        put_conf(&self.snapshot.meta.conf_state, &mut out);
        put_conf(&self.conf_state, &mut out);
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
        if let Some(ext) = self.external {
            out.extend_from_slice(&ext.len.to_le_bytes());
            out.extend_from_slice(&ext.crc.to_le_bytes());
        }
        out
    }

    /// The snapshot data's length, wherever it is.
    pub(crate) fn data_len(&self) -> u64 {
        self.external
            .map_or(self.snapshot.data.len() as u64, |ext| ext.len)
    }

    fn decode(payload: Vec<u8>) -> Result<Self, &'static str> {
        let mut r = Reader {
            bytes: &payload,
            at: 0,
        };
        let index = r.u64()?;
        let term = r.u64()?;
        let snapshot_conf = r.conf()?;
        let conf_state = r.conf()?;
        let len = usize::try_from(r.u64()?).map_err(|_| "data length overflows")?;
        let start = r.at;
        r.take(len)?;
        let external = match payload.len() - r.at {
            0 => None,
            12 if len == 0 => {
                let ext_len = r.u64()?;
                let mut w = [0u8; 4];
                w.copy_from_slice(r.take(4)?);
                Some(External {
                    len: ext_len,
                    crc: u32::from_le_bytes(w),
                })
            }
            _ => return Err("bytes after the snapshot data"),
        };
        if index == 0 && (term != 0 || len != 0 || external.is_some()) {
            return Err("snapshot data or term without a snapshot index");
        }
        let data = Bytes::from(payload).slice(start..start + len);
        Ok(Self {
            snapshot: Snapshot {
                meta: SnapshotMeta {
                    index,
                    term,
                    conf_state: snapshot_conf,
                },
                data,
            },
            conf_state,
            external,
        })
    }

    /// Reads the file; `None` when there is none.
    pub(crate) fn read<D: Dir>(dir: &D) -> Result<Option<Self>, Error> {
        let Some(payload) = state_file::read(dir, SNAPSHOT_FILE)? else {
            return Ok(None);
        };
        Self::decode(payload)
            .map(Some)
            .map_err(|why| Error::BadRecord {
                file: SNAPSHOT_FILE.to_string(),
                offset: 24,
                why,
            })
    }

    /// Replaces the file. After `Ok` the new contents survive a crash;
    /// before it a crash leaves the old ones.
    pub(crate) fn write<D: Dir>(&self, dir: &D) -> Result<(), Error> {
        state_file::write_atomically(dir, SNAPSHOT_FILE, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_cut_at_every_byte() {
        let file = SnapshotFile {
            snapshot: Snapshot {
                meta: SnapshotMeta {
                    index: 7,
                    term: 3,
                    conf_state: ConfState {
                        voters: vec![1, 2, 3],
                        voters_outgoing: vec![4],
                        learners: vec![],
                    },
                },
                data: Bytes::from_static(b"state machine"),
            },
            conf_state: ConfState {
                voters: vec![1, 2],
                ..ConfState::default()
            },
            external: None,
        };
        let mut external = file.clone();
        external.snapshot.data = Bytes::new();
        external.external = Some(External {
            len: 1 << 40,
            crc: 0xdead_beef,
        });
        let ext_bytes = external.encode();
        assert_eq!(SnapshotFile::decode(ext_bytes.clone()), Ok(external));
        // Cut anywhere, the trailer is refused rather than misread: only a
        // cut exactly before it reads as a (different) inline snapshot.
        for cut in 0..ext_bytes.len() - 12 {
            assert!(SnapshotFile::decode(ext_bytes[..cut].to_vec()).is_err());
        }
        for cut in ext_bytes.len() - 11..ext_bytes.len() {
            assert!(SnapshotFile::decode(ext_bytes[..cut].to_vec()).is_err());
        }
        let bytes = file.encode();
        assert_eq!(SnapshotFile::decode(bytes.clone()), Ok(file));
        for cut in 0..bytes.len() {
            assert!(
                SnapshotFile::decode(bytes[..cut].to_vec()).is_err(),
                "cut {cut}"
            );
        }
        let mut forged = bytes.clone();
        forged[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            SnapshotFile::decode(forged),
            Err("node list longer than the file")
        );
    }
}
