//! The handles a service holds: [`Client`] for its callers, [`Inbox`] for
//! its transport.

use bytes::Bytes;
use synod_protocol::{ConfChange, Index, NodeId, StopSign};

use crate::error::Error;
use crate::inbox::{Inbox, Offer};
use crate::reply;
use crate::state_machine::StateMachine;
use crate::status::NodeStatus;

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// Reflects every write acknowledged before the read began: the
    /// protocol confirms leadership with a quorum (Raft's ReadIndex) or,
    /// if it was configured for leases, under its lease.
    #[default]
    Linearizable,
    /// Served under the leader's lease where the protocol was configured
    /// for it (raft-core `ReadMode::Lease`), which assumes bounded clock
    /// drift; otherwise the same as `Linearizable`.
    Lease,
    /// This replica's current state, at once: may miss recent writes.
    Stale,
}

/// A request from a [`Client`] to the driver.
pub(crate) enum Request<S: StateMachine> {
    Propose {
        command: Bytes,
        reply: reply::Sender<Result<S::Response, Error>>,
    },
    Read {
        query: S::Query,
        consistency: Consistency,
        reply: reply::Sender<Result<S::Answer, Error>>,
    },
    ChangeMembership {
        change: ConfChange,
        reply: reply::Sender<Result<Index, Error>>,
    },
    StopSign {
        /// Boxed: the largest variant otherwise, and every queued call
        /// (proposals above all) would take its size.
        stop: Box<StopSign>,
        reply: reply::Sender<Result<Index, Error>>,
    },
    TransferLeadership {
        to: NodeId,
        reply: reply::Sender<Result<(), Error>>,
    },
    Status {
        reply: reply::Sender<NodeStatus>,
    },
    Shutdown {
        reply: reply::Sender<Shutdown>,
    },
}

/// What [`Client::shutdown`] reports: the calls that were still waiting
/// and were failed ([`Error::Unknown`] for proposals, [`Error::Stopped`]
/// for reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shutdown {
    /// Proposals whose outcome the callers will not learn here (they may
    /// still commit: retry only idempotent ones elsewhere).
    pub proposals_abandoned: usize,
    /// Reads failed.
    pub reads_failed: usize,
}

/// A caller's handle on a running node. Cheap to clone; every call is
/// cancel-safe in the sense that dropping its future abandons the answer,
/// never the node (a dropped proposal may still commit).
///
/// Back-pressure: at most `NodeOptions::client_queue` calls wait for the
/// node to take them; past that a call fails at once with
/// [`Error::Refused`]`(`[`Refusal::Busy`](synod_protocol::Refusal::Busy)`)`.
pub struct Client<S: StateMachine> {
    requests: Inbox<Request<S>>,
}

impl<S: StateMachine> Clone for Client<S> {
    fn clone(&self) -> Self {
        Self {
            requests: self.requests.clone(),
        }
    }
}

impl<S: StateMachine> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl<S: StateMachine> Client<S> {
    pub(crate) fn new(requests: Inbox<Request<S>>) -> Self {
        Self { requests }
    }

    /// Sends a request and waits for its answer. A request whose answer is
    /// dropped unanswered fails with `dropped`: the node stopped before
    /// taking it (a stopping driver answers every proposal it took with
    /// [`Error::Unknown`] itself, in `Pending::stop`).
    async fn call<T>(
        &self,
        make: impl FnOnce(reply::Sender<T>) -> Request<S>,
        dropped: Error,
    ) -> Result<T, Error> {
        // The answer wakes this task, which is running now: registered
        // here, so that waiting needs no poll of its own to register.
        let (tx, rx) = reply::channel(reply::current_waker().await);
        self.submit(make(tx))?;
        rx.await.map_err(|_| dropped)
    }

    /// Queues `request` for the node, or says why it cannot be.
    #[inline(always)] // on the write path: no move of the request of its own
    fn submit(&self, request: Request<S>) -> Result<(), Error> {
        match self.requests.offer(request) {
            Offer::Taken => Ok(()),
            Offer::Full => Err(Error::Refused(synod_protocol::Refusal::Busy)),
            Offer::Closed => Err(Error::Stopped),
        }
    }

