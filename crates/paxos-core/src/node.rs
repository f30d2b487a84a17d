//! The node: its state, the step dispatch, and the hand-off (`ready`).

use std::collections::BTreeMap;

use synod_protocol::{
    AfterWrite, ConfState, Entry, HardState, Index, NodeId, ReadId, Ready, Storage, Write,
};

use crate::ballot::{Ballot, MAX_NODE_ID};
use crate::config::Config;
use crate::error::Error;
use crate::log::Log;
use crate::message::{Body, Message};

/// A node's role in its ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts what the leader of its promise sends.
    Follower,
    /// Owns its promise and gathers promises (phase 1).
    Candidate,
    /// Owns its promise, a quorum promised it, and it proposes (phase 2).
    Leader,
}

/// What a promise told the candidate.
#[derive(Debug, Clone)]
pub(crate) struct PromiseInfo {
    pub(crate) decided: Index,
    pub(crate) last_term: u64,
    pub(crate) last_index: Index,
    pub(crate) suffix: crate::message::Suffix,
    /// The snapshot to fetch in pieces first, when the acceptor's log is
    /// ahead of this one past a large snapshot.
    pub(crate) pieces: Option<synod_protocol::SnapshotMeta>,
}

/// What a peer's latest beat said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    /// The leader ballot it follows.
    pub(crate) leader: Ballot,
    /// It hears a quorum.
    pub(crate) connected: bool,
    /// It heard that leader lead, directly.
    pub(crate) leader_alive: bool,
    /// Its priority.
    pub(crate) priority: u32,
}

/// The leader's view of one synced acceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// It holds the leader's log through here (durably).
    pub(crate) matched: Index,
    /// The next index to send.
    pub(crate) next: Index,
    /// The highest decided index sent to it.
    pub(crate) decided_sent: Index,
}

/// Handed back through `on_written`: the write of this ballot made the log
/// durable through `last_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub(crate) epoch: u64,
    pub(crate) last_index: Index,
    pub(crate) snapshot: Index,
    /// The promise the write held (or the one before it, unchanged).
    pub(crate) promised: Ballot,
}

