//! Lowe's memo for the linearizability search: every (linearized set,
//! state) pair the search has reached, so it never explores one twice.

use std::hash::{Hash, Hasher};

/// The memo. Looked up without allocating (a pair is stored only when it
/// is new, and moved in, not cloned), hashed with a fixed, fast function:
/// the search's result never depends on the hash, only its speed.
///
/// An open-addressed table of entry numbers over flat arrays of sets,
/// states and hashes: one hash per lookup, no chains, and growth that
/// moves 4-byte slots, never the entries.
pub(crate) struct Memo<S> {
    /// Words per set.
    words: usize,
    /// Every set recorded, `words` words each, in recording order.
    sets: Vec<u64>,
    /// The state recorded with each set.
    states: Vec<S>,
    /// Each entry's hash: a cheap first comparison, and where it goes
    /// when the table grows.
    hashes: Vec<u64>,
    /// Entry number + 1 per slot (0: empty); a power of two long, at most
    /// half full. Probed linearly from the hash's top bits.
    slots: Vec<u32>,
}

/// Slots of a new table.
const FIRST_SLOTS: usize = 1 << 10;

impl<S: Eq + Hash> Memo<S> {
    /// An empty memo of sets of `words` words.
    pub(crate) fn new(words: usize) -> Self {
        Self {
            words,
            sets: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            slots: vec![0; FIRST_SLOTS],
        }
    }

    /// Where probing for `hash` starts.
    fn home(&self, hash: u64) -> usize {
        // The top bits: `finish` spreads them all.
        (hash >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    /// Records the pair and returns its place, or `None` (dropping
    /// `state`) if it was there already. `set_hash` is any function of
    /// `set` alone (the search keeps one up to date as it places and
    /// removes operations, rather than hash the set at every step).
    pub(crate) fn insert(&mut self, set: &[u64], set_hash: u64, state: S) -> Option<usize> {
        // The set and the state pick the slot (by the set alone, as
        // Porcupine does, one set met thousands of states on its c50
        // key-value history: 50x slower).
        let mut h = Mixer::default();
        h.write_u64(set_hash);
        state.hash(&mut h);
        let hash = h.finish();
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                break;
            }
            let i = slot as usize - 1;
            if self.hashes[i] == hash
                && self.sets[i * self.words..(i + 1) * self.words] == *set
                && self.states[i] == state
            {
                return None;
            }
            at = (at + 1) & mask;
        }
        let place = self.states.len();
        // A place past u32::MAX - 1 is never reached: the memo of a search
        // that long would not fit in memory (each entry holds a set).
        self.slots[at] = u32::try_from(place + 1).unwrap_or(u32::MAX);
        self.sets.extend_from_slice(set);
        self.states.push(state);
        self.hashes.push(hash);
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        Some(place)
    }

    /// Doubles the table, placing every entry again by its hash.
    fn grow(&mut self) {
        let len = self.slots.len() * 2;
        self.slots = vec![0; len];
        let mask = len - 1;
        for (i, &hash) in self.hashes.iter().enumerate() {
            let mut at = self.home(hash);
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }

    /// The state recorded at `place`.
    pub(crate) fn state(&self, place: usize) -> &S {
        &self.states[place]
    }
}

/// A fixed hash, so runs behave alike. Words are folded in with one
/// multiply each (as FxHash does: the memo hashes a state at nearly every
/// step, and a full mix per word was a tenth of the check), and the
/// simulator's trace mix spreads the result once, in `finish`.
#[derive(Default)]
struct Mixer(u64);

impl Mixer {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
}

impl std::hash::Hasher for Mixer {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }

    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }

    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }

    fn finish(&self) -> u64 {
        crate::disk::mix(self.0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state whose hash is always the same: every entry collides.
    #[derive(PartialEq, Eq)]
    struct Clash(u32);

    impl Hash for Clash {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u8(0);
        }
    }

    #[test]
    fn a_pair_is_recorded_once_and_found_again_across_growth() {
        let mut memo = Memo::new(1);
        let mut places = Vec::new();
        for k in 0..5_000u64 {
            places.push(memo.insert(&[k % 97], k % 97, k / 97).expect("new"));
        }
        for k in 0..5_000u64 {
            assert_eq!(
                memo.insert(&[k % 97], k % 97, k / 97),
                None,
                "pair {k} is known"
            );
            assert_eq!(*memo.state(places[k as usize]), k / 97);
        }
        assert_eq!(memo.insert(&[5_000], 5_000, 0), Some(5_000));
    }

    #[test]
    fn colliding_hashes_still_tell_pairs_apart() {
        let mut memo = Memo::new(2);
        for k in 0..3_000u32 {
            assert!(memo.insert(&[1, 2], 0, Clash(k)).is_some());
        }
        assert!(memo.insert(&[1, 3], 0, Clash(0)).is_some(), "another set");
        assert!(memo.insert(&[1, 2], 0, Clash(7)).is_none());
        assert!(memo.insert(&[1, 3], 0, Clash(0)).is_none());
    }
}
