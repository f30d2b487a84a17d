//! What a node reads from stable storage, and an in-memory implementation.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::StorageError;
use crate::types::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NodeId, Payload, Snapshot, SnapshotMeta, SnapshotPiece, Term,
};

/// Read access to the persisted log, state and snapshot.
///
/// The node only *reads* through this trait; it hands what must be written
/// to the application (entries, hard state, snapshots to install), which
/// writes it and then reports back. So an implementation is free to batch,
/// fsync and fetch asynchronously: `LogTemporarilyUnavailable` and
/// `SnapshotTemporarilyUnavailable` are legal answers, and every error is
/// returned, never panicked on.
///
/// Conventions: the log holds entries `first_index()..=last_index()`; the
/// entry just before `first_index()` is the last one covered by the
/// snapshot, and `term()` must still answer for it. An empty log has
/// `first_index() == last_index() + 1`.
pub trait Storage {
    /// The persisted hard state and configuration, read once at start.
    ///
    /// # Errors
    /// Any [`StorageError`]; the node does not start.
    fn initial_state(&self) -> Result<InitialState, StorageError>;

    /// Entries in `lo..hi`, stopping before the total of
    /// [`Entry::size_bytes`] passes `max_bytes`, but always at least one
    /// entry when `lo < hi`.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] when `lo < first_index()`,
    /// [`StorageError::Unavailable`] when `hi > last_index() + 1`, or
    /// [`StorageError::LogTemporarilyUnavailable`].
    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError>;

    /// As [`Storage::entries`], into `out` (empty), so a protocol can fill
    /// a buffer it keeps instead of taking a fresh one on every read.
    /// The default calls [`Storage::entries`] and hands its buffer over.
    ///
    /// # Errors
    /// As [`Storage::entries`]; `out` is left empty then.
    fn entries_into(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        out: &mut Vec<Entry>,
    ) -> Result<(), StorageError> {
        let entries = self.entries(lo, hi, max_bytes)?;
        if out.is_empty() {
            *out = entries;
        } else {
            out.extend(entries);
        }
        Ok(())
    }

    /// The term of the entry at `index`, for any index from
    /// `first_index() - 1` to `last_index()`.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] below that range,
    /// [`StorageError::Unavailable`] above it.
    fn term(&self, index: Index) -> Result<Term, StorageError>;

    /// The index of the first entry still in the log.
    ///
    /// # Errors
    /// A backend failure.
    fn first_index(&self) -> Result<Index, StorageError>;

    /// The index of the last entry in the log (the snapshot's index when the
    /// log is empty).
    ///
    /// # Errors
    /// A backend failure.
    fn last_index(&self) -> Result<Index, StorageError>;

    /// The latest snapshot, which must cover at least `request_index`.
    ///
    /// # Errors
    /// [`StorageError::SnapshotTemporarilyUnavailable`] while one is being
    /// made: the node asks again later.
    fn snapshot(&self, request_index: Index) -> Result<Snapshot, StorageError>;

    /// The latest snapshot's metadata and size in bytes, as
    /// [`Storage::snapshot`] would return it. Storage that keeps snapshot
    /// data on disk answers without reading it; the default calls
    /// [`Storage::snapshot`].
    ///
    /// # Errors
    /// As [`Storage::snapshot`].
    fn snapshot_meta(&self, request_index: Index) -> Result<(SnapshotMeta, u64), StorageError> {
        let snapshot = self.snapshot(request_index)?;
        let len = snapshot.data.len() as u64;
        Ok((snapshot.meta, len))
    }

