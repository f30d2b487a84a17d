//! Your own replicated service in the simulator: a [`Service`] is the
//! state machine every node runs, checked against a [`Model`] of it.
//!
//! [`run_service`](crate::run_service) runs it exactly as
//! [`run_with`](crate::run_with) runs the built-in key-value store: the same
//! network, disks, crashes, torn writes, partitions, membership changes
//! and snapshots, the same protocol invariants after every tick. Clients
//! invoke the operations your generator draws, time out and retry; every
//! node applies committed operations once per client request (the
//! simulator keeps the client sessions, as Raft §6.3 prescribes); and at
//! the end the history is checked with [`check_model`](crate::check_model)
//! against your model, per part. Log entries hold each request encoded
//! with postcard, and snapshots hold your state machine encoded with
//! postcard, so your serde derives are exercised too: a field left out of
//! the snapshot shows up as a history that is not linearizable.
//!
//! ```
//! use rand::Rng as _;
//! use serde::{Deserialize, Serialize};
//! use synod_sim::{Model, ModelVerdict, RaftReplica, Service, SimConfig, run_service};
//!
//! /// The service: a sequence number handed out once each.
//! #[derive(Debug, Clone, Default, Serialize, Deserialize)]
//! struct Sequence(u64);
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! enum Ask { Next, Peek }
//!
//! impl Service for Sequence {
//!     type Model = Spec;
//!     fn apply(&mut self, ask: &Ask) -> u64 {
//!         let n = self.0;
//!         if *ask == Ask::Next { self.0 += 1; }
//!         n
//!     }
//!     fn read(&self, ask: &Ask) -> Option<u64> {
//!         (*ask == Ask::Peek).then_some(self.0)
//!     }
//! }
//!
//! /// The model: what one correct sequence answers.
//! struct Spec;
//! impl Model for Spec {
//!     type State = u64;
//!     type Input = Ask;
//!     type Output = u64;
//!     fn init(&self) -> u64 { 0 }
//!     fn step(&self, n: &u64, ask: &Ask, out: Option<&u64>) -> Option<u64> {
//!         if out.is_some_and(|o| o != n) { return None; }
//!         Some(if *ask == Ask::Next { n + 1 } else { *n })
//!     }
//! }
//!
//! let mut cfg = SimConfig::safety(7);
//! cfg.retry_until_answered = true;
//! let ask = |_client, rng: &mut rand::rngs::StdRng| {
//!     if rng.next_u64() % 3 == 0 { Ask::Peek } else { Ask::Next }
//! };
//! let report = run_service::<RaftReplica, _>(&cfg, Sequence::default(), &Spec, ask).unwrap();
//! assert_eq!(report.violation, None);
//! assert_eq!(report.verdict, Some(ModelVerdict::Linearizable));
//! ```

use std::collections::BTreeMap;
use std::fmt::Debug;

use rand::rngs::StdRng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cluster::{Request, Workload};
use crate::model::{Model, ModelOp, ModelVerdict};
use crate::report::{Summary, Violation};

/// An operation's input under service `S`.
pub type ServiceInput<S> = <<S as Service>::Model as Model>::Input;
/// An operation's answer under service `S`.
pub type ServiceOutput<S> = <<S as Service>::Model as Model>::Output;

/// A deterministic state machine the simulator replicates: yours.
///
/// The value handed to [`run_service`](crate::run_service) is every
/// node's state before it applies anything. Operations are the inputs and
/// outputs of [`Service::Model`], so the history the clients record is
/// checked against the model directly.
pub trait Service: Clone + Debug + Serialize + DeserializeOwned {
    /// The sequential specification of this service.
    type Model: Model<
            Input: Serialize + DeserializeOwned + Sync,
            Output: Serialize + DeserializeOwned + Sync,
        > + Sync;

    /// Applies a committed operation and returns its answer. Must be
    /// deterministic: every node applies the same operations in the same
    /// order and must reach the same state.
    fn apply(&mut self, input: &ServiceInput<Self>) -> ServiceOutput<Self>;

    /// The answer to a read-only operation from the current state, without
    /// changing it; `None` (the default) for an operation that must go
    /// through the log. Answer `Some` for a given input in every state or
    /// in none. With [`SimConfig::read_index`](crate::SimConfig::read_index)
    /// set, the simulator serves these through the protocol's linearizable
    /// reads (ReadIndex, leases) instead of the log.
    fn read(&self, input: &ServiceInput<Self>) -> Option<ServiceOutput<Self>> {
        let _ = input;
        None
    }
}

