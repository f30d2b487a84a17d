//! Opening a log: list the directory, replay the segments into the index,
//! reconcile them with the snapshot file (docs/wal.md, "Recovery").

use synod_protocol::{HardState, Index, Term};

use crate::error::{Error, io};
use crate::fs::{Dir, File};
use crate::index::LogIndex;
use crate::options::Options;
use crate::raft_record::{
    self, KIND_ANCHOR, KIND_ENTRIES, KIND_HARD_STATE, KIND_RESET, RaftRecord,
};
use crate::recent::Recent;
use crate::segment::{self, Position, SEGMENT_HEADER_BYTES, SegmentWriter};
use crate::snapshot_data::{NEW_FILE, STAGING_FILE, checksum, data_name, is_data_name};
use crate::snapshot_file::{SNAPSHOT_FILE, SnapshotFile};
use crate::state_file::temporary_name;
use crate::wal::{Recovery, Sealed, Wal, free_id, segment_id, segment_name};

/// The log as the records replay it, before the snapshot file has its say.
struct Replay {
    index: LogIndex,
    /// An entry or a reset has been seen: the index has a base.
    started: bool,
    hard_state: HardState,
    snapshot_index: Index,
    /// The last anchor replayed: an entry the next entry record may follow.
    anchor: Option<(Index, Term)>,
    /// Reconciling with the snapshot discarded the replayed entries (a
    /// crash came between the snapshot file and its reset record).
    discarded: bool,
}

impl Replay {
    fn record(&mut self, file: &str, offset: u64, kind: u8, payload: &[u8]) -> Result<(), Error> {
        let bad = |why| Error::BadRecord {
            file: file.to_string(),
            offset: SEGMENT_HEADER_BYTES + offset,
            why,
        };
        match kind {
            KIND_ENTRIES => {
                // Offsets of a segment of at most 1 GiB plus one record.
                let start = u32::try_from(offset).map_err(|_| bad("record offset past 4 GiB"))?;
                raft_record::for_each_entry(payload, |e| self.entry(e.index, e.term, start, file))
                    .map_err(|e| match e {
                        Ok(why) => bad(why),
                        Err(e) => e,
                    })
            }
            KIND_HARD_STATE | KIND_RESET | KIND_ANCHOR => {
                match raft_record::decode(kind, payload).map_err(bad)? {
                    RaftRecord::HardState(hs) => self.hard_state = hs,
                    RaftRecord::Anchor { index, term } => self.anchor = Some((index, term)),
                    RaftRecord::Reset { index, term } => {
                        self.index.reset(index, Some(term));
                        self.started = true;
                    }
                }
                Ok(())
            }
            _ => Err(bad("unknown record kind")),
        }
    }

    /// Replays entry `index`: it discards every entry at `index` or after
    /// (Raft's truncation), and must continue the log unless the snapshot
    /// covers what it skips.
    fn entry(&mut self, index: Index, term: Term, start: u32, file: &str) -> Result<(), Error> {
        let last = self.index.last_index();
        if !self.started || index <= self.index.base_index {
            // The log's first entry, or one truncating below the base the
            // replay assumed: the anchor written before it (if any) knows
            // the term of the entry it follows.
            self.restart_before(index);
        } else if index > last + 1 {
            if index > self.snapshot_index + 1 {
                return Err(Error::IndexGap {
                    file: file.to_string(),
                    index,
                    last_index: last,
                });
            }
            // Older segments were deleted below a snapshot: start afresh.
            self.restart_before(index);
        } else if index <= last {
            self.index.truncate_from(index);
        }
        self.index.push(index, term, start);
        Ok(())
    }

    /// Empties the replayed log so that it continues before `index`.
    fn restart_before(&mut self, index: Index) {
        let base_term = match self.anchor {
            _ if index == 1 => Some(0),
            Some((anchor, term)) if anchor == index - 1 => Some(term),
            _ => None,
        };
        self.index.reset(index - 1, base_term);
        self.started = true;
    }

    /// Lets the snapshot `(index, term)` have its say, as etcd's raft does
    /// when it installs one: log entries after it are kept only if the log
    /// holds the snapshot's own entry.
    fn reconcile(&mut self, index: Index, term: Term, first_file: &str) -> Result<(), Error> {
        let base = self.index.base_index;
        if !self.started {
            self.index.reset(index, Some(term));
        } else if base > index {
            return Err(Error::IndexGap {
                file: first_file.to_string(),
                index: base + 1,
                last_index: index,
            });
        } else if base == index {
            self.index.base_term = Some(term);
        } else if self.index.term(index) == Some(term) {
            if self.index.base_term.is_none() {
                // The oldest entry becomes the base: its term is known.
                self.index.compact(base + 1);
            }
        } else {
            self.index.reset(index, Some(term));
            self.discarded = true;
        }
        self.hard_state.commit = self.hard_state.commit.max(index);
        Ok(())
    }
}