    /// Up to `max_bytes` of the latest snapshot's data from `offset`
    /// (fewer only at its end), read only while the latest snapshot is
    /// still the one at `index`: a leader sends a follower its snapshot a
    /// piece at a time, so storage that keeps the data on disk never needs
    /// it whole in memory. The default slices [`Storage::snapshot`].
    ///
    /// # Errors
    /// [`StorageError::SnapshotTemporarilyUnavailable`] when the latest
    /// snapshot is no longer the one at `index` (the transfer starts over
    /// with the new one) or `offset` is past its end; a backend failure.
    fn snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        let snapshot = self.snapshot(index)?;
        slice_piece(&snapshot, index, offset, max_bytes)
    }

    /// Whether this storage stages a leader's snapshot as it arrives:
    /// takes [`Write::snapshot_pieces`](crate::Write::snapshot_pieces) and
    /// installs by [`Write::staged_snapshot`](crate::Write::staged_snapshot)
    /// from what it staged. Storage that writes the pieces to disk lets a
    /// follower install a snapshot larger than its memory. Default `false`:
    /// the node reassembles the snapshot in memory and hands it over whole
    /// in [`Write::snapshot`](crate::Write::snapshot).
    fn stages_snapshots(&self) -> bool {
        false
    }
}

/// The piece of `snapshot` that [`Storage::snapshot_piece`] asks for, for
/// implementations that hold the snapshot in memory.
///
/// # Errors
/// [`StorageError::SnapshotTemporarilyUnavailable`] when `snapshot` is not
/// the one at `index` or `offset` is past its end.
pub fn slice_piece(
    snapshot: &Snapshot,
    index: Index,
    offset: u64,
    max_bytes: u64,
) -> Result<Bytes, StorageError> {
    let len = snapshot.data.len() as u64;
    if snapshot.meta.index != index || offset > len {
        return Err(StorageError::SnapshotTemporarilyUnavailable);
    }
    let end = offset.saturating_add(max_bytes).min(len);
    // In range: `offset <= end <= len`, both fit in usize as `len` does.
    Ok(snapshot.data.slice(offset as usize..end as usize))
}

/// Checks that `entries` can be appended to a log whose last index is
/// `last_index`: the first at most one past it (an earlier one truncates),
/// each the one after the last. What every `Storage` writer must refuse,
/// in one place.
///
/// # Errors
/// [`StorageError::Gap`] naming the first index that does not follow.
pub fn check_continues(entries: &[Entry], last_index: Index) -> Result<(), StorageError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    if first.index > last_index.saturating_add(1) {
        return Err(StorageError::Gap {
            first: first.index,
            last_index,
        });
    }
    if let Some(w) = entries
        .windows(2)
        .find(|w| w[0].index.checked_add(1) != Some(w[1].index))
    {
        return Err(StorageError::Gap {
            first: w[1].index,
            last_index: w[0].index,
        });
    }
    Ok(())
}

/// A [`Storage`] in memory, for tests, examples and simulations.
///
/// Besides the trait it offers the writes an application performs:
/// [`MemStorage::append`], [`MemStorage::set_hard_state`],
/// [`MemStorage::apply_snapshot`] (install a leader's snapshot),
/// [`MemStorage::create_snapshot`] (snapshot the local state machine) and
/// [`MemStorage::compact`] (drop entries a snapshot covers, possibly
/// keeping a tail after it for followers that are only a little behind).
///
/// ```
/// use synod_protocol::{Entry, MemStorage, Payload, Storage};
/// let mut s = MemStorage::new();
/// let e = |index, term| Entry { index, term, payload: Payload::Noop };
/// s.append(&[e(1, 1), e(2, 1), e(3, 2)]).unwrap();
/// s.append(&[e(3, 3)]).unwrap(); // a conflicting suffix is replaced
/// assert_eq!(s.term(3), Ok(3));
/// assert_eq!((s.first_index(), s.last_index()), (Ok(1), Ok(3)));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    hard_state: HardState,
    /// The configuration as of the latest snapshot (or the bootstrap).
    conf_state: ConfState,
    /// The latest snapshot; index 0 when there is none.
    /// Invariant: `base_index <= snapshot.meta.index <= last index` once
    /// a snapshot exists.
    snapshot: Snapshot,
    /// The entry just before the log (compacted away or covered by an
    /// installed snapshot): its index and term.
    base_index: Index,
    base_term: Term,
    /// Invariant: `entries[i].index == base_index + 1 + i`. A deque, so
    /// that compaction drops a prefix without moving what it keeps.
    entries: VecDeque<Entry>,
    /// Whether it takes snapshots in pieces (off unless asked for).
    stages: bool,
    /// The pieces staged so far: the snapshot they belong to, its size,
    /// and the bytes from offset 0.
    staged: Option<(SnapshotMeta, u64, Vec<u8>)>,
}

