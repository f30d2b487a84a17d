//! synod-raft-core as a simulated [`Replica`].

use rand::rngs::StdRng;
use synod_raft_core::{
    AppendResult, ConfChange, ConfChangeKind, Config, DropReason, Entry, Error as RaftError,
    HardState, MemStorage, Message, MessageBody, Payload, PersistReceipt, Proposal, RaftNode,
    ReadMode, Role, Snapshot, Storage,
};

use crate::config::SimConfig;
use crate::replica::{Applied, MembershipChange, Proposed, ReadStarted, Ready, Replica};

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

/// A raft-core node over a [`MemStorage`] disk.
#[derive(Debug)]
pub struct RaftReplica {
    node: RaftNode<MemStorage, StdRng>,
}

/// A raft-core write handed to the disk: snapshot, then entries, then hard
/// state (the order the crate documents: a crash between writes never
/// leaves a commit index past the log).
#[derive(Debug, Clone)]
pub struct RaftWrite {
    snapshot: Option<Snapshot>,
    hard_state: Option<HardState>,
    entries: Vec<Entry>,
}

impl RaftWrite {
    fn write_to(&self, disk: &mut MemStorage) -> Result<(), String> {
        if let Some(snap) = &self.snapshot {
            disk.apply_snapshot(snap.clone())
                .map_err(|e| e.to_string())?;
        }
        disk.append(self.entries.as_slice())
            .map_err(|e| e.to_string())?;
        if let Some(hs) = self.hard_state {
            disk.set_hard_state(hs);
        }
        Ok(())
    }
}

/// Entries a leader's snapshot keeps after its index, for nearly caught-up
/// peers.
const COMPACT_TAIL: u64 = 5;

impl Replica for RaftReplica {
    const NAME: &'static str = "raft";
    type Message = Message;
    type Disk = MemStorage;
    type Write = RaftWrite;
    type Receipt = PersistReceipt;
    type Payload = Payload;
    type Options = RaftOptions;

    fn bootstrap(voters: &[u64]) -> MemStorage {
        MemStorage::bootstrap(voters)
    }