/// One Multi-Paxos replica as a pure state machine (see the crate docs).
#[derive(Debug)]
pub struct PaxosNode<S, R> {
    pub(crate) config: Config,
    pub(crate) log: Log<S>,
    pub(crate) rng: R,
    /// Sorted; this node among them (or not, as a learner).
    pub(crate) voters: Vec<NodeId>,
    /// While a joint configuration is in force (Raft §6): the voters
    /// before it, sorted, a majority of which must agree too; else empty.
    pub(crate) outgoing: Vec<NodeId>,
    /// Sorted, disjoint from the voters: receive the log, never vote.
    pub(crate) learners: Vec<NodeId>,
    /// Every other member (voters and learners), sorted.
    pub(crate) peers: Vec<NodeId>,
    /// A stop-sign is in force and not known decided: proposals wait.
    pub(crate) stopping: bool,
    /// The members from each change in the log on (the first: in force at
    /// the oldest index kept; the last: in force now).
    pub(crate) conf_history: Vec<(Index, crate::reconfig::Members)>,
    /// As leader: the change or stop-sign proposed once the new nodes it
    /// makes voters, learners for now, are caught up.
    pub(crate) promotion: Option<crate::reconfig::Promotion>,
    /// The ballot promised (persisted as the hard state's term).
    pub(crate) promised: Ballot,
    pub(crate) role: Role,
    /// The leader ballot this node follows (its own when it campaigns).
    pub(crate) leader: Ballot,
    /// When it started following `leader` (ticks), for the timeout.
    pub(crate) leader_since: u64,
    /// The highest round seen in any message or stored.
    pub(crate) max_round: u64,
    pub(crate) decided: Index,
    /// Decided entries handed out to apply, through here.
    pub(crate) applying: Index,
    pub(crate) applied: Index,
    /// As acceptor: the ballot whose leader synced this log, and how far
    /// the log is that leader's.
    pub(crate) synced: Option<Ballot>,
    pub(crate) accepted_through: Index,
    /// As candidate: promises received.
    pub(crate) promises: BTreeMap<NodeId, PromiseInfo>,
    /// As candidate whose own promise is a phase-1 quorum: the ballot it
    /// leads once that promise is durable (see `campaign`).
    pub(crate) lead_when_durable: Option<Ballot>,
    /// As candidate: the most advanced promised log, being taken.
    pub(crate) catch_up: Option<crate::catch_up::CatchUp>,
    /// As leader: synced acceptors.
    pub(crate) progress: BTreeMap<NodeId, Progress>,
    /// As leader: snapshots on their way, in pieces, to acceptors not
    /// synced yet.
    pub(crate) transfers: BTreeMap<NodeId, crate::snapshot::SnapshotSend>,
    /// As acceptor: a snapshot arriving in pieces.
    pub(crate) incoming: Option<crate::snapshot::SnapshotIncoming>,
    /// Pieces to stage with the next write.
    pub(crate) staged_pieces: Vec<synod_protocol::SnapshotPiece>,
    /// This log is durable (here) through this index: decided entries are
    /// handed out to apply only up to it, and a leader counts itself only
    /// for it.
    pub(crate) durable_through: Index,
    /// Bumped whenever entries that may be durable are replaced (or a
    /// snapshot installed): a receipt from before says nothing of the
    /// replacement.
    pub(crate) log_epoch: u64,
    /// As leader: the index of its ballot's first entry.
    pub(crate) ballot_start: Index,
    pub(crate) appends_due: bool,
    // Connectivity.
    pub(crate) now: u64,
    pub(crate) heard: BTreeMap<NodeId, u64>,
    /// Each peer's latest beat.
    pub(crate) views: BTreeMap<NodeId, View>,
    /// Campaigns in a row that did not win: widens the next wait
    /// (randomized exponential backoff against duelling candidates).
    pub(crate) failed_campaigns: u32,
    /// As leader: handing leadership to this node, since this tick.
    pub(crate) transfer: Option<(NodeId, u64)>,
    /// As leader: no hand-over to a preferred leader before this tick (one
    /// failed: wait before trying again).
    pub(crate) handover_quiet_until: u64,
    /// As follower: the leader asked this node to take over, at this tick.
    pub(crate) take_over_asked: Option<u64>,
    /// Leases (see `lease.rs`).
    pub(crate) lease: crate::lease::Lease,
    /// When this node last heard its leader lead, directly.
    pub(crate) leader_seen_at: Option<u64>,
    pub(crate) connected: bool,
    pub(crate) heartbeat_elapsed: u32,
    pub(crate) timeout: u32,
    // Hand-off.
    pub(crate) msgs: Vec<Message>,
    pub(crate) held: Vec<Message>,
    /// Message buffers handed back, to take the place of `msgs` and `held`
    /// when they are handed out.
    pub(crate) spare_msgs: synod_protocol::Spare<Message>,
    pub(crate) last_hard: HardState,
    // Reads.
    pub(crate) reads: crate::read::Reads,
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// Starts (or restarts) a node from what `storage` holds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::InvalidMembership`] (no voters, or
    /// an id past [`MAX_NODE_ID`]), or a storage error.
    pub fn new(config: Config, storage: S, mut rng: R) -> Result<Self, Error> {
        config.validate()?;
        let init = storage.initial_state()?;
        let members = crate::reconfig::Members::from_conf_state(&init.conf_state);
        let voters = members.voters.clone();
        if voters.is_empty() {
            return Err(Error::InvalidMembership("no voters"));
        }
        if voters
            .iter()
            .chain(&members.outgoing)
            .chain(&members.learners)
            .any(|&v| v == 0 || v > MAX_NODE_ID)
        {
            return Err(Error::InvalidMembership("a voter id outside 1 to 2^24 - 1"));
        }
        config.check_quorums(voters.len())?;
        if !members.outgoing.is_empty()
            && (config.phase1_quorum.is_some() || config.phase2_quorum.is_some())
        {
            return Err(Error::InvalidMembership(
                "a joint configuration needs majority quorums (phase quorum sizes are set)",
            ));
        }
        let snapshot_index = storage.snapshot_meta(0).map_or(0, |(meta, _)| meta.index);
        let log = Log::new(storage)?;
        let last = log.last_index()?;
        let hs = init.hard_state;
        let promised = Ballot(hs.term);
        let applied = config.applied.max(snapshot_index).min(last);
        let decided = hs.commit.min(last).max(applied);
        let max_round = promised.round().max(Ballot(log.last_term()?).round());
        let peers = Vec::new();
        let timeout = config.election_timeout_ticks;
        // A restarted acceptor may have granted a lease it no longer
        // remembers: it refuses every prepare for one lease first.
        let lease_ticks = config
            .lease_reads
            .then_some(u64::from(config.election_timeout_ticks));
        let first_read = rng.next_u64();
        let mut node = Self {
            config,
            log,
            rng,
            voters,
            outgoing: Vec::new(),
            learners: Vec::new(),
            peers,
            stopping: false,
            conf_history: vec![(snapshot_index, members.clone())],
            promotion: None,
            promised,
            role: Role::Follower,
            leader: Ballot::ZERO,
            leader_since: 0,
            max_round,
            decided,
            applying: applied,
            applied,
            synced: None,
            accepted_through: 0,
            promises: BTreeMap::new(),
            lead_when_durable: None,
            progress: BTreeMap::new(),
            transfers: BTreeMap::new(),
            incoming: None,
            catch_up: None,
            staged_pieces: Vec::new(),
            durable_through: last,
            log_epoch: 0,
            ballot_start: 0,
            appends_due: false,
            now: 0,
            heard: BTreeMap::new(),
            views: BTreeMap::new(),
            failed_campaigns: 0,
            transfer: None,
            handover_quiet_until: 0,
            take_over_asked: None,
            lease: crate::lease::Lease::at_start(lease_ticks),
            leader_seen_at: None,
            connected: false,
            heartbeat_elapsed: 0,
            timeout,
            msgs: Vec::new(),
            held: Vec::new(),
            spare_msgs: synod_protocol::Spare::default(),
            last_hard: hs,
            reads: crate::read::Reads::starting_at(first_read),
        };
        node.set_members(members);
        node.replay_conf_entries(snapshot_index + 1)?;
        node.reset_timeout();
        Ok(node)
    }