impl MemStorage {
    /// An empty log with an empty configuration.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log whose configuration has these voters: a static cluster.
    /// Use [`MemStorage::bootstrap`] for a cluster that will add nodes.
    #[must_use]
    pub fn with_voters(voters: &[NodeId]) -> Self {
        let mut voters = voters.to_vec();
        voters.sort_unstable();
        voters.dedup();
        Self {
            conf_state: ConfState {
                voters,
                ..ConfState::default()
            },
            ..Self::default()
        }
    }

    /// A new cluster's first log: entry 1 (term 1) adds `voters`, and is
    /// committed. Unlike [`MemStorage::with_voters`], the configuration is in
    /// the log, so nodes added later learn it by replication.
    #[must_use]
    pub fn bootstrap(voters: &[NodeId]) -> Self {
        let mut s = Self::with_voters(voters);
        let changes = s
            .conf_state
            .voters
            .iter()
            .map(|&node| ConfChangeSingle {
                kind: ConfChangeKind::AddVoter,
                node,
            })
            .collect();
        s.entries.push_back(Entry {
            term: 1,
            index: 1,
            payload: Payload::ConfChange(ConfChange { changes }),
        });
        s.hard_state = HardState {
            term: 1,
            vote: None,
            commit: 1,
        };
        s
    }

    /// Persists a hard state.
    pub fn set_hard_state(&mut self, hard_state: HardState) {
        self.hard_state = hard_state;
    }

    /// The persisted hard state.
    #[must_use]
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// Sets the configuration reported by `initial_state`.
    pub fn set_conf_state(&mut self, conf_state: ConfState) {
        self.conf_state = conf_state;
    }

    fn last(&self) -> Index {
        self.base_index + self.entries.len() as Index
    }

    /// Appends entries, replacing any existing suffix from the first new
    /// index on (Raft §5.3: a conflicting suffix is deleted). Entries at or
    /// below the compaction point are skipped: they are already covered.
    ///
    /// Stores what it is given: pass the `Vec` from the protocol's write hand-off and
    /// the entries move in (a slice is cloned, which shares the payload
    /// buffers but copies the entry headers).
    ///
    /// # Errors
    /// [`StorageError::Gap`] when the entries do not start at or before
    /// `last_index() + 1`, or are not consecutive.
    pub fn append(&mut self, entries: impl Into<Vec<Entry>>) -> Result<(), StorageError> {
        let mut entries = entries.into();
        let Some(first) = entries.first() else {
            return Ok(());
        };
        check_continues(&entries, self.last())?;
        let skip = (self.base_index + 1).saturating_sub(first.index) as usize;
        if skip >= entries.len() {
            return Ok(());
        }
        let offset = (entries[skip].index - self.base_index - 1) as usize;
        self.entries.truncate(offset);
        entries.drain(..skip);
        if self.entries.is_empty() {
            // Nothing kept: take the caller's buffer as it is.
            self.entries = VecDeque::from(entries);
        } else {
            // From the `Vec` itself (not a draining iterator): one copy.
            self.entries.extend(entries);
        }
        Ok(())
    }

    /// Stores a protocol's [`Write`](crate::Write) in the order it
    /// prescribes: the snapshot, then the entries, then the hard state.
    /// What every in-memory driver and simulator does with a write.
    ///
    /// # Errors
    /// As [`MemStorage::apply_snapshot`] and [`MemStorage::append`]; the
    /// hard state is not written after an error.
    pub fn apply_write(&mut self, write: crate::Write) -> Result<(), StorageError> {
        for piece in write.snapshot_pieces {
            self.stage_piece(piece)?;
        }
        if let Some(snapshot) = write.snapshot {
            self.apply_snapshot(snapshot)?;
        }
        if let Some(meta) = write.staged_snapshot {
            self.install_staged(&meta)?;
        }
        self.append(write.entries)?;
        if let Some(hs) = write.hard_state {
            self.set_hard_state(hs);
        }
        Ok(())
    }

