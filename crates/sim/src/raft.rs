//! synod-raft-core as a simulated [`Replica`].

use rand::rngs::StdRng;
use synod_protocol::Write;
use synod_raft_core::{
    AppendResult, Config, MemStorage, Message, MessageBody, Payload, PersistReceipt, RaftNode,
    ReadMode,
};

use crate::config::SimConfig;
use crate::protocol_replica::ProtocolReplica;
use crate::replica::{MembershipChange, Proposed, ReadStarted, Ready, Replica};

/// Options for the simulated raft-core nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct RaftOptions {
    /// The nodes' `max_size_per_msg_bytes`: 1 sends one entry per append,
    /// so acknowledgements cover fewer entries and more interleavings occur.
    pub max_size_per_msg_bytes: u64,
    /// Run the nodes with pre-vote.
    pub pre_vote: bool,
    /// Run the nodes with check-quorum.
    pub check_quorum: bool,
    /// Serve reads under a leader lease (`ReadMode::Lease`; needs
    /// check-quorum). Leases assume clocks in step: profiles that use them
    /// turn off tick skew and pauses.
    pub lease_reads: bool,
    /// The nodes' `election_timeout_ticks` (message delays are 1 to 10
    /// ticks): longer timeouts leave room for a deposed leader to act while
    /// the others elect, which is where lease bugs live.
    pub election_timeout_ticks: u32,
    /// The nodes' `snapshot_chunk_bytes`: small pieces make every snapshot
    /// a multi-piece transfer, exposed to the network's loss, duplication
    /// and reordering.
    pub snapshot_chunk_bytes: u64,
    /// Test-only: run a deliberately broken protocol variant.
    #[cfg(feature = "mutations")]
    pub mutation: Option<synod_raft_core::mutation::Mutation>,
}

impl RaftOptions {
    /// The raft-core `Config` these options give node `id`: what
    /// [`RaftReplica`] runs, and what a [`ProtocolReplica`](crate::ProtocolReplica)
    /// of raft-core takes as its options.
    #[must_use]
    pub fn config(&self, id: u64) -> Config {
        #[allow(unused_mut)]
        let mut config = Config {
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            max_size_per_msg_bytes: self.max_size_per_msg_bytes,
            election_timeout_ticks: self.election_timeout_ticks,
            snapshot_chunk_bytes: self.snapshot_chunk_bytes,
            read_mode: if self.lease_reads {
                ReadMode::Lease
            } else {
                ReadMode::Safe
            },
            ..Config::new(id)
        };
        #[cfg(feature = "mutations")]
        {
            config.mutation = self.mutation;
        }
        config
    }
}

/// The raft-core node the simulator runs.
type Node = RaftNode<MemStorage, StdRng>;

/// raft-core as a simulated [`Replica`]: the protocol-neutral
/// [`ProtocolReplica`] (driven through synod-protocol's `Protocol` trait
/// alone) with raft-core's own options ([`RaftOptions`], which the
/// profiles set) and readable message descriptions for event traces.
#[derive(Debug)]
pub struct RaftReplica(ProtocolReplica<Node>);

/// A raft-core write handed to the disk: snapshot, then entries, then hard
/// state (the order the crate documents: a crash between writes never
/// leaves a commit index past the log).
pub type RaftWrite = Write;

type Inner = ProtocolReplica<Node>;

impl Replica for RaftReplica {
    const NAME: &'static str = "raft";
    type Message = Message;
    type Disk = MemStorage;
    type Write = Write;
    type Receipt = PersistReceipt;
    type Payload = Payload;
    type Options = RaftOptions;

    fn bootstrap(voters: &[u64]) -> MemStorage {
        Inner::bootstrap(voters)
    }