    /// This node's id.
    #[must_use]
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// Its role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The ballot it promised.
    #[must_use]
    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// The leader ballot it follows ([`Ballot::ZERO`] for none).
    #[must_use]
    pub fn leader_ballot(&self) -> Ballot {
        self.leader
    }

    /// The decided index.
    #[must_use]
    pub fn decided(&self) -> Index {
        self.decided
    }

    /// The membership in force at the applied index (what a snapshot
    /// taken there records); [`PaxosNode::voters`] is the one in force now.
    #[must_use]
    pub fn conf_state(&self) -> ConfState {
        self.members_at(self.applied).to_conf_state()
    }

    /// The voters in force now (the latest change in the log, decided or
    /// not), sorted.
    #[must_use]
    pub fn voters(&self) -> &[NodeId] {
        &self.voters
    }

    /// While a joint configuration is in force (a change of several voters
    /// at once, not yet left): the voters before it, a majority of which
    /// must agree too. Empty otherwise. Sorted.
    #[must_use]
    pub fn voters_outgoing(&self) -> &[NodeId] {
        &self.outgoing
    }

    /// The learners in force now, sorted.
    #[must_use]
    pub fn learners(&self) -> &[NodeId] {
        &self.learners
    }

    /// Whether a stop-sign is in this node's log and not known decided:
    /// the configuration it ends takes no more commands
    /// ([`crate::ProposeError::Stopped`]) until it is.
    #[must_use]
    pub fn stopping(&self) -> bool {
        self.stopping
    }

    /// The storage it reads.
    pub fn storage(&self) -> &S {
        &self.log.storage
    }