    /// Makes this storage [stage snapshots](Storage::stages_snapshots) (or
    /// not, the default): a node then hands it a leader's snapshot in
    /// pieces. In memory that saves nothing; it is there so tests and
    /// simulations exercise the path that disk-backed storage takes.
    pub fn set_stages_snapshots(&mut self, stages: bool) {
        self.stages = stages;
    }

    /// Stages a piece of a leader's snapshot: offset 0 starts a new one
    /// (dropping what was staged); any other offset must continue the
    /// staged bytes of the same snapshot.
    ///
    /// # Errors
    /// [`StorageError::Other`] for a piece that does not continue what is
    /// staged, or ends past the snapshot's size.
    pub fn stage_piece(&mut self, piece: SnapshotPiece) -> Result<(), StorageError> {
        if piece.end() > piece.total_bytes {
            return Err(StorageError::Other(
                "snapshot piece past the snapshot's end".into(),
            ));
        }
        if piece.offset == 0 {
            self.staged = Some((piece.meta, piece.total_bytes, piece.data.to_vec()));
            return Ok(());
        }
        match &mut self.staged {
            Some((meta, total, bytes))
                if *meta == piece.meta
                    && *total == piece.total_bytes
                    && bytes.len() as u64 == piece.offset =>
            {
                bytes.extend_from_slice(&piece.data);
                Ok(())
            }
            _ => Err(StorageError::Other(
                "snapshot piece does not continue the staged bytes".into(),
            )),
        }
    }

    /// Installs the staged snapshot `meta`, which must be complete, as
    /// [`MemStorage::apply_snapshot`] does.
    ///
    /// # Errors
    /// [`StorageError::Other`] when the staged bytes are not all of that
    /// snapshot; as [`MemStorage::apply_snapshot`].
    pub fn install_staged(&mut self, meta: &SnapshotMeta) -> Result<(), StorageError> {
        match self.staged.take() {
            Some((staged, total, bytes)) if staged == *meta && bytes.len() as u64 == total => self
                .apply_snapshot(Snapshot {
                    meta: staged,
                    data: Bytes::from(bytes),
                }),
            other => {
                self.staged = other;
                Err(StorageError::Other(
                    "no complete staged snapshot to install".into(),
                ))
            }
        }
    }

    /// Installs a snapshot received from a leader, discarding the log.
    ///
    /// # Errors
    /// [`StorageError::SnapshotOutOfDate`] when it is not newer than the
    /// current snapshot.
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) -> Result<(), StorageError> {
        let current = self.snapshot.meta.index.max(self.base_index);
        if snapshot.meta.index <= current {
            return Err(StorageError::SnapshotOutOfDate {
                index: snapshot.meta.index,
                current,
            });
        }
        self.conf_state = snapshot.meta.conf_state.clone();
        self.hard_state.commit = self.hard_state.commit.max(snapshot.meta.index);
        self.base_index = snapshot.meta.index;
        self.base_term = snapshot.meta.term;
        self.entries.clear();
        self.snapshot = snapshot;
        Ok(())
    }

    /// Snapshots the application state at `index` (an applied index still
    /// in the log). The log is kept; compact separately.
    ///
    /// # Errors
    /// [`StorageError::SnapshotOutOfDate`] when `index` is not past the
    /// current snapshot, [`StorageError::Unavailable`] or
    /// [`StorageError::Compacted`] when `index` is not in the log.
    pub fn create_snapshot(
        &mut self,
        index: Index,
        conf_state: ConfState,
        data: impl Into<Bytes>,
    ) -> Result<&Snapshot, StorageError> {
        if index <= self.snapshot.meta.index {
            return Err(StorageError::SnapshotOutOfDate {
                index,
                current: self.snapshot.meta.index,
            });
        }
        let term = self.term(index)?;
        // A restarted node starts from this configuration and replays the
        // committed entries after the snapshot, so the stored configuration
        // must be the snapshot's.
        self.conf_state = conf_state.clone();
        self.snapshot = Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                conf_state,
            },
            data: data.into(),
        };
        Ok(&self.snapshot)
    }

    /// Discards entries up to and including `index`; `term(index)` stays
    /// answerable. Only entries a snapshot covers can go: dropping others
    /// would lose acknowledged data.
    ///
    /// # Errors
    /// [`StorageError::Compacted`] when `index` is already compacted,
    /// [`StorageError::NotSnapshotted`] when no snapshot covers it.
    pub fn compact(&mut self, index: Index) -> Result<(), StorageError> {
        if index <= self.base_index {
            return Err(StorageError::Compacted {
                index,
                first_index: self.base_index + 1,
            });
        }
        if index > self.snapshot.meta.index {
            return Err(StorageError::NotSnapshotted {
                index,
                snapshot_index: self.snapshot.meta.index,
            });
        }
        let term = self.term(index)?;
        let covered = (index - self.base_index) as usize;
        self.entries.drain(..covered);
        self.base_index = index;
        self.base_term = term;
        Ok(())
    }
}