/// The outcome of one [`run_service`](crate::run_service) run.
#[derive(Debug, Clone)]
pub struct ServiceRunReport<I, O> {
    /// The seed.
    pub seed: u64,
    /// The protocol simulated ([`Replica::NAME`](crate::Replica::NAME)).
    pub protocol: &'static str,
    /// What was exercised.
    pub summary: Summary,
    /// The first broken invariant, if any; a history the model rejects is
    /// [`Violation::NotLinearizable`] with the model report's account.
    pub violation: Option<Violation>,
    /// The client history, in invocation order (a client that gave up
    /// leaves its operation [`Outcome::Unknown`](crate::Outcome) with the
    /// time it gave up).
    pub history: Vec<ModelOp<I, O>>,
    /// The model check's verdict; `None` when the run stopped on another
    /// violation first.
    pub verdict: Option<ModelVerdict>,
    /// A hash of every event, in order: two runs of one seed must agree.
    pub trace_hash: u64,
    /// With `record_events`: the run's events, one line each.
    pub events: Vec<String>,
}

impl<I, O> ServiceRunReport<I, O> {
    /// The page of the failing part (as
    /// [`history_html`](crate::history_html) draws it, the failure
    /// marked), or `None` when the history was not found to fail.
    #[must_use]
    pub fn history_html<M>(&self, model: &M) -> Option<String>
    where
        M: Model<Input = I, Output = O>,
    {
        let Some(ModelVerdict::NotLinearizable(report)) = &self.verdict else {
            return None;
        };
        let title = format!(
            "seed {} ({}): part {} of the service's history",
            self.seed, self.protocol, report.part
        );
        Some(crate::history_html(
            model,
            &self.history,
            Some(report),
            &title,
        ))
    }
}

/// One node's copy of a service, with the client sessions that make each
/// request take effect once.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, O: Serialize",
    deserialize = "S: DeserializeOwned, O: DeserializeOwned"
))]
pub(crate) struct Replicated<S, O> {
    service: S,
    /// Per client: the last request applied and its answer.
    sessions: BTreeMap<u64, (u64, O)>,
}

/// A [`Service`] and its clients' generator as the cluster's workload.
pub(crate) struct ServiceWorkload<S, G> {
    pub(crate) initial: S,
    pub(crate) next: G,
}

impl<S, G> Workload for ServiceWorkload<S, G>
where
    S: Service,
    G: FnMut(u64, &mut StdRng) -> ServiceInput<S>,
{
    type Input = ServiceInput<S>;
    type Output = ServiceOutput<S>;
    type State = Replicated<S, ServiceOutput<S>>;

    fn initial(&self) -> Self::State {
        Replicated {
            service: self.initial.clone(),
            sessions: BTreeMap::new(),
        }
    }

    fn next_input(&mut self, client: u64, rng: &mut StdRng) -> Self::Input {
        (self.next)(client, rng)
    }

    fn encode(&self, r: &Request<Self::Input>) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(&(r.client, r.request, &r.input))
            .map_err(|e| format!("the service's input does not encode: {e}"))
    }

    fn decode(&self, bytes: &[u8]) -> Option<Request<Self::Input>> {
        let (client, request, input) = postcard::from_bytes(bytes).ok()?;
        Some(Request {
            client,
            request,
            input,
        })
    }

    fn apply(&self, state: &mut Self::State, r: &Request<Self::Input>) -> Option<Self::Output> {
        match state.sessions.get(&r.client) {
            Some((last, output)) if *last == r.request => return Some(output.clone()),
            Some((last, _)) if *last > r.request => return None,
            _ => {}
        }
        let output = state.service.apply(&r.input);
        state.sessions.insert(r.client, (r.request, output.clone()));
        Some(output)
    }

    fn is_read(&self, input: &Self::Input) -> bool {
        self.initial.read(input).is_some()
    }

    fn query(&self, state: &Self::State, input: &Self::Input) -> Option<Self::Output> {
        state.service.read(input)
    }

    fn snapshot(&self, state: &Self::State) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(state)
            .map_err(|e| format!("the service's state does not encode: {e}"))
    }

    fn restore(&self, bytes: &[u8]) -> Option<Self::State> {
        postcard::from_bytes(bytes).ok()
    }
}