    /// The storage, for the driver's writes.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.log.storage
    }

    /// Whether a test-only mutation is on (never in real builds).
    #[cfg(feature = "mutations")]
    pub(crate) fn mutated(&self, m: crate::mutation::Mutation) -> bool {
        self.config.mutation == Some(m)
    }

    /// Promises (this node's included) that complete phase 1.
    pub(crate) fn q1(&self) -> usize {
        self.config
            .phase1_quorum
            .unwrap_or(self.voters.len() / 2 + 1)
    }

    /// Durable acceptances (the leader's included) that decide an entry,
    /// and acknowledgements that confirm a read round.
    pub(crate) fn q2(&self) -> usize {
        self.config
            .phase2_quorum
            .unwrap_or(self.voters.len() / 2 + 1)
    }

    /// Whether the voters `has` picks form a quorum of size `q` (`q1` or
    /// `q2`); while a joint configuration is in force, they must also be a
    /// majority of the outgoing voters (Raft §6: both configurations
    /// agree).
    pub(crate) fn is_quorum(&self, q: usize, has: impl Fn(NodeId) -> bool) -> bool {
        let count = |set: &[NodeId]| set.iter().filter(|&&v| has(v)).count();
        count(&self.voters) >= q
            && (self.joint_ignored() || count(&self.outgoing) > self.outgoing.len() / 2)
    }

    /// The highest value a quorum of size `q` (as for
    /// [`PaxosNode::is_quorum`]) has each reached, `of` giving each
    /// voter's: the q-th highest among the voters and, while joint, at most
    /// the majority-th highest among the outgoing voters.
    pub(crate) fn quorum_value(&self, q: usize, of: impl Fn(NodeId) -> u64) -> u64 {
        let kth_highest = |set: &[NodeId], k: usize| {
            // Called on every acceptance: small clusters sort on the stack.
            let mut small = [0u64; 16];
            let mut large = Vec::new();
            let values: &mut [u64] = if set.len() <= small.len() {
                &mut small[..set.len()]
            } else {
                large.resize(set.len(), 0);
                &mut large
            };
            for (slot, &v) in values.iter_mut().zip(set) {
                *slot = of(v);
            }
            values.sort_unstable_by(|a, b| b.cmp(a));
            k.checked_sub(1)
                .and_then(|i| values.get(i).copied())
                .unwrap_or(0)
        };
        let value = kth_highest(&self.voters, q);
        if self.joint_ignored() {
            return value;
        }
        value.min(kth_highest(&self.outgoing, self.outgoing.len() / 2 + 1))
    }

    /// No joint configuration is in force (or a planted mutation ignores
    /// the outgoing voters).
    fn joint_ignored(&self) -> bool {
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::JointCountsNewVotersOnly) {
            return true;
        }
        self.outgoing.is_empty()
    }

    pub(crate) fn last_index(&self) -> Index {
        self.log.last_index().unwrap_or(0)
    }

    /// Queues a message to leave now.
    pub(crate) fn send(&mut self, to: NodeId, body: Body) {
        let ballot = self.promised;
        self.msgs.push(Message {
            from: self.id(),
            to,
            ballot,
            body,
        });
    }

    /// Queues a message to leave once this round's write is durable.
    pub(crate) fn send_after_write(&mut self, to: NodeId, body: Body) {
        let ballot = self.promised;
        self.held.push(Message {
            from: self.id(),
            to,
            ballot,
            body,
        });
    }

    /// Handles a message from another node.
    ///
    /// # Errors
    /// Why it was ignored ([`Error::WrongRecipient`], [`Error::UnknownPeer`],
    /// [`Error::Malformed`], [`Error::Stale`]), or a storage error.
    pub fn step(&mut self, msg: Message) -> Result<(), Error> {
        if msg.to != self.id() {
            return Err(Error::WrongRecipient {
                to: msg.to,
                me: self.id(),
            });
        }
        if msg.from == self.id() || !self.is_member(msg.from) {
            return Err(Error::UnknownPeer(msg.from));
        }
        if let Some(why) = crate::validate::malformation(&msg) {
            return Err(Error::Malformed(why));
        }
        self.heard.insert(msg.from, self.now);
        self.max_round = self.max_round.max(msg.ballot.round());
        let (from, ballot) = (msg.from, msg.ballot);
        match msg.body {
            Body::Beat {
                leader,
                connected,
                leader_alive,
                priority,
            } => {
                self.on_beat(
                    from,
                    View {
                        leader,
                        connected,
                        leader_alive,
                        priority,
                    },
                );
                Ok(())
            }
            Body::TakeOver => {
                self.on_take_over(from, ballot);
                Ok(())
            }
            Body::Prepare {
                decided,
                last_term,
                last_index,
            } => self.on_prepare(from, ballot, decided, last_term, last_index),
            Body::Promise {
                decided,
                last_term,
                last_index,
                suffix,
                pieces,
            } => self.on_promise(
                from,
                ballot,
                PromiseInfo {
                    decided,
                    last_term,
                    last_index,
                    suffix,
                    pieces: pieces.map(|meta| *meta),
                },
            ),
            Body::AcceptSync { suffix, decided } => {
                self.on_accept_sync(from, ballot, suffix, decided)
            }
            Body::Accept {
                prev_index,
                entries,
                decided,
            } => self.on_accept(from, ballot, prev_index, entries, decided),
            Body::Accepted { last_index } => self.on_accepted(from, ballot, last_index),
            Body::SnapshotPiece {
                meta,
                total,
                offset,
                data,
            } => self.on_snapshot_piece(from, ballot, *meta, total, offset, data),
            Body::FetchPiece { index, offset } => self.on_fetch_piece(from, ballot, index, offset),
            Body::PromisePiece {
                meta,
                total,
                offset,
                data,
            } => self.on_promise_piece(from, ballot, *meta, total, offset, data),
            Body::SnapshotAck { index, received } => {
                self.on_snapshot_ack(from, ballot, index, received)
            }
            Body::Resync => {
                self.on_resync(from, ballot);
                Ok(())
            }
            Body::Nack => {
                self.on_nack(ballot);
                Ok(())
            }
            Body::Read { seq } => self.on_read(from, ballot, seq),
            Body::ReadAck { seq } => {
                self.on_read_ack(from, ballot, seq);
                Ok(())
            }
        }
    }

    fn hard_state(&self) -> HardState {
        HardState {
            term: self.promised.0,
            vote: (self.promised.node() != 0).then_some(self.promised.node()),
            commit: self.decided,
        }
    }

    /// Whether `ready` has anything.
    #[must_use]
    pub fn has_ready(&self) -> bool {
        !self.msgs.is_empty()
            || !self.held.is_empty()
            || !self.staged_pieces.is_empty()
            || self.log.has_unstable()
            || self.hard_state() != self.last_hard
            || self.handable_through() > self.applying
            || self.reads.has_ready()
            || (self.appends_due && self.role == Role::Leader)
    }

    /// Everything the node wants done now.
    ///
    /// # Errors
    /// A storage failure while reading entries to apply or send.
    pub fn ready(&mut self) -> Result<Ready<Message, Receipt>, Error> {
        self.flush_appends()?;
        let committed = self.take_committed()?;
        let hs = self.hard_state();
        let epoch_changed = hs.term != self.last_hard.term || hs.vote != self.last_hard.vote;
        let hard_state = (hs != self.last_hard).then_some(hs);
        self.last_hard = hs;
        // Read before the hand-off: until the driver writes it, storage
        // does not hold what is handed out.
        let last_index = self.last_index();
        let crate::log::Unstable {
            snapshot,
            staged,
            entries,
        } = self.log.take_unstable();
        let must_sync =
            epoch_changed || snapshot.is_some() || staged.is_some() || !entries.is_empty();
        let installed = snapshot
            .as_ref()
            .map(|s| s.meta.index)
            .or(staged.as_ref().map(|m| m.index));
        let receipt = Receipt {
            epoch: self.log_epoch,
            last_index,
            snapshot: installed.unwrap_or(0),
            promised: Ballot(hs.term),
        };
        let messages = self.spare_msgs.hand_out(&mut self.msgs);
        let held = self.spare_msgs.hand_out(&mut self.held);
        Ok(Ready {
            messages,
            write: Write {
                hard_state,
                snapshot,
                snapshot_pieces: std::mem::take(&mut self.staged_pieces),
                staged_snapshot: staged,
                entries,
                must_sync,
            },
            after_write: AfterWrite::new(held, receipt),
            committed,
            reads: self.reads.take_ready(),
        })
    }

    /// Decided entries may be handed out through here: durable here too
    /// (the contract of `Ready::committed`).
    fn handable_through(&self) -> Index {
        self.decided.min(self.durable_through)
    }

    /// Decided entries not yet handed out, a bounded batch.
    fn take_committed(&mut self) -> Result<Vec<Entry>, Error> {
        // Only what is durable here too (the contract of `Ready::committed`).
        let through = self.handable_through();
        if through <= self.applying {
            return Ok(Vec::new());
        }
        let limit = self.config.max_size_per_msg_bytes.saturating_mul(4);
        let entries = self
            .log
            .entries_reusing(self.applying + 1, through, limit)?;
        if let Some(last) = entries.last() {
            self.applying = last.index;
        }
        Ok(entries)
    }

    /// The write that came with `receipt` is durable.
    pub fn on_written(&mut self, receipt: Receipt) {
        // A restored snapshot counts as applied once it is durable.
        self.applied = self.applied.max(receipt.snapshot.min(self.applying));
        if let Some(ballot) = self.lead_when_durable
            && receipt.promised >= ballot
        {
            self.lead_when_durable = None;
            if self.role == Role::Candidate && self.promised == ballot {
                self.become_leader();
            }
        }
        if receipt.epoch != self.log_epoch {
            return;
        }
        let durable = receipt.last_index.min(self.last_index());
        if durable > self.durable_through {
            self.durable_through = durable;
            if self.role == Role::Leader {
                self.maybe_decide();
            }
        }
    }

    /// Appends `entries` (consecutive), replacing any from the first one's
    /// index on; what they replace is no longer durable.
    pub(crate) fn append_log(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first().map(|e| e.index) else {
            return;
        };
        if first <= self.last_index() {
            self.durable_through = self.durable_through.min(first - 1);
            self.log_epoch += 1;
            self.forget_conf_entries_from(first);
        }
        self.note_conf_entries(&entries);
        self.log.append(entries);
    }

    /// Takes `entries` (consecutive) into the log, keeping every entry it
    /// already holds with the same term (the same entry: a term names the
    /// ballot that created it) and replacing the log only from the first
    /// that differs (Raft's log matching). A late or repeated copy of a
    /// leader's log therefore never cuts what this node accepted since.
    pub(crate) fn merge_log(&mut self, entries: Vec<Entry>) {
        let last = self.last_index();
        let keep = entries
            .iter()
            .take_while(|e| e.index <= last && self.log.term(e.index) == Ok(e.term))
            .count();
        self.append_log(drop_front(entries, keep));
    }

    /// Replaces the log with a snapshot of decided state.
    pub(crate) fn install(&mut self, snapshot: synod_protocol::Snapshot) {
        let meta = snapshot.meta.clone();
        self.log.install(snapshot);
        self.installed(&meta);
    }

    /// Replaces the log with the snapshot storage staged.
    pub(crate) fn install_staged(&mut self, meta: synod_protocol::SnapshotMeta) {
        self.log.install_staged(meta.clone());
        self.installed(&meta);
    }

    fn installed(&mut self, meta: &synod_protocol::SnapshotMeta) {
        let at = meta.index;
        self.durable_through = self.durable_through.min(at);
        self.log_epoch += 1;
        self.decided = self.decided.max(at);
        self.applying = self.applying.max(at);
        self.take_snapshot_conf(at, &meta.conf_state);
    }

    /// Hands back an entry buffer [`PaxosNode::ready`] handed out (the
    /// committed entries once applied): the node fills it next time
    /// instead of allocating. Optional; what it still holds is dropped. A
    /// node keeps a few buffers of at most 16 KiB each.
    pub fn reuse_entries(&mut self, buffer: Vec<Entry>) {
        self.log.reuse_entries(buffer);
    }

    /// Hands back a message buffer [`PaxosNode::ready`] handed out (its
    /// messages, or those the write released) once sent, as
    /// [`PaxosNode::reuse_entries`] does for entries.
    pub fn reuse_messages(&mut self, buffer: Vec<Message>) {
        self.spare_msgs.give(buffer);
    }

    /// The state machine applied everything through `index`.
    pub fn on_applied(&mut self, index: Index) {
        self.applied = self.applied.max(index.min(self.applying));
        self.prune_conf_history();
    }

    /// A linearizable read as leader: the id comes back in a ready's reads
    /// once a quorum confirmed the ballot; `None` when this node does not
    /// lead.
    pub fn read_index(&mut self) -> Option<ReadId> {
        if self.role != Role::Leader {
            return None;
        }
        #[allow(unused_mut)]
        let mut index = self.last_index();
        #[cfg(feature = "mutations")]
        if self.mutated(crate::mutation::Mutation::ReadAtDecidedIndex) {
            index = self.decided;
        }
        let id = self.reads.start(index);
        let me = self.id();
        let alone = self.is_quorum(self.q2(), |p| p == me);
        if alone || (self.config.lease_reads && self.lease.leader_holds(self.now)) {
            self.reads.confirm_all();
        } else {
            self.appends_due = true;
        }
        Some(id)
    }

    /// Reads started on this leader and not yet confirmed by a quorum
    /// round (for tests).
    #[must_use]
    pub fn pending_reads(&self) -> usize {
        self.reads.pending()
    }
}

/// `entries` without its first `n`: the same `Vec` (moved, not copied)
/// when `n` is 0, as it is for every accept in the steady state.
pub(crate) fn drop_front<T>(mut entries: Vec<T>, n: usize) -> Vec<T> {
    if n > 0 {
        entries.drain(..n.min(entries.len()));
    }
    entries
}
