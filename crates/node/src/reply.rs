//! The answer to a client call: a slot the driver fills once and the
//! caller awaits (and, for proposals, keeps for its next call).
//!
//! Every write takes one of these, so it is built for that path rather
//! than taken from `futures::channel::oneshot`, which takes and releases
//! up to three spin-lock cells and a sequentially consistent flag on each
//! side and clones the waker on every poll. Here one mutex guards the
//! state: the caller registers its waker when it creates the slot (it is
//! running then, and polls the slot in the same turn, so that first poll
//! only reads a flag), the driver locks once to answer, the caller once
//! to take the answer. Measured on the driver benchmark
//! (docs/benchmarks.md, "synod-node").

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Where a call stands.
enum State<T> {
    /// Not answered; the waker of the task that waits for it.
    Waiting(Option<Waker>),
    /// Answered, not yet taken.
    Answered(T),
    /// Taken, or the sender went away without answering.
    Closed,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    /// Set once `state` has left `Waiting`, after the lock is released:
    /// read without the lock by a caller's first poll.
    settled: AtomicBool,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while the lock is held; a poisoned state is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The driver's end: answers the call once.
pub(crate) struct Sender<T> {
    /// `None` once answered.
    slot: Option<Arc<Slot<T>>>,
}

/// The caller's end: resolves to the answer, or to [`Canceled`] when the
/// sender was dropped without answering.
pub(crate) struct Receiver<T> {
    slot: Arc<Slot<T>>,
    /// Not polled yet, and the slot holds the waker of the task that will
    /// poll it first (see [`channel`]).
    registered: bool,
}

/// The call was dropped unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canceled;

/// A slot whose answer will wake `waker`, which must be the waker of the
/// task that first polls the receiver: the caller makes the slot and
/// awaits it in the same turn, so that first poll registers nothing.
pub(crate) fn channel<T>(waker: Waker) -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Waiting(Some(waker))),
        settled: AtomicBool::new(false),
    });
    pair(slot)
}

fn pair<T>(slot: Arc<Slot<T>>) -> (Sender<T>, Receiver<T>) {
    (
        Sender {
            slot: Some(Arc::clone(&slot)),
        },
        Receiver {
            slot,
            registered: true,
        },
    )
}

thread_local! {
    /// The last answered slot on this thread, kept for the next call made
    /// here: a caller that writes in a loop reuses one instead of an
    /// allocation and a free per call (the allocator's slow path, on this
    /// path, when bursts of freed entries have filled its caches). Per
    /// thread, so that keeping and taking it costs no atomic operation (a
    /// slot kept per `Client` handle behind a mutex took four a call, and
    /// measured slower). One slot of any answer type: a call of another
    /// type leaves it where it is.
    static SPARE: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

/// As [`channel`] (the same contract for `waker`), in this thread's kept
/// slot if it is one of this type.
pub(crate) fn reused_channel<T: Send + 'static>(waker: Waker) -> (Sender<T>, Receiver<T>) {
    let kept = SPARE
        .try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten();
    let Some(kept) = kept else {
        return channel(waker);
    };
    match kept.downcast::<Slot<T>>() {
        Ok(mut slot) => match Arc::get_mut(&mut slot) {
            // Only kept when nothing else held it; checked again, as
            // nothing may be assumed about a slot's other ends.
            Some(unique) => {
                *unique.state.get_mut().unwrap_or_else(|e| e.into_inner()) =
                    State::Waiting(Some(waker));
                *unique.settled.get_mut() = false;
                pair(slot)
            }
            None => channel(waker),
        },
        Err(other) => {
            put_back(other);
            channel(waker)
        }
    }
}

/// Keeps `receiver`'s slot for a later call on this thread if no sender
/// holds it any more (it was answered, or its sender dropped) and none is
/// kept already.
pub(crate) fn keep<T: Send + 'static>(mut receiver: Receiver<T>) {
    if Arc::get_mut(&mut receiver.slot).is_none() {
        return;
    }
    put_back(receiver.slot);
}