    fn start(
        id: u64,
        disk: &MemStorage,
        cfg: &SimConfig<RaftOptions>,
        rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String> {
        let snapshot = disk.snapshot(0).map_err(|e| e.to_string())?;
        let config = Config {
            applied: snapshot.meta.index,
            ..cfg.protocol.config(id)
        };
        let node = RaftNode::new(config, disk.clone(), rng).map_err(|e| e.to_string())?;
        let state = (!snapshot.is_empty()).then_some(snapshot.data.to_vec());
        Ok((Self { node }, state))
    }

    fn tick(&mut self) {
        self.node.tick();
    }

    fn step(&mut self, msg: Message) {
        // Stale or malformed messages are the node's to refuse; the
        // simulator only drives it.
        let _ = self.node.step(msg);
    }

    fn addressee(msg: &Message) -> u64 {
        msg.to
    }

    fn message_term(msg: &Message) -> u64 {
        msg.term
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
        match self.node.propose(command) {
            Ok(Proposal::Appended { .. }) => Proposed::Appended,
            Ok(Proposal::Forwarded { leader }) => Proposed::Rejected {
                leader: Some(leader),
            },
            Err(RaftError::ProposalDropped(DropReason::NotLeader { leader })) => {
                Proposed::Rejected { leader }
            }
            Err(_) => Proposed::Rejected { leader: None },
        }
    }

    fn read(&mut self) -> ReadStarted {
        match self.node.read_index() {
            Ok(id) => ReadStarted::Started(id),
            Err(RaftError::ProposalDropped(DropReason::NotLeader { leader })) => {
                ReadStarted::Rejected { leader }
            }
            Err(_) => ReadStarted::Rejected { leader: None },
        }
    }

    fn has_ready(&self) -> bool {
        self.node.has_ready()
    }

    fn ready(&mut self) -> Result<Ready<Self>, String> {
        let ready = self.node.ready().map_err(|e| e.to_string())?;
        let reads = ready.read_states.iter().map(|r| (r.id, r.index)).collect();
        let persist = ready.persist;
        let write = RaftWrite {
            snapshot: persist.snapshot.clone(),
            hard_state: persist.hard_state,
            entries: persist.entries.clone(),
        };
        write.write_to(self.node.storage_mut())?;
        let restored = write.snapshot.as_ref().map(|s| s.data.to_vec());
        let done = persist.persisted();
        let committed = ready
            .committed_entries
            .into_iter()
            .map(|e| Applied {
                index: e.index,
                term: e.term,
                payload: e.payload,
            })
            .collect();
        Ok(Ready {
            send: ready.messages,
            write,
            after_sync: done.messages,
            receipt: done.receipt,
            restored,
            committed,
            reads,
        })
    }

    fn on_synced(&mut self, receipt: PersistReceipt) {
        self.node.on_persisted(receipt);
    }

    fn on_applied(&mut self, index: u64) {
        self.node.on_applied(index);
    }

    fn write(disk: &mut MemStorage, write: &RaftWrite) -> Result<(), String> {
        write.write_to(disk)
    }

    fn changes_vote(disk: &MemStorage, write: &RaftWrite) -> bool {
        let durable_vote = disk.hard_state().vote;
        write.hard_state.is_some_and(|hs| hs.vote != durable_vote)
    }

    fn torn_units(pending: &[RaftWrite]) -> usize {
        pending.iter().map(|w| w.entries.len()).sum()
    }

    fn tear(disk: &mut MemStorage, pending: &[RaftWrite], keep: usize) -> bool {
        let entries: Vec<Entry> = pending
            .iter()
            .flat_map(|w| w.entries.iter().cloned())
            .take(keep)
            .collect();
        disk.append(entries).is_ok()
    }

    fn leader_term(&self) -> Option<u64> {
        (self.node.role() == Role::Leader).then(|| self.node.term())
    }

    fn term(&self) -> u64 {
        self.node.term()
    }

    fn log_terms(&self) -> Vec<(u64, u64)> {
        let log = self.node.log();
        let (Ok(first), Ok(last)) = (log.first_index(), log.last_index()) else {
            return Vec::new();
        };
        // Terms only: no entry payloads are cloned.
        (first..=last)
            .filter_map(|i| Some((i, log.term(i).ok()?)))
            .collect()
    }

    fn first_index(&self) -> u64 {
        self.node.log().first_index().unwrap_or(1)
    }

    fn holds(&self, index: u64, term: u64) -> bool {
        self.node.log().match_term(index, term)
    }

    fn command(payload: &Payload) -> Option<&[u8]> {
        match payload {
            Payload::Command(bytes) => Some(bytes),
            _ => None,
        }
    }

    fn voters(&self) -> Vec<u64> {
        self.node.conf_state().voters
    }

    fn propose_membership(&mut self, change: MembershipChange) -> bool {
        let change = match change {
            MembershipChange::Add(id) => ConfChange::single(ConfChangeKind::AddVoter, id),
            MembershipChange::Remove(id) => ConfChange::single(ConfChangeKind::Remove, id),
        };
        self.node.propose_conf_change(change).is_ok()
    }

    fn compact(&mut self, durable: &mut MemStorage, state: impl FnOnce() -> Vec<u8>) -> bool {
        let applied = self.node.log().applied();
        let taken = durable.snapshot(0).map_or(0, |snap| snap.meta.index);
        if applied <= taken + COMPACT_TAIL {
            return false;
        }
        let (conf, data) = (self.node.conf_state(), state());
        // Applied entries are synced (the node applies only persisted
        // entries, and the simulator persists at sync), so both disks
        // hold them.
        for disk in [durable, self.node.storage_mut()] {
            if disk
                .create_snapshot(applied, conf.clone(), data.clone())
                .is_ok()
            {
                let first = disk.first_index().unwrap_or(1);
                if applied - COMPACT_TAIL >= first {
                    let _ = disk.compact(applied - COMPACT_TAIL);
                }
            }
        }
        true
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
        MessageBody::InstallSnapshot(snap) => {
            format!("snapshot at {}@t{}", snap.meta.index, snap.meta.term)
        }
        other => format!("{other:?}"),
    }
}