    /// Proposes `command` and returns the state machine's response once
    /// it is committed *and applied* on this node.
    ///
    /// # Errors
    /// [`Error::NotLeader`] (with the leader, if known) on a follower;
    /// [`Error::Lost`] when a leader change replaced it (safe to retry);
    /// [`Error::Unknown`] when its fate cannot be known (including when the
    /// node stopped while it waited: it may have been appended and sent,
    /// and commit under another leader); [`Error::Refused`];
    /// [`Error::Stopped`] when the node had stopped before taking it (it
    /// did not take effect).
    pub async fn propose(&self, command: impl Into<Bytes>) -> Result<S::Response, Error> {
        let command = command.into();
        // As `call`, in this thread's kept slot, kept again once answered.
        // Written out rather than through `call`: the closure that builds
        // the request there moved the command once more, and the write
        // path measured 6-7 % slower (two runs of ten alternating pairs).
        let (reply, mut waiting) = reply::reused_channel(reply::current_waker().await);
        self.submit(Request::Propose { command, reply })?;
        let answer = (&mut waiting).await.map_err(|_| Error::Stopped);
        reply::keep(waiting);
        answer?
    }

    /// Answers `query` with the given freshness.
    ///
    /// # Errors
    /// [`Error::NotLeader`] when no leader is known, [`Error::Timeout`]
    /// when no quorum confirmed the read in time, [`Error::Stopped`].
    pub async fn read(
        &self,
        query: S::Query,
        consistency: Consistency,
    ) -> Result<S::Answer, Error> {
        self.call(
            |reply| Request::Read {
                query,
                consistency,
                reply,
            },
            Error::Stopped,
        )
        .await?
    }

    /// As leader, changes the membership; returns the change's index once
    /// it is applied here.
    ///
    /// # Errors
    /// [`Error::NotLeader`], [`Error::Refused`] (another change in
    /// progress, an invalid change), [`Error::Lost`], [`Error::Unknown`]
    /// (as for [`Client::propose`]), [`Error::Stopped`].
    pub async fn change_membership(&self, change: ConfChange) -> Result<Index, Error> {
        self.call(
            |reply| Request::ChangeMembership { change, reply },
            Error::Stopped,
        )
        .await?
    }

    /// As leader, proposes a stop-sign (Multi-Paxos): the configuration in
    /// force ends and the one `stop` names continues the same log (see
    /// `synod_paxos_core::PaxosNode::propose_stop_sign`). Returns the index
    /// of the entry it appended once that is applied here: the stop-sign's,
    /// or, when it makes voters of nodes that are not members, the change
    /// that adds them as learners first (the stop-sign follows once they
    /// have caught up; watch [`Client::status`] or the state machine's
    /// [`StateMachine::stop_sign`](crate::StateMachine::stop_sign)).
    ///
    /// # Errors
    /// [`Error::Refused`] with [`Refusal::Unsupported`](synod_protocol::Refusal::Unsupported)
    /// for a protocol without stop-signs (Raft), or as for
    /// [`Client::change_membership`].
    pub async fn propose_stop_sign(&self, stop: StopSign) -> Result<Index, Error> {
        let stop = Box::new(stop);
        self.call(|reply| Request::StopSign { stop, reply }, Error::Stopped)
            .await?
    }

    /// As leader, hands leadership to `to`; returns once the transfer has
    /// started (watch [`Client::status`] for its end).
    ///
    /// # Errors
    /// [`Error::NotLeader`], [`Error::Refused`], [`Error::Stopped`].
    pub async fn transfer_leadership(&self, to: NodeId) -> Result<(), Error> {
        self.call(
            |reply| Request::TransferLeadership { to, reply },
            Error::Stopped,
        )
        .await?
    }

    /// The node's state and counters.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn status(&self) -> Result<NodeStatus, Error> {
        self.call(|reply| Request::Status { reply }, Error::Stopped)
            .await
    }

    /// Stops the node: the write in progress finishes (and its messages
    /// go), then every waiting proposal and membership change fails with
    /// [`Error::Unknown`] (it may still commit elsewhere), every other
    /// waiting call with [`Error::Stopped`], and the driver's future
    /// returns. Reports what was abandoned.
    ///
    /// # Errors
    /// [`Error::Stopped`] when the node had already stopped.
    pub async fn shutdown(&self) -> Result<Shutdown, Error> {
        self.call(|reply| Request::Shutdown { reply }, Error::Stopped)
            .await
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// A state machine whose query is empty, as a counter's is.
    struct Count;

    impl StateMachine for Count {
        type Response = u64;
        type Query = ();
        type Answer = u64;
        fn apply(&mut self, _: u64, _: &Bytes) -> u64 {
            0
        }
        fn query(&self, (): &()) -> u64 {
            0
        }
        fn snapshot(&self) -> Bytes {
            Bytes::new()
        }
        fn restore(&mut self, _: &Bytes) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn a_queued_call_is_no_larger_than_a_proposal_needs() {
        // A command and a reply channel, plus the variant's tag: every
        // call waiting in the node's queue takes this much, so no rarer
        // call may be larger (the stop-sign is boxed for that).
        assert!(
            std::mem::size_of::<Request<Count>>() <= 48,
            "{} bytes",
            std::mem::size_of::<Request<Count>>()
        );
    }
}
