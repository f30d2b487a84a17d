//! A simulated file system: one directory in memory that can crash and
//! fail, seeded so a run replays bit for bit.
//!
//! Each file keeps its *durable* bytes (as of its last successful sync)
//! apart from the writes made since, which reads see at once. A crash
//! keeps, per file, a random prefix of those writes in order, the last one
//! possibly torn, and restores the names as of the last directory sync. A
//! sync that fails forgets the writes it covered: reads still see them, a
//! crash loses them, and a later successful sync does not bring them back
//! (the page cache marked them clean: PostgreSQL's "fsyncgate").

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Dir, File};

/// The kinds of operation a fault can hit.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// [`File::write_at`].
    Write,
    /// [`File::sync_data`].
    Sync,
    /// [`File::set_len`].
    SetLen,
    /// [`Dir::create`].
    Create,
    /// [`Dir::rename`].
    Rename,
    /// [`Dir::remove`].
    Remove,
    /// [`Dir::sync`].
    DirSync,
}

/// An injected failure.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An I/O error (EIO): the operation failed; a failed write may have
    /// written a prefix of its bytes.
    Eio,
    /// The disk is full (ENOSPC, `io::ErrorKind::StorageFull`).
    Enospc,
}

impl Fault {
    fn error(self, op: Op) -> io::Error {
        match self {
            Self::Eio => io::Error::other(format!("simulated EIO on {op:?}")),
            Self::Enospc => io::Error::new(
                io::ErrorKind::StorageFull,
                format!("simulated ENOSPC on {op:?}"),
            ),
        }
    }
}

/// A change to a file since its last successful sync.
#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

impl Pending {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Self::Write { offset, data } => write_into(bytes, *offset, data),
            Self::SetLen(len) => bytes.resize(to_usize(*len), 0),
        }
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn write_into(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = to_usize(offset);
    let end = start.saturating_add(data.len());
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[start..end].copy_from_slice(data);
}

#[derive(Debug, Default)]
struct Inode {
    /// What reads see.
    data: Vec<u8>,
    /// What survives a crash for certain.
    durable: Vec<u8>,
    /// Changes since the last successful sync, in order.
    /// Invariant: `durable` with all of them applied is `data`, except for
    /// changes a failed sync lost (applied to `data`, gone from here).
    pending: Vec<Pending>,
}

#[derive(Debug)]
struct State {
    inodes: BTreeMap<u64, Inode>,
    /// The names as the running system sees them.
    names: BTreeMap<String, u64>,
    /// The names as of the last directory sync: what a crash restores.
    durable_names: BTreeMap<String, u64>,
    next_inode: u64,
    /// Bumped at each crash: handles from before fail.
    generation: u64,
    /// Armed faults: the operation of this kind after this many more
    /// successful ones fails.
    faults: Vec<(Op, u64, Fault)>,
    rng: StdRng,
}

impl State {
    /// Whether an armed fault fires for this operation (and disarms it).
    fn fault(&mut self, op: Op) -> Option<Fault> {
        let mut fired = None;
        self.faults.retain_mut(|(kind, after, fault)| {
            if *kind != op || fired.is_some() {
                return true;
            }
            if *after == 0 {
                fired = Some(*fault);
                return false;
            }
            *after -= 1;
            true
        });
        fired
    }

    fn inode_of(&self, name: &str) -> io::Result<u64> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no file {name:?}")))
    }
}

/// A simulated directory (see the module docs). Clones share the same
/// directory.
#[derive(Debug, Clone)]
pub struct SimDir {
    state: Arc<Mutex<State>>,
}

/// A file of a [`SimDir`]. Fails once the directory has crashed since it
/// was opened.
#[derive(Debug)]
pub struct SimFile {
    state: Arc<Mutex<State>>,
    inode: u64,
    generation: u64,
}

impl SimDir {
    /// An empty directory whose crashes and torn writes draw from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                inodes: BTreeMap::new(),
                names: BTreeMap::new(),
                durable_names: BTreeMap::new(),
                next_inode: 1,
                generation: 0,
                faults: Vec::new(),
                rng: StdRng::seed_from_u64(seed),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only be a bug in this file;
        // the state is still consistent enough to read.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms a fault: the operation of kind `op` after `after` more
    /// successful ones fails with `fault`, once.
    pub fn fail(&self, op: Op, after: u64, fault: Fault) {
        self.lock().faults.push((op, after, fault));
    }

    /// Disarms every fault not yet fired.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// A crash: names go back to the last directory sync, each file keeps
    /// its durable bytes and a random prefix of its later writes (the last
    /// kept one possibly torn), and every open file handle goes stale.
    pub fn crash(&self) {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.generation += 1;
        state.names = state.durable_names.clone();
        let live: Vec<u64> = state.names.values().copied().collect();
        state.inodes.retain(|id, _| live.contains(id));
        for inode in state.inodes.values_mut() {
            let mut bytes = std::mem::take(&mut inode.durable);
            let pending = std::mem::take(&mut inode.pending);
            let kept = state.rng.random_range(0..=pending.len());
            for change in &pending[..kept] {
                change.apply(&mut bytes);
            }
            // The next write may have been torn: a prefix of it landed.
            if let Some(Pending::Write { offset, data }) = pending.get(kept)
                && state.rng.random_bool(0.5)
            {
                let torn = state.rng.random_range(0..=data.len());
                write_into(&mut bytes, *offset, &data[..torn]);
            }
            inode.data = bytes.clone();
            inode.durable = bytes;
        }
    }

