//! raft-core behind the protocol-neutral interface of synod-protocol, so
//! the simulator, the driver and the lock service run it as one
//! `Protocol` among others.

use std::fmt::Debug;

use bytes::Bytes;
use synod_protocol::{
    AfterWrite, Proposed, Protocol, Ready, Refusal, Role as AnyRole, Status, Write,
};

use crate::config::Config;
use crate::error::{DropReason, Error};
use crate::message::Message;
use crate::node::{Proposal, RaftNode, Role};
use crate::ready::PersistReceipt;
use crate::storage::Storage;
use crate::types::{ConfChange, ConfState, Entry, Index, NodeId, ReadId, Term};

/// What [`RaftNode::propose`] and its kin answer, protocol-neutral.
fn refusal(e: Error) -> Refusal {
    match e {
        Error::ProposalDropped(reason) => match reason {
            DropReason::NotLeader { leader } => Refusal::NotLeader { leader },
            DropReason::Transferring { to } => Refusal::Transferring { to },
            DropReason::Empty => Refusal::Empty,
            DropReason::TooLarge { bytes, limit } => Refusal::TooLarge { bytes, limit },
            DropReason::UncommittedLimit { .. } | DropReason::TooManyReads { .. } => Refusal::Busy,
            // A new variant, or LogFull: nothing the caller can retry into.
            _ => Refusal::Failed(reason.to_string()),
        },
        Error::InvalidConfChange(why) => Refusal::Membership(why.to_string()),
        Error::UnknownPeer(id) => Refusal::Membership(format!("node {id} is not a voter")),
        other => Refusal::Failed(other.to_string()),
    }
}

impl<S, R> Protocol for RaftNode<S, R>
where
    S: Storage + Debug,
    R: rand::Rng + Debug,
{
    const NAME: &'static str = "raft";
    type Message = Message;
    type Storage = S;
    type Receipt = PersistReceipt;
    type Options = Config;
    type Rng = R;
    type Error = Error;

    /// Starts with `options`, its `id` replaced by `id`, and its
    /// `applied` raised to the storage's snapshot: a driver restores the
    /// state machine from that snapshot, so nothing it covers is handed
    /// out to apply again.
    fn start(id: NodeId, options: &Config, storage: S, rng: R) -> Result<Self, Error> {
        let snapshot_index = storage.snapshot_meta(0).map_or(0, |(meta, _)| meta.index);
        let config = Config {
            id,
            applied: options.applied.max(snapshot_index),
            ..options.clone()
        };
        RaftNode::new(config, storage, rng)
    }

    fn tick(&mut self) {
        RaftNode::tick(self);
    }

    fn step(&mut self, message: Message) -> Result<(), Error> {
        RaftNode::step(self, message)
    }

    fn propose(&mut self, command: Bytes) -> Result<Proposed, Refusal> {
        match RaftNode::propose(self, command).map_err(refusal)? {
            Proposal::Appended { index, term } => Ok(Proposed::Appended { index, term }),
            Proposal::Forwarded { leader } => Ok(Proposed::Forwarded { leader }),
        }
    }

    fn read(&mut self) -> Result<ReadId, Refusal> {
        self.read_index().map_err(refusal)
    }

    fn change_membership(&mut self, change: ConfChange) -> Result<Proposed, Refusal> {
        let index = self.propose_conf_change(change).map_err(refusal)?;
        Ok(Proposed::Appended {
            index,
            term: self.term(),
        })
    }

    fn transfer_leadership(&mut self, to: NodeId) -> Result<(), Refusal> {
        self.transfer_leader(to).map_err(refusal)
    }

    fn has_ready(&self) -> bool {
        RaftNode::has_ready(self)
    }

    fn ready(&mut self) -> Result<Ready<Message, PersistReceipt>, Error> {
        let ready = RaftNode::ready(self)?;
        let persist = ready.persist;
        Ok(Ready {
            messages: ready.messages,
            write: Write {
                hard_state: persist.hard_state,
                snapshot: persist.snapshot,
                snapshot_pieces: persist.snapshot_pieces,
                staged_snapshot: persist.staged_snapshot,
                entries: persist.entries,
                must_sync: persist.must_sync,
            },
            after_write: AfterWrite::new(persist.after.held, persist.after.receipt),
            committed: ready.committed_entries,
            reads: ready.read_states,
        })
    }

    fn on_written(&mut self, receipt: PersistReceipt) {
        self.on_persisted(receipt);
    }

    fn on_applied(&mut self, index: Index) {
        RaftNode::on_applied(self, index);
    }

    fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        RaftNode::reuse_entries(self, buffer);
    }

    fn reuse_messages(&mut self, buffer: Vec<Message>) {
        RaftNode::reuse_messages(self, buffer);
    }

    fn status(&self) -> Status {
        let role = match self.role {
            Role::Leader => AnyRole::Leader,
            Role::Candidate | Role::PreCandidate => AnyRole::Candidate,
            Role::Follower if self.is_voter(self.id()) => AnyRole::Follower,
            Role::Follower => AnyRole::Learner,
        };
        Status {
            id: self.id(),
            term: self.term,
            leader: self.leader,
            role,
            committed: self.log.committed(),
            applied: self.log.applied(),
            last_index: self.log.last_index().unwrap_or(0),
        }
    }

    fn conf_state(&self) -> ConfState {
        RaftNode::conf_state(self)
    }

    fn storage(&self) -> &S {
        self.log.storage()
    }

    fn storage_mut(&mut self) -> &mut S {
        RaftNode::storage_mut(self)
    }

    fn addressee(message: &Message) -> NodeId {
        message.to
    }

    fn sender(message: &Message) -> NodeId {
        message.from
    }

    fn message_term(message: &Message) -> Term {
        message.term
    }
}