/// Whether the last segment is one whose creation a crash cut short: no
/// valid header, and not one non-zero byte after where the header goes.
fn torn_creation<D: Dir>(dir: &D, name: &str) -> Result<bool, Error> {
    let file = dir.open(name).map_err(io("open", name))?;
    let size = file.size_bytes().map_err(io("size", name))?;
    let mut head = [0u8; SEGMENT_HEADER_BYTES as usize];
    let read = file.read_at(0, &mut head).map_err(io("read", name))?;
    if read == head.len() && head != [0; SEGMENT_HEADER_BYTES as usize] {
        return Ok(false);
    }
    let mut rest = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
    let read = file.read_at(0, &mut rest).map_err(io("read", name))?;
    Ok(rest[..read]
        .iter()
        .skip(SEGMENT_HEADER_BYTES as usize)
        .all(|&b| b == 0))
}

/// The segment files and the free segment files (id, name), after
/// checking that nothing else is in the directory and removing what an
/// interrupted snapshot write left.
type Listed = (Vec<(u64, String)>, Vec<(u64, String)>);

fn list_segments<D: Dir>(dir: &D) -> Result<Listed, Error> {
    let mut segments = Vec::new();
    let mut free = Vec::new();
    for name in dir.list().map_err(io("list", "the log directory"))? {
        if let Some(id) = segment_id(&name) {
            segments.push((id, name));
        } else if let Some(id) = free_id(&name) {
            free.push((id, name));
        } else if is_data_name(&name) {
            // Checked against the snapshot file once it is read.
        } else if name == STAGING_FILE || name == NEW_FILE {
            // A snapshot staged or written and never installed.
            dir.remove(&name).map_err(io("remove", &name))?;
            dir.sync()
                .map_err(io("sync directory after removing", &name))?;
        } else if name == temporary_name(SNAPSHOT_FILE) {
            // A snapshot replacement a crash interrupted: the old file (or
            // none) is the durable one.
            dir.remove(&name).map_err(io("remove", &name))?;
            dir.sync()
                .map_err(io("sync directory after removing", &name))?;
        } else if name != SNAPSHOT_FILE {
            return Err(Error::ForeignFile { file: name });
        }
    }
    segments.sort_unstable();
    if let Some(w) = segments.windows(2).find(|w| w[1].0 != w[0].0 + 1) {
        return Err(Error::MissingSegment {
            missing: w[0].0 + 1,
            before: w[0].1.clone(),
            after: w[1].1.clone(),
        });
    }
    free.sort_unstable();
    Ok((segments, free))
}

/// Keeps the free segment files the options allow (the newest) and
/// removes the rest; with no segment at all, removes them all (a new log
/// starts its ids at 1 again, and a free file may hold records of an
/// earlier segment 1 under the same checksum seed).
fn prune_free<D: Dir>(
    dir: &D,
    mut free: Vec<(u64, String)>,
    segments: &[(u64, String)],
    options: &Options,
) -> Result<Vec<String>, Error> {
    let keep = if segments.is_empty() {
        0
    } else {
        options.recycle_segments
    };
    let extra = free.len().saturating_sub(keep);
    for (_, name) in free.drain(..extra) {
        dir.remove(&name).map_err(io("remove", &name))?;
        dir.sync()
            .map_err(io("sync directory after removing", &name))?;
    }
    Ok(free.into_iter().map(|(_, name)| name).collect())
}

/// Opens the data file the snapshot file names, after checking its length
/// and checksum, and removes every other data file (left by a crash
/// between a snapshot's data and the file naming it, or before the old
/// data's removal).
fn open_snapshot_data<D: Dir>(dir: &D, snapshot: &SnapshotFile) -> Result<Option<D::File>, Error> {
    let wanted = snapshot
        .external
        .map(|_| data_name(snapshot.snapshot.meta.index));
    for name in dir.list().map_err(io("list", "the log directory"))? {
        if is_data_name(&name) && Some(&name) != wanted.as_ref() {
            dir.remove(&name).map_err(io("remove", &name))?;
            dir.sync()
                .map_err(io("sync directory after removing", &name))?;
        }
    }
    let (Some(ext), Some(name)) = (snapshot.external, wanted) else {
        return Ok(None);
    };
    let bad = |why| Error::BadRecord {
        file: name.clone(),
        offset: 0,
        why,
    };
    let file = match dir.open(&name) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("the snapshot's data file is missing"));
        }
        Err(e) => return Err(io("open", &name)(e)),
    };
    if file.size_bytes().map_err(io("size", &name))? != ext.len {
        return Err(bad("the snapshot's data file has the wrong length"));
    }
    if checksum(&file, ext.len).map_err(io("read", &name))? != ext.crc {
        return Err(bad("the snapshot's data does not match its checksum"));
    }
    Ok(Some(file))
}