    /// A copy of a file's bytes as reads see them, for tests.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn read_all(&self, name: &str) -> io::Result<Vec<u8>> {
        let state = self.lock();
        let inode = state.inode_of(name)?;
        Ok(state.inodes[&inode].data.clone())
    }

    fn op(&self, op: Op) -> io::Result<MutexGuard<'_, State>> {
        let mut state = self.lock();
        match state.fault(op) {
            Some(fault) => Err(fault.error(op)),
            None => Ok(state),
        }
    }

    fn handle(&self, inode: u64, generation: u64) -> SimFile {
        SimFile {
            state: Arc::clone(&self.state),
            inode,
            generation,
        }
    }
}

impl Dir for SimDir {
    type File = SimFile;

    fn create(&self, name: &str) -> io::Result<SimFile> {
        let mut state = self.op(Op::Create)?;
        if state.names.contains_key(name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{name:?} exists"),
            ));
        }
        let inode = state.next_inode;
        state.next_inode += 1;
        state.inodes.insert(inode, Inode::default());
        state.names.insert(name.to_string(), inode);
        let generation = state.generation;
        drop(state);
        Ok(self.handle(inode, generation))
    }

    fn open(&self, name: &str) -> io::Result<SimFile> {
        let state = self.lock();
        let inode = state.inode_of(name)?;
        let generation = state.generation;
        drop(state);
        Ok(self.handle(inode, generation))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut state = self.op(Op::Rename)?;
        let inode = state.inode_of(from)?;
        state.names.remove(from);
        state.names.insert(to.to_string(), inode);
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut state = self.op(Op::Remove)?;
        state.inode_of(name)?;
        state.names.remove(name);
        Ok(())
    }

    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.lock().names.keys().cloned().collect())
    }

    fn sync(&self) -> io::Result<()> {
        let mut state = self.op(Op::DirSync)?;
        state.durable_names = state.names.clone();
        Ok(())
    }
}

fn stale() -> io::Error {
    io::Error::new(
        io::ErrorKind::StaleNetworkFileHandle,
        "file handle from before a simulated crash",
    )
}

impl SimFile {
    /// The directory's state, unless a crash made this handle stale.
    fn state(&self) -> io::Result<MutexGuard<'_, State>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.generation != self.generation {
            return Err(stale());
        }
        Ok(state)
    }

    fn inode<'a>(&self, state: &'a mut State) -> io::Result<&'a mut Inode> {
        state.inodes.get_mut(&self.inode).ok_or_else(stale)
    }
}

impl File for SimFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut state = self.state()?;
        let data = &self.inode(&mut state)?.data;
        let start = to_usize(offset).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.state()?;
        let failed = state.fault(Op::Write);
        // A failed write may have written a prefix of its bytes.
        let written = match failed {
            Some(_) => state.rng.random_range(0..=data.len()),
            None => data.len(),
        };
        let part = &data[..written];
        let inode = self.inode(&mut state)?;
        write_into(&mut inode.data, offset, part);
        inode.pending.push(Pending::Write {
            offset,
            data: part.to_vec(),
        });
        match failed {
            Some(fault) => Err(fault.error(Op::Write)),
            None => Ok(()),
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut state = self.state()?;
        let failed = state.fault(Op::Sync);
        let inode = self.inode(&mut state)?;
        let pending = std::mem::take(&mut inode.pending);
        if let Some(fault) = failed {
            // The writes this sync covered are lost to durability: reads
            // still see them, a crash drops them, no later sync saves them.
            return Err(fault.error(Op::Sync));
        }
        for change in pending {
            change.apply(&mut inode.durable);
        }
        Ok(())
    }

    fn size_bytes(&self) -> io::Result<u64> {
        let mut state = self.state()?;
        Ok(self.inode(&mut state)?.data.len() as u64)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut state = self.state()?;
        if let Some(fault) = state.fault(Op::SetLen) {
            return Err(fault.error(Op::SetLen));
        }
        let inode = self.inode(&mut state)?;
        let change = Pending::SetLen(len);
        change.apply(&mut inode.data);
        inode.pending.push(change);
        Ok(())
    }

    /// Simulated as extending the file with zeros (what reads see of
    /// fallocated space); fails like `set_len`.
    fn allocate(&mut self, len_bytes: u64) -> io::Result<()> {
        if self.size_bytes()? < len_bytes {
            self.set_len(len_bytes)?;
        }
        Ok(())
    }
}