    fn start(
        id: u64,
        disk: &MemStorage,
        cfg: &SimConfig<RaftOptions>,
        rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String> {
        let cfg = cfg.clone().with_protocol(|o| o.config(id));
        let (inner, state) = Inner::start(id, disk, &cfg, rng)?;
        Ok((Self(inner), state))
    }

    fn tick(&mut self) {
        self.0.tick();
    }

    fn step(&mut self, msg: Message) {
        self.0.step(msg);
    }

    fn addressee(msg: &Message) -> u64 {
        Inner::addressee(msg)
    }

    fn message_term(msg: &Message) -> u64 {
        Inner::message_term(msg)
    }

    fn describe(msg: &Message) -> String {
        format!(
            "{}->{} t{} {}",
            msg.from,
            msg.to,
            msg.term,
            describe_body(&msg.body)
        )
    }

    fn propose(&mut self, command: Vec<u8>) -> Proposed {
        self.0.propose(command)
    }

    fn read(&mut self) -> ReadStarted {
        self.0.read()
    }

    fn has_ready(&self) -> bool {
        self.0.has_ready()
    }

    fn ready(&mut self) -> Result<Ready<Self>, String> {
        let r = self.0.ready()?;
        Ok(Ready {
            send: r.send,
            write: r.write,
            after_sync: r.after_sync,
            receipt: r.receipt,
            restored: r.restored,
            committed: r.committed,
            reads: r.reads,
        })
    }

    fn on_synced(&mut self, receipt: PersistReceipt) {
        self.0.on_synced(receipt);
    }

    fn on_applied(&mut self, index: u64) {
        self.0.on_applied(index);
    }

    fn write(disk: &mut MemStorage, write: &Write) -> Result<(), String> {
        Inner::write(disk, write)
    }

    fn changes_vote(disk: &MemStorage, write: &Write) -> bool {
        Inner::changes_vote(disk, write)
    }

    fn torn_units(pending: &[Write]) -> usize {
        Inner::torn_units(pending)
    }

    fn tear(disk: &mut MemStorage, pending: &[Write], keep: usize) -> bool {
        Inner::tear(disk, pending, keep)
    }

    fn leader_term(&self) -> Option<u64> {
        self.0.leader_term()
    }

    fn term(&self) -> u64 {
        self.0.term()
    }

    fn log_terms(&self) -> Vec<(u64, u64)> {
        self.0.log_terms()
    }

    fn first_index(&self) -> u64 {
        self.0.first_index()
    }

    fn holds(&self, index: u64, term: u64) -> bool {
        self.0.holds(index, term)
    }

    fn command(payload: &Payload) -> Option<&[u8]> {
        Inner::command(payload)
    }

    fn voters(&self) -> Vec<u64> {
        self.0.voters()
    }

    fn settled_members(&self) -> Option<Vec<u64>> {
        self.0.settled_members()
    }

    fn applied_members(&self) -> Option<(u64, Vec<u64>)> {
        self.0.applied_members()
    }

    fn propose_membership(&mut self, change: MembershipChange) -> bool {
        self.0.propose_membership(change)
    }

    fn compact(&mut self, durable: &mut MemStorage, state: impl FnOnce() -> Vec<u8>) -> bool {
        self.0.compact(durable, state)
    }
}

/// One short line per message body: the fields that explain a trace.
fn describe_body(body: &MessageBody) -> String {
    match body {
        MessageBody::VoteRequest {
            pre_vote,
            last_index,
            last_term,
            transfer,
        } => format!(
            "{}vote? last {last_index}@t{last_term}{}",
            if *pre_vote { "pre-" } else { "" },
            if *transfer { " (transfer)" } else { "" }
        ),
        MessageBody::VoteResponse { pre_vote, granted } => format!(
            "{}vote {}",
            if *pre_vote { "pre-" } else { "" },
            if *granted { "granted" } else { "refused" }
        ),
        MessageBody::Append {
            prev_index,
            prev_term,
            entries,
            commit,
        } => match (entries.first(), entries.last()) {
            (Some(a), Some(b)) => format!(
                "append after {prev_index}@t{prev_term}: {}..={} commit {commit}",
                a.index, b.index
            ),
            _ => format!("probe after {prev_index}@t{prev_term} commit {commit}"),
        },
        MessageBody::AppendResponse(AppendResult::Accepted { match_index }) => {
            format!("append ok, match {match_index}")
        }
        MessageBody::AppendResponse(AppendResult::Rejected {
            rejected_index,
            hint_index,
            hint_term,
        }) => format!("append rejected at {rejected_index}, hint {hint_index}@t{hint_term}"),
        MessageBody::Heartbeat {
            commit,
            read_round,
            sent_at_tick,
        } => {
            format!("heartbeat commit {commit} round {read_round} sent {sent_at_tick}")
        }
        MessageBody::HeartbeatResponse {
            read_round,
            sent_at_tick,
        } => {
            format!("heartbeat ok round {read_round} sent {sent_at_tick}")
        }
        MessageBody::Propose { data } => format!("forwarded proposal ({} bytes)", data.len()),
        MessageBody::ReadIndex { id } => format!("read-index {id:?}"),
        MessageBody::ReadIndexResponse { id, index } => format!("read-index {id:?} at {index}"),
        MessageBody::TimeoutNow => "timeout-now".to_string(),
        MessageBody::InstallSnapshot(piece) => format!(
            "snapshot at {}@t{} bytes {}..{} of {}",
            piece.meta.index,
            piece.meta.term,
            piece.offset,
            piece.offset.saturating_add(piece.data.len() as u64),
            piece.total_bytes
        ),
        MessageBody::SnapshotAck {
            index,
            received,
            gap,
        } => format!(
            "snapshot ack at {index}: {received} bytes{}",
            if *gap { ", gap" } else { "" }
        ),
        other => format!("{other:?}"),
    }
}
