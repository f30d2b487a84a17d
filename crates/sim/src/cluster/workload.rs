//! What the cluster simulator runs on its nodes and asks of them: the
//! replicated state machine, the operations its clients invoke, and how
//! both are encoded in log entries and snapshots. The built-in key-value
//! store is one workload; a user's [`Service`](crate::Service) is another.

use std::fmt::Debug;

use rand::rngs::StdRng;

/// A client request as it travels to a node and sits in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request<I> {
    /// The client.
    pub(crate) client: u64,
    /// The client's request number (unique per client).
    pub(crate) request: u64,
    /// What it asks.
    pub(crate) input: I,
}

/// A workload: the per-node state machine with its client sessions, and
/// its codecs. Every method is deterministic; randomness comes only from
/// the generator handed to [`Workload::next_input`].
pub(crate) trait Workload {
    /// An operation's input.
    type Input: Clone + Debug;
    /// An operation's answer.
    type Output: Clone + PartialEq + Debug;
    /// One node's state machine, client sessions included.
    type State: Debug;

    /// The state of a node that has applied nothing.
    fn initial(&self) -> Self::State;
    /// The operation a client invokes next.
    fn next_input(&mut self, client: u64, rng: &mut StdRng) -> Self::Input;
    /// The request as log-entry bytes.
    ///
    /// # Errors
    /// Why it cannot be encoded (a user's serializer refused).
    fn encode(&self, request: &Request<Self::Input>) -> Result<Vec<u8>, String>;
    /// Decodes [`Workload::encode`]'s bytes; `None` for anything else.
    fn decode(&self, bytes: &[u8]) -> Option<Request<Self::Input>>;
    /// Applies a committed request at most once per client request (a
    /// repeat returns the recorded answer); `None` for a request older
    /// than the client's last.
    fn apply(
        &self,
        state: &mut Self::State,
        request: &Request<Self::Input>,
    ) -> Option<Self::Output>;
    /// Whether `input` only reads (and may be served by the protocol's
    /// linearizable reads instead of the log).
    fn is_read(&self, input: &Self::Input) -> bool;
    /// Answers a read from `state` without changing it (`None` if `input`
    /// is not a read after all: it is then not answered).
    fn query(&self, state: &Self::State, input: &Self::Input) -> Option<Self::Output>;
    /// The state as snapshot bytes.
    ///
    /// # Errors
    /// Why it cannot be encoded (a user's serializer refused).
    fn snapshot(&self, state: &Self::State) -> Result<Vec<u8>, String>;
    /// Restores [`Workload::snapshot`]'s bytes; `None` when malformed.
    fn restore(&self, bytes: &[u8]) -> Option<Self::State>;
}