impl<D: Dir> Wal<D> {
    /// Opens the log in `dir`, creating it if the directory is empty, and
    /// recovers it: a torn tail of the last segment is zeroed and synced,
    /// everything else must be whole. What it found is in
    /// [`Wal::recovery`]. Everything the log then holds is durable.
    ///
    /// # Errors
    /// [`Error::ForeignFile`] for a directory holding other files,
    /// [`Error::MissingSegment`], [`Error::IndexGap`], [`Error::NotALog`],
    /// [`Error::NewerFormat`], [`Error::Corrupt`],
    /// [`Error::SealedDamaged`], [`Error::BadRecord`],
    /// [`Error::InvalidOptions`], or [`Error::Io`].
    pub fn open(dir: D, options: Options) -> Result<Self, Error> {
        options.validate()?;
        let (mut segments, free) = list_segments(&dir)?;
        let snapshot = SnapshotFile::read(&dir)?;
        let mut recovery = Recovery::default();
        if let Some((_, name)) = segments.last()
            && torn_creation(&dir, name)?
        {
            dir.remove(name).map_err(io("remove", name))?;
            dir.sync()
                .map_err(io("sync directory after removing", name))?;
            segments.pop();
            recovery.removed_torn_segment = true;
        }
        let free = prune_free(&dir, free, &segments, &options)?;
        if segments.is_empty() && snapshot.is_some() {
            // The first segment is durable before open returns, so before
            // any snapshot file can be written.
            return Err(Error::MissingSegment {
                missing: 1,
                before: SNAPSHOT_FILE.to_string(),
                after: String::new(),
            });
        }
        let snapshot = snapshot.unwrap_or_default();
        let snapshot_data = open_snapshot_data(&dir, &snapshot)?;
        let (snap_index, snap_term) = (snapshot.snapshot.meta.index, snapshot.snapshot.meta.term);
        let mut replay = Replay {
            index: LogIndex::new(0, None),
            started: false,
            hard_state: HardState::default(),
            snapshot_index: snap_index,
            anchor: None,
            discarded: false,
        };
        let mut sealed = Vec::new();
        let mut active = None;
        for (pos, (id, name)) in segments.iter().enumerate() {
            if pos > 0 {
                replay.index.open_segment();
            }
            let tail = pos + 1 == segments.len();
            let position = if tail {
                Position::Tail
            } else {
                Position::Sealed
            };
            let replayed =
                segment::replay(&dir, name, Some(*id), position, |offset, kind, payload| {
                    replay.record(name, offset, kind, payload)
                })?;
            recovery.segments += 1;
            if tail {
                recovery.torn_bytes = replayed.truncated_bytes;
                active = Some(replayed.writer);
            } else {
                sealed.push(Sealed {
                    name: name.clone(),
                    seed: replayed.writer.seed(),
                    file: replayed.writer.into_file(),
                });
            }
        }
        let active = match active {
            Some(active) => active,
            None => {
                let len = if options.preallocate {
                    options.segment_bytes
                } else {
                    0
                };
                SegmentWriter::create_sized(&dir, &segment_name(1), 1, len)?
            }
        }
        .with_zero_ahead(options.zero_ahead_bytes, options.segment_bytes)
        .with_padding(options.pad_syncs_from_bytes, options.segment_bytes);
        let first_file = segments.first().map_or(String::new(), |s| s.1.clone());
        replay.reconcile(snap_index, snap_term, &first_file)?;
        recovery.entries = replay.index.len();
        recovery.last_index = replay.index.last_index();
        let discarded = replay.discarded;
        let mut wal = Wal {
            dir,
            options,
            sealed,
            active,
            free,
            unsynced_from: replay.index.last_index() + 1,
            index: replay.index,
            recent: Recent::default(),
            hard_state: replay.hard_state,
            snapshot,
            snapshot_data,
            staging: None,
            stages: false,
            recovery,
            failed: false,
        };
        if discarded {
            // Write down what reconciling decided, so later entries are not
            // replayed after the discarded ones (docs/wal.md, "Recovery").
            wal.active.append(
                KIND_RESET,
                &raft_record::encode_reset(snap_index, snap_term),
            )?;
        }
        // Name the entry the next append follows (and the hard state), as a
        // new segment opens: records a crash lost may have left an anchor
        // for a truncation that never became durable, or none at all.
        wal.reopen_segment()?;
        Ok(wal)
    }
}
