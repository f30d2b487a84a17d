//! The node's two input queues (messages from peers, calls from clients):
//! many senders, one receiver, bounded by a count, never blocking a
//! sender.
//!
//! A `Mutex<VecDeque>` and a waker rather than a linked channel: a send is
//! a push into a reused buffer (no allocation per message), and the node
//! takes what waits in one lock each.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

struct Shared<M> {
    queue: Mutex<VecDeque<M>>,
    capacity: usize,
    /// Shared apart, so a reader of the count holds no messages.
    dropped: Arc<AtomicU64>,
    /// Live `Inbox` handles; the stream ends when the last is dropped.
    senders: AtomicUsize,
    /// The receiver is gone.
    closed: AtomicBool,
    waker: AtomicWaker,
}

impl<M> Shared<M> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<M>> {
        // A sender that panicked mid-push leaves a valid queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where a transport hands the messages it receives. Cheap to clone;
/// [`Inbox::deliver`] never blocks: past `inbox_capacity` waiting
/// messages it drops (the protocol recovers from loss) and counts.
pub struct Inbox<M> {
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Inbox<M> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> Drop for Inbox<M> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.waker.wake();
        }
    }
}

impl<M> std::fmt::Debug for Inbox<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field(
                "queued",
                &self.shared.queue.try_lock().map(|q| q.len()).ok(),
            )
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// What became of a message offered to an [`Inbox`].
pub(crate) enum Offer {
    Taken,
    Full,
    Closed,
}

impl<M> Inbox<M> {
    /// A stand-alone inbox holding at most `capacity` waiting messages,
    /// and its receiving end: for testing a transport without a node.
    #[must_use]
    pub fn channel(capacity: usize) -> (Self, InboxReceiver<M>) {
        inbox(capacity.max(1))
    }

    /// Hands a message from a peer to the node. Returns whether it was
    /// queued (false: the inbox is full or the node has stopped).
    pub fn deliver(&self, message: M) -> bool {
        matches!(self.offer(message), Offer::Taken)
    }

    /// Queues `message` unless the inbox is full or its receiver gone.
    pub(crate) fn offer(&self, message: M) -> Offer {
        let shared = &self.shared;
        let first = {
            let mut queue = shared.lock();
            // Checked under the lock: the receiver closes and empties the
            // queue under it too, so nothing is left behind unanswered
            // (a queued call holds its caller's reply channel).
            if shared.closed.load(Ordering::Acquire) {
                return Offer::Closed;
            }
            if queue.len() >= shared.capacity {
                drop(queue);
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                return Offer::Full;
            }
            queue.push_back(message);
            queue.len() == 1
        };
        // Only the push that finds the queue empty wakes the receiver. It
        // takes the queue whole, under the lock, before it waits again, so
        // a later push rides on the wake an earlier one gave (and saves
        // the atomic traffic of another, with every client pushing).
        if first {
            shared.waker.wake();
        }
        Offer::Taken
    }
}

/// The receiving end of an [`Inbox`]: a stream of the delivered messages,
/// ending when every `Inbox` handle is gone. The driver holds one;
/// [`Inbox::channel`] makes a pair for testing a transport on its own.
pub struct InboxReceiver<M> {
    shared: Arc<Shared<M>>,
    /// Messages taken from the queue in one lock, handed out one by one.
    taken: VecDeque<M>,
}

impl<M> std::fmt::Debug for InboxReceiver<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxReceiver")
            .field(
                "queued",
                &self.shared.queue.try_lock().map(|q| q.len()).ok(),
            )
            .finish_non_exhaustive()
    }
}

impl<M> InboxReceiver<M> {
    /// Messages dropped so far because the inbox was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// A reader of the drop count that outlives the receiver.
    pub(crate) fn drop_count(&self) -> DropCount {
        DropCount(Arc::clone(&self.shared.dropped))
    }
}

/// Reads an inbox's drop count.
pub(crate) struct DropCount(Arc<AtomicU64>);

