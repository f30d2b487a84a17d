//! Buffers handed back for reuse: the `Vec`s a `ready` hands out and the
//! ones a leader's appends arrive in, kept so that the next `ready` fills
//! them instead of allocating (OmniPaxos's caller-kept outgoing buffer,
//! done from the other side so the `Ready` stays plain data). What a
//! protocol keeps to serve [`Protocol::reuse_entries`] and
//! [`Protocol::reuse_messages`](crate::Protocol::reuse_messages).
//!
//! [`Protocol::reuse_entries`]: crate::Protocol::reuse_entries

/// At most this many buffers of one kind are kept: enough for what one
/// `ready` hands out (a leader's appends, the batch to persist, the
/// entries to apply).
const KEPT: usize = 4;

/// A buffer with room for more than this many bytes is dropped, not kept:
/// a burst (a follower catching up) must not pin its memory. A node keeps
/// at most `KEPT * KEPT_BYTES` bytes of each kind (64 KiB); a buffer has
/// room for 292 log entries.
const KEPT_BYTES: usize = 16 * 1024;

/// A few empty buffers with their capacity: at most 4, of at most 16 KiB
/// each.
#[derive(Debug, Clone)]
pub struct Spare<T> {
    buffers: Vec<Vec<T>>,
}

impl<T> Default for Spare<T> {
    fn default() -> Self {
        Self {
            buffers: Vec::new(),
        }
    }
}

impl<T> Spare<T> {
    /// An empty buffer: a kept one when there is one.
    #[must_use]
    pub fn take(&mut self) -> Vec<T> {
        self.buffers.pop().unwrap_or_default()
    }

    /// Hands out what `buffer` holds, a kept buffer (or a fresh empty one)
    /// taking its place, so what is pushed next needs no allocation. An
    /// empty `buffer` stays where it is and an empty `Vec` comes out.
    pub fn hand_out(&mut self, buffer: &mut Vec<T>) -> Vec<T> {
        if buffer.is_empty() {
            return Vec::new();
        }
        std::mem::replace(buffer, self.take())
    }

    /// Keeps `buffer` (emptied: what it holds is dropped) for a later
    /// [`Spare::take`], unless it has no capacity, has room for over
    /// 16 KiB, or 4 are kept already.
    pub fn give(&mut self, mut buffer: Vec<T>) {
        let capacity = buffer.capacity();
        let bytes = capacity.saturating_mul(std::mem::size_of::<T>());
        if capacity == 0 || bytes > KEPT_BYTES || self.buffers.len() >= KEPT {
            return;
        }
        buffer.clear();
        self.buffers.push(buffer);
    }

    /// Buffers kept now.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.buffers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_empty_with_its_capacity() {
        let mut spare = Spare::default();
        let mut v = Vec::with_capacity(16);
        v.extend([1u64, 2, 3]);
        let at = v.as_ptr();
        spare.give(v);
        let back = spare.take();
        assert!(back.is_empty());
        assert_eq!(back.capacity(), 16);
        assert_eq!(back.as_ptr(), at, "the same allocation");
        assert_eq!(spare.take().capacity(), 0, "then a fresh one");
    }

    #[test]
    fn hand_out_puts_a_kept_buffer_in_place_and_leaves_an_empty_one() {
        let mut spare = Spare::default();
        spare.give(Vec::<u64>::with_capacity(16));
        let mut held = vec![1u64, 2];
        assert_eq!(spare.hand_out(&mut held), [1, 2]);
        assert!(held.is_empty());
        assert_eq!(held.capacity(), 16, "the kept buffer took its place");
        let out = spare.hand_out(&mut held);
        assert_eq!((out.len(), out.capacity()), (0, 0));
        assert_eq!(held.capacity(), 16, "an empty buffer stays");
    }

    #[test]
    fn large_empty_and_surplus_buffers_are_dropped() {
        let mut spare: Spare<u64> = Spare::default();
        spare.give(Vec::new());
        spare.give(Vec::with_capacity(KEPT_BYTES / 8 + 1));
        assert_eq!(spare.kept(), 0);
        for _ in 0..KEPT + 3 {
            spare.give(Vec::with_capacity(KEPT_BYTES / 8));
        }
        assert_eq!(spare.kept(), KEPT);
    }
}
