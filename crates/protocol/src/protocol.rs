//! The trait every consensus protocol implements, and what it answers.

use std::fmt::Debug;

use bytes::Bytes;

use crate::handoff::Ready;
use crate::storage::Storage;
use crate::types::{ConfChange, ConfState, Entry, Index, NodeId, ReadId, StopSign, Term};

/// One replica of a replicated-log protocol, as a pure state machine.
///
/// No threads, clocks, sockets or runtime: time enters as
/// [`Protocol::tick`], messages as [`Protocol::step`], client work as
/// [`Protocol::propose`] and [`Protocol::read`]; what the replica wants
/// done comes out of [`Protocol::ready`] as data. The loop a driver runs:
///
/// 1. feed inputs (`tick`, `step`, `propose`, `read`, ...);
/// 2. while `has_ready()`: take `ready()`; send `messages`; write `write`
///    to the log (through [`Protocol::storage_mut`]); apply `committed` and
///    call `on_applied`; once the write is durable, send what
///    `after_write.written()` releases and hand its receipt to
///    `on_written`; serve `reads` once their index is applied;
/// 3. optionally, hand the emptied buffers back
///    ([`Protocol::reuse_entries`], [`Protocol::reuse_messages`]) so the
///    next `ready` fills them instead of allocating.
///
/// The replica reads its log through [`Protocol::storage`] (one
/// [`Storage`] contract for every protocol, so one log implementation
/// serves them all) and never writes to it: the driver does.
pub trait Protocol: Sized + Debug {
    /// The protocol's name ("raft", "multi-paxos").
    const NAME: &'static str;
    /// Whether it takes stop-signs ([`Protocol::propose_stop_sign`]).
    const STOP_SIGNS: bool = false;
    /// A message between replicas.
    type Message: Clone + Debug;
    /// The log it reads.
    type Storage: Storage;
    /// Handed back through [`Protocol::on_written`] once a write is
    /// durable.
    type Receipt: Debug;
    /// The protocol's own options (timeouts, limits, features); the
    /// replica's id is passed beside them.
    type Options: Clone + Debug;
    /// The random generator it draws its choices from (election jitter).
    type Rng;
    /// What it returns when it cannot continue (its storage failed).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Starts (or restarts) replica `id` over `storage`, which holds
    /// whatever it persisted before (or a bootstrapped membership).
    ///
    /// # Errors
    /// Invalid options, or storage that cannot be read.
    fn start(
        id: NodeId,
        options: &Self::Options,
        storage: Self::Storage,
        rng: Self::Rng,
    ) -> Result<Self, Self::Error>;

    /// One unit of logical time passes.
    fn tick(&mut self);

    /// A message from another replica arrives. Stale, forged, misaddressed
    /// or malformed messages are ignored; the refusal says why.
    ///
    /// # Errors
    /// Why the message was ignored (informational, never fatal), or a
    /// storage failure.
    fn step(&mut self, message: Self::Message) -> Result<(), Self::Error>;

    /// A client command. On the leader it is appended; its fate is decided
    /// when an entry at the returned index is committed: it is this
    /// command only if that entry's term is the returned term.
    ///
    /// # Errors
    /// Why it was not taken ([`Refusal`]).
    fn propose(&mut self, command: Bytes) -> Result<Proposed, Refusal>;

    /// A linearizable read: the id comes back in [`Ready::reads`] with the
    /// index after which the state machine may serve it.
    ///
    /// # Errors
    /// Why it was not taken (not the leader, or no such reads:
    /// [`Refusal::Unsupported`], then send the read through the log).
    fn read(&mut self) -> Result<ReadId, Refusal>;

    /// As leader, proposes a membership change.
    ///
    /// # Errors
    /// Why it was not taken.
    fn change_membership(&mut self, change: ConfChange) -> Result<Proposed, Refusal>;

    /// As leader, proposes a stop-sign: the configuration in force ends and
    /// the one `stop` names continues the same log. Protocols without
    /// stop-signs refuse it (the default).
    ///
    /// # Errors
    /// Why it was not taken; [`Refusal::Unsupported`] by default.
    fn propose_stop_sign(&mut self, stop: StopSign) -> Result<Proposed, Refusal> {
        let _ = stop;
        Err(Refusal::Unsupported)
    }

