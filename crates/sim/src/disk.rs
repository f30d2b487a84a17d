//! A simulated node's disk, shared by the key-value and the lock
//! simulators: what survives a crash, the writes handed to it and not yet
//! synced, and what waits for them; and the trace hash both mix events
//! into.

use rand::Rng as _;
use rand::rngs::StdRng;

use crate::replica::Replica;

/// Mixes `x` into the hash `h` (splitmix64's finalizer).
pub(crate) fn mix(h: u64, x: u64) -> u64 {
    let mut z = h ^ x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One node's disk.
#[derive(Debug)]
pub(crate) struct Disk<R: Replica> {
    /// What survives a crash.
    pub(crate) durable: R::Disk,
    /// Writes handed to the disk and not yet synced.
    pub(crate) pending: Vec<R::Write>,
    /// Messages waiting for `pending` to sync.
    pub(crate) held: Vec<R::Message>,
    receipts: Vec<R::Receipt>,
}

/// What a crash did to the unsynced writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Crashed {
    /// Some were lost.
    pub(crate) lost: bool,
    /// A prefix of them landed (a torn write).
    pub(crate) torn: bool,
}

impl<R: Replica> Disk<R> {
    pub(crate) fn new(durable: R::Disk) -> Self {
        Self {
            durable,
            pending: Vec::new(),
            held: Vec::new(),
            receipts: Vec::new(),
        }
    }

    /// Takes a ready's write, unsynced, with the messages and the receipt
    /// that wait for it.
    pub(crate) fn hand(
        &mut self,
        write: R::Write,
        after_sync: Vec<R::Message>,
        receipt: R::Receipt,
    ) {
        self.pending.push(write);
        self.held.extend(after_sync);
        self.receipts.push(receipt);
    }

    /// Syncs: the pending writes become durable and `node` learns so.
    /// Returns the messages that waited.
    ///
    /// # Errors
    /// A write the disk refuses (a protocol bug).
    pub(crate) fn sync(&mut self, node: &mut R) -> Result<Vec<R::Message>, String> {
        for w in std::mem::take(&mut self.pending) {
            R::write(&mut self.durable, &w)?;
        }
        for r in self.receipts.drain(..) {
            node.on_synced(r);
        }
        Ok(self.held.drain(..).collect())
    }

    /// A crash: everything unsynced is lost, except that with
    /// `torn_writes` a prefix of the unsynced entries may land.
    pub(crate) fn crash(&mut self, rng: &mut StdRng, torn_writes: bool) -> Crashed {
        let mut crashed = Crashed {
            lost: !self.pending.is_empty(),
            torn: false,
        };
        if crashed.lost && torn_writes {
            let units = R::torn_units(&self.pending) as u64;
            let keep = (rng.next_u64() % (units + 1)) as usize;
            crashed.torn = keep > 0 && R::tear(&mut self.durable, &self.pending, keep);
        }
        self.pending.clear();
        self.held.clear();
        self.receipts.clear();
        crashed
    }
}
