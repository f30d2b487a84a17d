//! What the replica loop waits on: ticks, peers' messages and client
//! calls, taken in turn so none starves the others; and, between waits,
//! what is already queued, taken without touching the tick source.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::client::Request;
use crate::inbox::InboxReceiver;
use crate::state_machine::StateMachine;

/// One input to the replica.
pub(crate) enum Input<M, S: StateMachine> {
    Tick,
    Message(M),
    Request(Request<S>),
    /// Every client handle is gone: the replica keeps serving its peers.
    ClientsGone,
    /// The tick stream ended: the node stops.
    TicksEnded,
}

/// The three sources, each dropped once it has ended.
pub(crate) struct Inputs<T, M, S: StateMachine> {
    ticks: Option<T>,
    messages: Option<InboxReceiver<M>>,
    requests: Option<InboxReceiver<Request<S>>>,
    /// The source polled first next time (0 ticks, 1 messages, 2
    /// requests): each gets a turn at the front.
    first: u8,
    /// Which queue [`Inputs::try_next`] looks at first.
    requests_first: bool,
}

impl<T, M, S> Inputs<T, M, S>
where
    T: Stream<Item = ()> + Unpin,
    S: StateMachine,
{
    pub(crate) fn new(
        ticks: T,
        messages: InboxReceiver<M>,
        requests: InboxReceiver<Request<S>>,
    ) -> Self {
        Self {
            ticks: Some(ticks),
            messages: Some(messages),
            requests: Some(requests),
            first: 0,
            requests_first: false,
        }
    }

    /// The next input, waiting for one. `None` once every source ended.
    pub(crate) async fn next(&mut self) -> Option<Input<M, S>> {
        std::future::poll_fn(|cx| self.poll_next_input(cx)).await
    }

    /// A message or client call already queued, without waiting and
    /// without polling the tick source (whose timer a poll re-arms: a
    /// cost per input when a batch drains hundreds). Ticks wait for the
    /// next [`Inputs::next`], at most one batch later.
    pub(crate) fn try_next(&mut self) -> Option<Input<M, S>> {
        self.requests_first = !self.requests_first;
        // What was already moved to this side first, the two queues in
        // turns: the senders' locks are taken only once both ran dry.
        for lock in [false, true] {
            for requests in [self.requests_first, !self.requests_first] {
                let input = if requests {
                    let queue = self.requests.as_mut();
                    let taken = queue.and_then(|q| {
                        if lock {
                            q.try_next()
                        } else {
                            q.try_next_taken()
                        }
                    });
                    taken.map(Input::Request)
                } else {
                    let queue = self.messages.as_mut();
                    let taken = queue.and_then(|q| {
                        if lock {
                            q.try_next()
                        } else {
                            q.try_next_taken()
                        }
                    });
                    taken.map(Input::Message)
                };
                if input.is_some() {
                    return input;
                }
            }
        }
        None
    }

    fn poll_next_input(&mut self, cx: &mut Context<'_>) -> Poll<Option<Input<M, S>>> {
        let first = self.first;
        self.first = (first + 1) % 3;
        for turn in 0..3 {
            let polled = match (first + turn) % 3 {
                0 => self.poll_ticks(cx),
                1 => self.poll_messages(cx),
                _ => self.poll_requests(cx),
            };
            if let Poll::Ready(input) = polled {
                return Poll::Ready(Some(input));
            }
        }
        if self.ticks.is_none() && self.messages.is_none() && self.requests.is_none() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn poll_ticks(&mut self, cx: &mut Context<'_>) -> Poll<Input<M, S>> {
        let Some(ticks) = self.ticks.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(ticks).poll_next(cx) {
            Poll::Ready(Some(())) => Poll::Ready(Input::Tick),
            Poll::Ready(None) => {
                self.ticks = None;
                Poll::Ready(Input::TicksEnded)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_messages(&mut self, cx: &mut Context<'_>) -> Poll<Input<M, S>> {
        let Some(messages) = self.messages.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(messages).poll_next(cx) {
            Poll::Ready(Some(m)) => Poll::Ready(Input::Message(m)),
            Poll::Ready(None) => {
                // Every sender is gone: nothing more will come.
                self.messages = None;
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_requests(&mut self, cx: &mut Context<'_>) -> Poll<Input<M, S>> {
        let Some(requests) = self.requests.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(requests).poll_next(cx) {
            Poll::Ready(Some(r)) => Poll::Ready(Input::Request(r)),
            Poll::Ready(None) => {
                self.requests = None;
                Poll::Ready(Input::ClientsGone)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::FutureExt;

    use super::*;
    use crate::inbox::inbox;

    #[derive(Debug, Default)]
    struct Unused;

    impl StateMachine for Unused {
        type Response = ();
        type Query = ();
        type Answer = ();
        fn apply(&mut self, _: u64, _: &Bytes) {}
        fn query(&self, (): &()) {}
        fn snapshot(&self) -> Bytes {
            Bytes::new()
        }
        fn restore(&mut self, _: &Bytes) -> Result<(), String> {
            Ok(())
        }
    }

    fn kind(input: &Input<u32, Unused>) -> &'static str {
        match input {
            Input::Tick => "tick",
            Input::Message(_) => "message",
            Input::Request(_) => "request",
            Input::ClientsGone => "clients gone",
            Input::TicksEnded => "ticks ended",
        }
    }

    #[test]
    fn ticks_get_their_turn_however_busy_the_peers_are() {
        let (tx, messages) = inbox::<u32>(64);
        let (_clients, requests) = inbox::<Request<Unused>>(4);
        for i in 0..30 {
            tx.deliver(i);
        }
        let mut inputs = Inputs::new(futures::stream::repeat(()), messages, requests);
        let seen: Vec<_> = (0..9)
            .map(|_| kind(&inputs.next().now_or_never().flatten().expect("ready")))
            .collect();
        let ticks = seen.iter().filter(|k| **k == "tick").count();
        assert!(ticks >= 3, "{seen:?}");
    }

    #[test]
    fn a_batch_drains_queues_without_taking_ticks() {
        let (tx, messages) = inbox::<u32>(64);
        let (_clients, requests) = inbox::<Request<Unused>>(4);
        let mut inputs = Inputs::new(futures::stream::repeat(()), messages, requests);
        assert!(
            inputs.try_next().is_none(),
            "a tick is ready, yet not taken"
        );
        tx.deliver(7);
        tx.deliver(8);
        let taken: Vec<_> = std::iter::from_fn(|| inputs.try_next())
            .map(|i| match i {
                Input::Message(m) => m,
                other => panic!("took {}", kind(&other)),
            })
            .collect();
        assert_eq!(taken, [7, 8]);
    }

    #[test]
    fn each_source_says_once_that_it_ended() {
        let (tx, messages) = inbox::<u32>(4);
        let (clients, requests) = inbox::<Request<Unused>>(4);
        let mut inputs = Inputs::new(futures::stream::iter([()]), messages, requests);
        drop(clients);
        drop(tx);
        let seen: Vec<_> = std::iter::from_fn(|| inputs.next().now_or_never().flatten())
            .map(|i| kind(&i))
            .collect();
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["clients gone", "tick", "ticks ended"], "{seen:?}");
        assert!(inputs.next().now_or_never().flatten().is_none());
    }
}