    /// As leader, hands leadership to `to`.
    ///
    /// # Errors
    /// Why it was not started.
    fn transfer_leadership(&mut self, to: NodeId) -> Result<(), Refusal>;

    /// Whether [`Protocol::ready`] has anything.
    fn has_ready(&self) -> bool;

    /// Everything the replica wants done now.
    ///
    /// # Errors
    /// A storage failure while gathering it.
    fn ready(&mut self) -> Result<Ready<Self::Message, Self::Receipt>, Self::Error>;

    /// The write `receipt` came with is durable.
    fn on_written(&mut self, receipt: Self::Receipt);

    /// The state machine has applied everything up to `index`.
    fn on_applied(&mut self, index: Index);

    /// Hands back an entry buffer [`Protocol::ready`] handed out (the
    /// committed entries once applied) so the replica fills it next time
    /// instead of allocating one. Optional: by default it is dropped.
    fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        drop(buffer);
    }

    /// Hands back a message buffer [`Protocol::ready`] handed out (its
    /// messages, or those the write released, once sent), as
    /// [`Protocol::reuse_entries`] does for entries.
    fn reuse_messages(&mut self, buffer: Vec<Self::Message>) {
        drop(buffer);
    }

    /// Who leads, the epoch, and the indexes.
    fn status(&self) -> Status;

    /// The membership as of the latest applied change.
    fn conf_state(&self) -> ConfState;

    /// The log it reads.
    fn storage(&self) -> &Self::Storage;

    /// The log, for the driver to write [`Ready::write`] into and to
    /// compact.
    fn storage_mut(&mut self) -> &mut Self::Storage;

    /// The message's addressee.
    fn addressee(message: &Self::Message) -> NodeId;

    /// The message's sender.
    fn sender(message: &Self::Message) -> NodeId;

    /// The epoch the message was sent in.
    fn message_term(message: &Self::Message) -> Term;
}

/// A proposal taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposed {
    /// Appended at `index` in `term`: committed if the entry applied at
    /// `index` has this term, lost to a leader change otherwise.
    Appended {
        /// Its log index.
        index: Index,
        /// The epoch it was appended in.
        term: Term,
    },
    /// Forwarded to the leader; its fate is not reported here.
    Forwarded {
        /// The leader it went to.
        leader: NodeId,
    },
}

/// Why a proposal, read or change was not taken.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// This replica does not lead; try `leader` (if known).
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader this replica knows of.
        leader: Option<NodeId>,
    },
    /// An empty command (reserved for the protocol's own entries).
    #[error("empty command")]
    Empty,
    /// The command is over the configured size limit.
    #[error("command of {bytes} bytes is over the limit of {limit}")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// Too much is uncommitted; retry once some of it commits.
    #[error("too much uncommitted work; retry later")]
    Busy,
    /// Leadership is being handed to `to`.
    #[error("leadership is moving to {to}")]
    Transferring {
        /// The new leader-to-be.
        to: NodeId,
    },
    /// A membership change is already in progress, or the change is not
    /// valid against the current membership.
    #[error("membership change refused: {0}")]
    Membership(String),
    /// The protocol does not offer this operation.
    #[error("not supported by this protocol")]
    Unsupported,
    /// The replica could not take it (its log is full, or its storage
    /// failed).
    #[error("refused: {0}")]
    Failed(String),
}

/// What a replica reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// This replica.
    pub id: NodeId,
    /// Its epoch.
    pub term: Term,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// Its role.
    pub role: Role,
    /// The highest index known committed.
    pub committed: Index,
    /// The highest index applied.
    pub applied: Index,
    /// The last index in its log.
    pub last_index: Index,
}

/// A replica's role, protocol-neutral.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader or waits for one.
    Follower,
    /// Trying to become leader (a Raft candidate or pre-candidate, a Paxos
    /// proposer in its prepare phase).
    Candidate,
    /// Leads its epoch.
    Leader,
    /// Receives the log without voting.
    Learner,
}