impl DropCount {
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

// Nothing in the receiver is structurally pinned: it only ever moves
// messages out by value.
impl<M> Unpin for InboxReceiver<M> {}

impl<M> Drop for InboxReceiver<M> {
    fn drop(&mut self) {
        let left = {
            let mut queue = self.shared.lock();
            self.shared.closed.store(true, Ordering::Release);
            std::mem::take(&mut *queue)
        };
        // Dropped outside the lock: a queued call's reply channel closes,
        // and its caller learns the node stopped.
        drop(left);
    }
}

impl<M> futures::Stream for InboxReceiver<M> {
    type Item = M;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<M>> {
        if let Some(m) = self.taken.pop_front() {
            return Poll::Ready(Some(m));
        }
        if self.refill() {
            return Poll::Ready(self.taken.pop_front());
        }
        // Register, then look again: a push between the first look and the
        // registration would otherwise wake nobody.
        self.shared.waker.register(cx.waker());
        if self.refill() {
            return Poll::Ready(self.taken.pop_front());
        }
        if self.shared.senders.load(Ordering::Acquire) == 0 {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<M> InboxReceiver<M> {
    /// The next queued item, if one is there now; never waits and never
    /// registers for a wake-up (a `None` here says nothing about the end
    /// of the stream).
    pub(crate) fn try_next(&mut self) -> Option<M> {
        if self.taken.is_empty() {
            self.refill();
        }
        self.taken.pop_front()
    }

    /// The next item already moved to this side, without taking the
    /// senders' lock.
    pub(crate) fn try_next_taken(&mut self) -> Option<M> {
        self.taken.pop_front()
    }

    /// Moves everything waiting into `taken`; whether anything was.
    fn refill(&mut self) -> bool {
        let mut queue = self.shared.lock();
        if queue.is_empty() {
            return false;
        }
        // Swap buffers: both keep their capacity, so neither side
        // allocates in the steady state.
        std::mem::swap(&mut *queue, &mut self.taken);
        true
    }
}

pub(crate) fn inbox<M>(capacity: usize) -> (Inbox<M>, InboxReceiver<M>) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        capacity,
        dropped: Arc::new(AtomicU64::new(0)),
        senders: AtomicUsize::new(1),
        closed: AtomicBool::new(false),
        waker: AtomicWaker::new(),
    });
    (
        Inbox {
            shared: Arc::clone(&shared),
        },
        InboxReceiver {
            shared,
            taken: VecDeque::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[test]
    fn bounded_ordered_and_ending_with_the_last_sender() {
        let (tx, mut rx) = inbox::<u32>(3);
        let tx2 = tx.clone();
        assert!(tx.deliver(1));
        assert!(tx2.deliver(2));
        assert!(tx.deliver(3));
        assert!(!tx.deliver(4), "past the capacity");
        assert_eq!(rx.dropped(), 1);
        let got: Vec<u32> = futures::executor::block_on(async {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(rx.next().await.expect("a message"));
            }
            v
        });
        assert_eq!(got, [1, 2, 3]);
        assert!(tx.deliver(5), "room again once taken");
        drop(tx);
        drop(tx2);
        let rest: Vec<u32> = futures::executor::block_on(rx.collect());
        assert_eq!(rest, [5]);
    }

    #[test]
    fn a_send_after_the_receiver_is_gone_is_refused() {
        let (tx, rx) = inbox::<u32>(3);
        drop(rx);
        assert!(matches!(tx.offer(1), Offer::Closed));
    }

    #[test]
    fn what_waits_when_the_receiver_goes_is_dropped_with_it() {
        let (tx, rx) = inbox::<futures::channel::oneshot::Sender<()>>(3);
        let (reply, answer) = futures::channel::oneshot::channel();
        assert!(tx.deliver(reply));
        drop(rx);
        // The caller is not left waiting forever.
        assert!(futures::executor::block_on(answer).is_err());
    }

    #[test]
    fn a_waiting_receiver_is_woken_from_another_thread() {
        let (tx, mut rx) = inbox::<u32>(8);
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.deliver(7);
        });
        assert_eq!(futures::executor::block_on(rx.next()), Some(7));
        t.join().expect("joined");
        assert_eq!(futures::executor::block_on(rx.next()), None);
    }

    #[test]
    fn no_push_is_left_unwoken_when_only_the_first_wakes() {
        // Four threads push while the receiver waits between items: with
        // a lost wake-up the receiver would sleep on a non-empty queue.
        const EACH: u32 = 20_000;
        let (tx, mut rx) = inbox::<u32>(usize::MAX);
        let (done_tx, done) = std::sync::mpsc::channel();
        let receiver = std::thread::spawn(move || {
            let mut got = 0u32;
            while futures::executor::block_on(rx.next()).is_some() {
                got += 1;
            }
            let _ = done_tx.send(got);
        });
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        assert!(tx.deliver(i));
                        if i % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for s in senders {
            s.join().expect("a sender");
        }
        let got = done
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the receiver took everything and saw the end");
        assert_eq!(got, 4 * EACH);
        receiver.join().expect("the receiver");
    }
}
