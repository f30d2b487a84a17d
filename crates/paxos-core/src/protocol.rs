//! Multi-Paxos behind synod-protocol's `Protocol` trait: the simulator, the
//! driver and the benches run it by changing one type.

use std::fmt::Debug;

use bytes::Bytes;
use synod_protocol::{
    ConfChange, ConfState, Entry, Index, NodeId, Proposed, Protocol, ReadId, Ready, Refusal,
    Role as AnyRole, Status, StopSign, Storage, Term,
};

use crate::config::Config;
use crate::error::Error;
use crate::leader::ProposeError;
use crate::message::Message;
use crate::node::{PaxosNode, Receipt, Role};

fn refusal(e: ProposeError) -> Refusal {
    match e {
        ProposeError::NotLeader { leader } => Refusal::NotLeader { leader },
        ProposeError::Empty => Refusal::Empty,
        ProposeError::TooLarge { bytes, limit } => Refusal::TooLarge { bytes, limit },
        ProposeError::Busy => Refusal::Busy,
        ProposeError::Transferring { to } => Refusal::Transferring { to },
        e @ ProposeError::NotAVoter(_) => Refusal::Failed(e.to_string()),
        ProposeError::Membership(why) => Refusal::Membership(why.to_string()),
        // Retry later: once the stop-sign is decided, with the leader of
        // the configuration it starts.
        ProposeError::Stopped => Refusal::Busy,
    }
}

impl<S, R> Protocol for PaxosNode<S, R>
where
    S: Storage + Debug,
    R: rand::Rng + Debug,
{
    const NAME: &'static str = "paxos";
    const STOP_SIGNS: bool = true;
    type Message = Message;
    type Storage = S;
    type Receipt = Receipt;
    type Options = Config;
    type Rng = R;
    type Error = Error;

    /// Starts with `options`, its `id` replaced by `id`; the state machine
    /// is restored from the storage's snapshot by the driver, so `applied`
    /// starts there at least.
    fn start(id: NodeId, options: &Config, storage: S, rng: R) -> Result<Self, Error> {
        let config = Config {
            id,
            ..options.clone()
        };
        PaxosNode::new(config, storage, rng)
    }

    fn tick(&mut self) {
        PaxosNode::tick(self);
    }

    fn step(&mut self, message: Message) -> Result<(), Error> {
        PaxosNode::step(self, message)
    }

    fn propose(&mut self, command: Bytes) -> Result<Proposed, Refusal> {
        let (index, term) = PaxosNode::propose(self, command).map_err(refusal)?;
        Ok(Proposed::Appended { index, term })
    }

    fn read(&mut self) -> Result<ReadId, Refusal> {
        self.read_index().ok_or_else(|| Refusal::NotLeader {
            leader: (self.role != Role::Leader && self.leader.node() != self.id())
                .then_some(self.leader.node())
                .filter(|&l| l != 0),
        })
    }

    fn change_membership(&mut self, change: ConfChange) -> Result<Proposed, Refusal> {
        let (index, term) = PaxosNode::change_membership(self, change).map_err(refusal)?;
        Ok(Proposed::Appended { index, term })
    }

    fn propose_stop_sign(&mut self, stop: StopSign) -> Result<Proposed, Refusal> {
        let (index, term) = PaxosNode::propose_stop_sign(self, stop).map_err(refusal)?;
        Ok(Proposed::Appended { index, term })
    }

    fn transfer_leadership(&mut self, to: NodeId) -> Result<(), Refusal> {
        PaxosNode::transfer_leadership(self, to).map_err(refusal)
    }

    fn has_ready(&self) -> bool {
        PaxosNode::has_ready(self)
    }

    fn ready(&mut self) -> Result<Ready<Message, Receipt>, Error> {
        PaxosNode::ready(self)
    }

    fn on_written(&mut self, receipt: Receipt) {
        PaxosNode::on_written(self, receipt);
    }

    fn on_applied(&mut self, index: Index) {
        PaxosNode::on_applied(self, index);
    }

    fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        PaxosNode::reuse_entries(self, buffer);
    }

    fn reuse_messages(&mut self, buffer: Vec<Message>) {
        PaxosNode::reuse_messages(self, buffer);
    }

    fn status(&self) -> Status {
        let role = match self.role {
            Role::Leader => AnyRole::Leader,
            Role::Candidate => AnyRole::Candidate,
            Role::Follower if self.is_voter(self.id()) => AnyRole::Follower,
            Role::Follower => AnyRole::Learner,
        };
        let leader = match self.role {
            Role::Leader => Some(self.id()),
            _ if self.leader.node() != 0 && self.leader.node() != self.id() => {
                Some(self.leader.node())
            }
            _ => None,
        };
        Status {
            id: self.id(),
            term: self.promised.0,
            leader,
            role,
            committed: self.decided,
            applied: self.applied,
            last_index: self.last_index(),
        }
    }

    fn conf_state(&self) -> ConfState {
        PaxosNode::conf_state(self)
    }

    fn storage(&self) -> &S {
        PaxosNode::storage(self)
    }

    fn storage_mut(&mut self) -> &mut S {
        PaxosNode::storage_mut(self)
    }

    fn addressee(message: &Message) -> NodeId {
        message.to
    }

    fn sender(message: &Message) -> NodeId {
        message.from
    }

    fn message_term(message: &Message) -> Term {
        message.ballot.0
    }
}