fn put_back(slot: Arc<dyn Any + Send + Sync>) {
    // Not kept when the thread is ending (its locals are gone) or the
    // cell is in use (it never is across these calls).
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut kept) = spare.try_borrow_mut()
            && kept.is_none()
        {
            *kept = Some(slot);
        }
    });
}

/// The waker of the task that awaits this, without suspending it.
pub(crate) async fn current_waker() -> Waker {
    std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await
}

impl<T> Sender<T> {
    /// Answers the call. Returns the value when nobody waits for it any
    /// more (the caller dropped its future).
    pub(crate) fn send(mut self, value: T) -> Result<(), T> {
        let Some(slot) = self.slot.take() else {
            return Err(value);
        };
        if Arc::strong_count(&slot) == 1 {
            return Err(value);
        }
        let waker = {
            let mut state = slot.lock();
            match std::mem::replace(&mut *state, State::Answered(value)) {
                State::Waiting(waker) => waker,
                // Only this sender ever leaves `Waiting`.
                State::Answered(_) | State::Closed => None,
            }
        };
        slot.settled.store(true, Ordering::Release);
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the caller stopped waiting (dropped its future). A hint:
    /// it may stop right after this says no.
    pub(crate) fn is_canceled(&self) -> bool {
        self.slot
            .as_ref()
            .is_none_or(|slot| Arc::strong_count(slot) == 1)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let waker = {
            let mut state = slot.lock();
            match std::mem::replace(&mut *state, State::Closed) {
                State::Waiting(waker) => waker,
                other => {
                    *state = other;
                    None
                }
            }
        };
        slot.settled.store(true, Ordering::Release);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if std::mem::take(&mut this.registered) && !this.slot.settled.load(Ordering::Acquire) {
            // The first poll, by the task whose waker the slot holds: an
            // answer from now on wakes it.
            return Poll::Pending;
        }
        let mut state = this.slot.lock();
        if let State::Waiting(waker) = &mut *state {
            // Polled from another task than the one that made the slot
            // (moved into a `select`, say): wake that one instead.
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        match std::mem::replace(&mut *state, State::Closed) {
            State::Answered(value) => Poll::Ready(Ok(value)),
            State::Waiting(_) | State::Closed => Poll::Ready(Err(Canceled)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::FutureExt;
    use futures::task::{ArcWake, noop_waker, waker};

    use super::*;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl ArcWake for Count {
        fn wake_by_ref(arc_self: &Arc<Self>) {
            arc_self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (Arc::clone(&count), waker(count))
    }

    #[test]
    fn an_answer_wakes_the_task_that_made_the_slot_and_is_taken_once() {
        let (count, w) = counting();
        let (tx, mut rx) = channel::<u32>(w.clone());
        let mut cx = Context::from_waker(&w);
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending(), "nothing yet");
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert_eq!(tx.send(7), Ok(()));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken once");
        assert_eq!((&mut rx).now_or_never(), Some(Ok(7)));
        // Polled again after it resolved: the slot is closed, not reused.
        assert_eq!(rx.now_or_never(), Some(Err(Canceled)));
    }

    #[test]
    fn a_poll_from_another_task_moves_the_wake_there() {
        let (first, w1) = counting();
        let (second, w2) = counting();
        let (tx, mut rx) = channel::<u32>(w1.clone());
        // The first poll, by the task that made it, then a poll from
        // another task.
        let mut cx = Context::from_waker(&w1);
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        let mut cx = Context::from_waker(&w2);
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        tx.send(1).expect("the receiver waits");
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_sender_dropped_unanswered_wakes_the_caller_with_canceled() {
        let (count, w) = counting();
        let (tx, rx) = channel::<u32>(w);
        drop(tx);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(rx.now_or_never(), Some(Err(Canceled)));
    }

    #[test]
    fn a_caller_that_stops_waiting_is_seen_and_its_answer_handed_back() {
        let (tx, rx) = channel::<String>(noop_waker());
        assert!(!tx.is_canceled());
        drop(rx);
        assert!(tx.is_canceled());
        assert_eq!(tx.send("late".into()), Err("late".to_string()));
    }

    fn kept_slot() -> Option<*const ()> {
        SPARE.with(|s| s.borrow().as_ref().map(|a| Arc::as_ptr(a).cast::<()>()))
    }

    #[test]
    fn a_kept_slot_serves_the_next_call_and_a_held_one_is_never_kept() {
        SPARE.with(|s| s.borrow_mut().take());
        let (tx, mut rx) = reused_channel::<u32>(noop_waker());
        let first = Arc::as_ptr(&rx.slot).cast::<()>();
        tx.send(1).expect("waiting");
        assert_eq!((&mut rx).now_or_never(), Some(Ok(1)));
        keep(rx);
        assert_eq!(kept_slot(), Some(first));
        // The next call on this thread reuses it, waiting afresh.
        let (count, w) = counting();
        let (tx, mut rx) = reused_channel::<u32>(w);
        assert_eq!(Arc::as_ptr(&rx.slot).cast::<()>(), first, "the kept slot");
        assert_eq!(kept_slot(), None, "taken");
        let noop = noop_waker();
        let mut cx = Context::from_waker(&noop);
        assert!(
            Pin::new(&mut rx).poll(&mut cx).is_pending(),
            "not answered yet"
        );
        // A slot whose sender is still out (the caller gave up waiting)
        // is not kept: the driver may still answer into it.
        keep(rx);
        assert_eq!(kept_slot(), None, "a held slot was kept");
        assert_eq!(tx.send(2), Err(2), "its caller is gone");
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn one_slot_is_kept_a_thread_and_another_types_is_left_in_place() {
        SPARE.with(|s| s.borrow_mut().take());
        let (tx1, mut rx1) = reused_channel::<u32>(noop_waker());
        let (tx2, mut rx2) = reused_channel::<u32>(noop_waker());
        let first = Arc::as_ptr(&rx1.slot).cast::<()>();
        assert_ne!(first, Arc::as_ptr(&rx2.slot).cast::<()>());
        tx1.send(1).expect("waiting");
        tx2.send(2).expect("waiting");
        assert_eq!((&mut rx1).now_or_never(), Some(Ok(1)));
        assert_eq!((&mut rx2).now_or_never(), Some(Ok(2)));
        keep(rx1);
        keep(rx2);
        assert_eq!(kept_slot(), Some(first), "one kept, the first");
        // A call of another answer type allocates and leaves it there.
        let (_, other) = reused_channel::<String>(noop_waker());
        assert_ne!(Arc::as_ptr(&other.slot).cast::<()>(), first);
        assert_eq!(kept_slot(), Some(first));
        // Another thread keeps its own.
        std::thread::spawn(|| assert_eq!(kept_slot(), None))
            .join()
            .expect("the other thread");
    }

    #[test]
    fn an_answer_that_came_before_the_first_poll_is_taken_by_it() {
        let (tx, rx) = channel::<u32>(noop_waker());
        tx.send(5).expect("waiting");
        assert_eq!(rx.now_or_never(), Some(Ok(5)));
        let (tx, rx) = channel::<u32>(noop_waker());
        drop(tx);
        assert_eq!(rx.now_or_never(), Some(Err(Canceled)));
    }

    #[test]
    fn answers_from_another_thread_always_wake_the_caller() {
        // The first poll reads a flag without the lock: an answer landing
        // around it, from another thread, must still wake the caller (a
        // lost wake-up hangs the call; the timeout turns it into a
        // failure).
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for i in 0..2_000u64 {
                let got = futures::executor::block_on(async {
                    let (tx, rx) = channel::<u64>(current_waker().await);
                    let sender = std::thread::spawn(move || tx.send(i));
                    let got = rx.await;
                    let sent = sender.join().expect("the sender thread");
                    (got, sent)
                });
                assert_eq!(got, (Ok(i), Ok(())));
            }
            done.send(()).expect("the test waits");
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("every call answered (a lost wake-up hangs one)");
    }

    #[test]
    fn an_answer_crosses_threads() {
        let (count, w) = counting();
        let (tx, rx) = channel::<Vec<u8>>(w);
        std::thread::spawn(move || tx.send(vec![1, 2, 3]).expect("waiting"))
            .join()
            .expect("the sender thread");
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(rx.now_or_never(), Some(Ok(vec![1, 2, 3])));
    }
}