impl Storage for MemStorage {
    fn initial_state(&self) -> Result<InitialState, StorageError> {
        Ok(InitialState {
            hard_state: self.hard_state,
            conf_state: self.conf_state.clone(),
        })
    }

    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        let mut out = Vec::new();
        self.entries_into(lo, hi, max_bytes, &mut out)?;
        Ok(out)
    }

    fn entries_into(
        &self,
        lo: Index,
        hi: Index,
        max_bytes: u64,
        out: &mut Vec<Entry>,
    ) -> Result<(), StorageError> {
        if lo <= self.base_index {
            return Err(StorageError::Compacted {
                index: lo,
                first_index: self.base_index + 1,
            });
        }
        if hi > self.last() + 1 {
            return Err(StorageError::Unavailable {
                index: hi - 1,
                last_index: self.last(),
            });
        }
        if lo >= hi {
            return Ok(());
        }
        let from = (lo - self.base_index - 1) as usize;
        let to = (hi - self.base_index - 1) as usize;
        // `limit_size`'s rule, over the deque: at least one entry, then
        // as many as stay within `max_bytes`.
        let mut total = 0u64;
        let n = self
            .entries
            .range(from..to)
            .take_while(|e| {
                total = total.saturating_add(e.size_bytes());
                total <= max_bytes
            })
            .count()
            .max(1);
        out.extend(self.entries.range(from..from + n).cloned());
        Ok(())
    }

    fn term(&self, index: Index) -> Result<Term, StorageError> {
        if index < self.base_index {
            return Err(StorageError::Compacted {
                index,
                first_index: self.base_index + 1,
            });
        }
        if index > self.last() {
            return Err(StorageError::Unavailable {
                index,
                last_index: self.last(),
            });
        }
        if index == self.base_index {
            return Ok(self.base_term);
        }
        Ok(self.entries[(index - self.base_index - 1) as usize].term)
    }

    fn first_index(&self) -> Result<Index, StorageError> {
        Ok(self.base_index + 1)
    }

    fn last_index(&self) -> Result<Index, StorageError> {
        Ok(self.last())
    }

    fn snapshot(&self, request_index: Index) -> Result<Snapshot, StorageError> {
        if self.snapshot.meta.index < request_index {
            return Err(StorageError::SnapshotTemporarilyUnavailable);
        }
        Ok(self.snapshot.clone())
    }

    fn snapshot_piece(
        &self,
        index: Index,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Bytes, StorageError> {
        slice_piece(&self.snapshot, index, offset, max_bytes)
    }

    fn stages_snapshots(&self) -> bool {
        self.stages
    }
}

/// The longest prefix of `entries` whose total size stays within
/// `max_bytes`, but never less than one entry: the rule
/// [`Storage::entries`] follows, for implementations to share.
#[must_use]
pub fn limit_size(entries: &[Entry], max_bytes: u64) -> &[Entry] {
    let mut total = 0u64;
    let mut n = 0;
    for e in entries {
        total = total.saturating_add(e.size_bytes());
        if n > 0 && total > max_bytes {
            break;
        }
        n += 1;
    }
    &entries[..n]
}
