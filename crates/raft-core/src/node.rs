//! The Raft node: roles, terms, the tick and step entry points.
//! Elections live in `election.rs`, replication in `replication.rs`, the
//! hand-off to the application in `ready.rs`.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::config::Config;
use crate::error::{DropReason, Error};
use crate::log::RaftLog;
use crate::membership::Membership;
use crate::message::{Message, MessageBody};
use crate::progress::Progress;
use crate::storage::Storage;
use crate::types::{ConfState, Entry, HardState, Index, NO_NODE, NodeId, Payload, Term};

/// A node's role (Raft §5.1, plus the pre-vote phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// Follows a leader, or waits for one.
    Follower,
    /// Asking whether it would win before starting an election.
    PreCandidate,
    /// Campaigning in its term.
    Candidate,
    /// Leading its term.
    Leader,
}

/// What is volatile and worth reporting: who leads, and this node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SoftState {
    /// The leader this node knows of.
    pub leader: Option<NodeId>,
    /// This node's role.
    pub role: Role,
}

/// What became of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposal {
    /// Appended to the leader's log at `index` in `term`; it is committed
    /// if an entry with this index *and term* is applied (a different term
    /// there means it was lost to a leader change).
    Appended {
        /// Its log index.
        index: Index,
        /// The leader's term.
        term: Term,
    },
    /// Forwarded to the leader (with `forward_proposals`); its fate is not
    /// reported.
    Forwarded {
        /// The leader it went to.
        leader: NodeId,
    },
}

/// A snapshot of a node's state for monitoring and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Its term.
    pub term: Term,
    /// Its vote in that term.
    pub vote: Option<NodeId>,
    /// Its role.
    pub role: Role,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// The commit index.
    pub committed: Index,
    /// The applied index.
    pub applied: Index,
    /// The last index in its log.
    pub last_index: Index,
    /// As leader, every node's progress (itself included); else empty.
    pub progress: BTreeMap<NodeId, Progress>,
    /// As leader, the node leadership is being handed to.
    pub transferee: Option<NodeId>,
}

/// A Raft node: a deterministic state machine driven by [`RaftNode::tick`],
/// [`RaftNode::step`] and [`RaftNode::propose`], whose work comes out of
/// [`RaftNode::ready`]. See the crate docs for the call loop.
#[derive(Debug)]
pub struct RaftNode<S, R> {
    pub(crate) config: Config,
    pub(crate) log: RaftLog<S>,
    pub(crate) rng: R,
    pub(crate) term: Term,
    pub(crate) vote: Option<NodeId>,
    pub(crate) role: Role,
    pub(crate) leader: Option<NodeId>,
    /// Who votes and who learns, as of the last committed change handed
    /// out (a node applies a membership change when it learns it is
    /// committed).
    pub(crate) membership: Membership,
    /// Every member but this node, sorted: the addressees of a broadcast.
    /// Invariant: derived from `membership` and `log_memberships`;
    /// recomputed whenever either changes (`refresh_peer_ids`), so
    /// broadcasts never allocate.
    pub(crate) peer_ids: Vec<NodeId>,
    /// The index of the latest membership change appended and not yet
    /// handed out as committed; 0 for none. One at a time.
    pub(crate) pending_conf_index: Index,
    /// The leader's view of every node, itself included. Empty unless
    /// leader.
    pub(crate) progress: BTreeMap<NodeId, Progress>,
    /// Votes received in the current (pre-)election.
    pub(crate) votes: BTreeMap<NodeId, bool>,
    /// As a candidate or leader, the configuration after each membership
    /// change in its log that it has not applied, in log order (see
    /// `log_configs`): it must win, and then commit in, all of them as
    /// well as the applied one. Empty otherwise.
    pub(crate) log_memberships: Vec<Membership>,
    pub(crate) election_elapsed: u32,
    pub(crate) heartbeat_elapsed: u32,
    /// Invariant: in `[election_timeout, 2 * election_timeout)`.
    pub(crate) randomized_election_timeout: u32,
    /// Messages produced since the last `ready`.
    pub(crate) msgs: Vec<Message>,
    /// Message buffers handed back, to take the place of `msgs` when it
    /// is handed out.
    pub(crate) spare_msgs: synod_protocol::Spare<Message>,
    /// Persist batches handed out with a new term or vote and not yet
    /// reported persisted: while any is, a leader's messages wait.
    pub(crate) epoch_writes: u32,
    /// As leader: something changed that followers should hear of (new
    /// entries, a commit advance, a freed window). Appends go out once, at
    /// the next `ready`, so every proposal and acknowledgement between two
    /// `ready` calls shares one append per follower (see docs/raft.md,
    /// "Batching").
    pub(crate) appends_due: bool,
    /// The hard and soft state last handed out in a `Ready`.
    pub(crate) last_hard_state: HardState,
    pub(crate) last_soft_state: SoftState,
    /// Committed entries up to here were handed out to apply.
    pub(crate) applying: Index,
    /// As leader: payload bytes proposed and not yet handed out to apply.
    pub(crate) uncommitted_bytes: u64,
    /// The index of the last leader snapshot handed out to install.
    pub(crate) snapshot_handed_out: Index,
    /// As leader: the snapshots being sent, by follower.
    pub(crate) snapshot_sends: BTreeMap<NodeId, crate::snapshot_transfer::Outgoing>,
    /// As follower: the snapshot being received from the leader.
    pub(crate) snapshot_incoming: Option<crate::snapshot_transfer::Incoming>,
    /// As follower: pieces of an incoming snapshot for storage to stage,
    /// not yet handed out (only when storage stages snapshots).
    pub(crate) staged_pieces: Vec<crate::types::SnapshotPiece>,
    /// As leader: the node leadership is being handed to.
    pub(crate) transferee: Option<NodeId>,
    /// As leader: the latest heartbeat round that confirms reads.
    pub(crate) read_round: u64,
    pub(crate) reads: crate::read::Reads,
    /// Ticks since this node started (saturating): the leader's clock for
    /// its lease.
    pub(crate) now_ticks: u64,
    /// Restarted (with a term above 0) less than an election timeout ago,
    /// and has neither heard from a leader nor campaigned since. With lease
    /// reads such a node
    /// refuses votes as if it had just heard from a leader: it may have
    /// acknowledged a leader's heartbeat just before it crashed, and that
    /// leader's lease counts on it. (So every voter of a cluster that
    /// serves lease reads must run with `ReadMode::Lease`.)
    pub(crate) fresh_start: bool,
    /// As leader: a `TimeoutNow` went out in this term, so the transferee
    /// may be elected at any moment; the lease is void for the rest of the
    /// term.
    pub(crate) handed_over: bool,
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// Starts (or restarts) a node from what `storage` holds.
    ///
    /// `rng` supplies the election-timeout randomness and the first read
    /// id; pass a seeded generator and the node's behaviour replays bit for
    /// bit. On a restart, pass a generator that does not replay an earlier
    /// start's stream (read ids must not repeat; see
    /// [`RaftNode::read_index`]).
    ///
    /// A node configured as `joining` starts with an empty configuration:
    /// it never campaigns, and waits for a leader to contact it after the
    /// cluster adds it. A stored commit index past the log (a crash between
    /// writing the hard state and its entries) is ignored: the node starts
    /// from its snapshot and `Config::applied`, and learns the commit index
    /// from the leader.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::InvalidMembership`] when the
    /// stored configuration has no voters (unless `joining`) or lists a
    /// node as both voter and learner, or a storage error (including a
    /// stored term of `u64::MAX`, after which no election is possible).
    pub fn new(config: Config, storage: S, rng: R) -> Result<Self, Error> {
        config.validate()?;
        let mut rng = rng; // draws the first read id below
        let init = storage.initial_state()?;
        let membership = Membership::from_conf_state(&init.conf_state)?;
        if membership.voters.is_empty() && !config.joining {
            return Err(Error::InvalidMembership(
                "no voters (set Config::joining for a node that waits to be added)",
            ));
        }
        let mut log = RaftLog::new(storage)?;
        // A ready hands out at most `max_size_per_msg_bytes` to apply; a
        // few readies' worth covers the entries that commit while the next
        // are being written.
        log.set_recent_limit_bytes(config.max_size_per_msg_bytes.saturating_mul(4));
        let mut hs = init.hard_state;
        if hs.term == Term::MAX {
            return Err(Error::Storage(crate::StorageError::Other(
                "stored term is u64::MAX: no later term is possible".to_string(),
            )));
        }
        let last = log.last_index()?;
        if config.applied > last {
            return Err(Error::InvalidConfig {
                field: "applied",
                reason: "is past the last index in storage",
            });
        }
        if hs.commit > last {
            // A crash between writing the hard state and the entries it
            // came with. The stored commit index cannot be trusted for any
            // entry (those under it may be older ones the lost write was
            // replacing); persisting commit is only an optimisation, so
            // start from what is certainly committed: the snapshot and what
            // the state machine applied. The leader teaches the rest.
            hs.commit = 0;
        }
        // Applied entries (and the snapshot) are committed by definition.
        log.commit_to(hs.commit.max(config.applied));
        log.applied_to(config.applied);
        let election = config.election_timeout_ticks;
        // Read ids continue from a random point, so a restarted node does
        // not reissue the ids of reads still answered by the leader.
        let first_read_id = rng.next_u64();
        let mut node = Self {
            config,
            log,
            rng,
            term: hs.term,
            vote: hs.vote,
            role: Role::Follower,
            leader: None,
            membership: Membership::default(),
            peer_ids: Vec::new(),
            pending_conf_index: 0,
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            log_memberships: Vec::new(),
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_election_timeout: election,
            msgs: Vec::new(),
            spare_msgs: synod_protocol::Spare::default(),
            epoch_writes: 0,
            appends_due: false,
            last_hard_state: hs,
            last_soft_state: SoftState {
                leader: None,
                role: Role::Follower,
            },
            applying: 0,
            uncommitted_bytes: 0,
            snapshot_handed_out: 0,
            snapshot_sends: BTreeMap::new(),
            snapshot_incoming: None,
            staged_pieces: Vec::new(),
            transferee: None,
            read_round: 0,
            reads: crate::read::Reads::starting_at(first_read_id),
            now_ticks: 0,
            // A node that never saw a term acknowledged no heartbeat: no
            // lease counts on it. (An acknowledgement that adopts a term
            // waits until the term is persisted.)
            fresh_start: hs.term > 0,
            handed_over: false,
        };
        node.set_membership(membership);
        node.applying = node.log.applied();
        if node.mutated(Mutated::ReusedReadIds) {
            node.reads.last_id = 0;
        }
        node.become_follower(hs.term, None);
        Ok(node)
    }
}

impl<S: Storage> RaftNode<S, rand::rngs::StdRng> {
    /// [`RaftNode::new`] with rand 0.10's `StdRng` seeded from `seed`:
    /// the constructor for callers who never name a generator type. The
    /// same seed replays the node's random choices bit for bit; on a
    /// restart pass a seed not used before (mix in a restart count), so
    /// read ids do not repeat.
    ///
    /// ```
    /// use synod_raft_core::{Config, MemStorage, RaftNode};
    /// let node = RaftNode::with_seed(Config::new(1), MemStorage::with_voters(&[1, 2, 3]), 7).unwrap();
    /// assert_eq!(node.id(), 1);
    /// ```
    ///
    /// # Errors
    /// As [`RaftNode::new`].
    pub fn with_seed(config: Config, storage: S, seed: u64) -> Result<Self, Error> {
        use rand::SeedableRng as _;
        Self::new(config, storage, rand::rngs::StdRng::seed_from_u64(seed))
    }
}

impl<S: Storage, R: rand::Rng> RaftNode<S, R> {
    /// This node's id.
    #[must_use]
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The current term.
    #[must_use]
    pub fn term(&self) -> Term {
        self.term
    }

    /// The current role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The leader this node knows of.
    #[must_use]
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The log, for reading.
    #[must_use]
    pub fn log(&self) -> &RaftLog<S> {
        &self.log
    }

    /// The storage, for the application's writes (entries, hard state,
    /// snapshots) between `ready` rounds.
    pub fn storage_mut(&mut self) -> &mut S {
        self.log.storage_mut()
    }

    /// Role, term, leader, commit and applied indexes, and (as leader) each
    /// node's progress.
    #[must_use]
    pub fn status(&self) -> Status {
        Status {
            id: self.id(),
            term: self.term,
            vote: self.vote,
            role: self.role,
            leader: self.leader,
            committed: self.log.committed(),
            applied: self.log.applied(),
            last_index: self.log.last_index().unwrap_or(0),
            progress: self.progress.clone(),
            transferee: self.transferee,
        }
    }

    /// The leader's view of each node; empty unless leader.
    #[must_use]
    pub fn progress(&self) -> &BTreeMap<NodeId, Progress> {
        &self.progress
    }

    /// Advances time by one tick: followers and candidates count toward an
    /// election, leaders toward a heartbeat and a check-quorum round.
    ///
    /// Call it from a timer at a fixed wall-clock period a little above
    /// the network round trip plus a disk sync: 10 ms on one machine or a
    /// LAN (with the default 10-tick election timeout, elections after
    /// 100-200 ms), 50-100 ms across regions (crate docs, "How long is a
    /// tick?").
    pub fn tick(&mut self) {
        self.now_ticks = self.now_ticks.saturating_add(1);
        if self.role == Role::Leader {
            self.tick_leader();
        } else {
            self.tick_election();
        }
    }

    /// Starts an election now (with a pre-vote round if configured),
    /// unless this node is a leader or not a voter.
    pub fn campaign(&mut self) {
        if self.role != Role::Leader && self.is_voter(self.id()) {
            self.start_election(self.config.pre_vote, false);
        }
    }

    /// Proposes `data` as a new entry. The leader appends it; a follower
    /// forwards it to the leader when `forward_proposals` is on.
    ///
    /// `data` becomes a shared [`Bytes`] buffer (a `Vec<u8>` converts
    /// without copying): the node never copies it again. The followers'
    /// appends go out at the next [`RaftNode::ready`], one per follower
    /// for everything proposed since the previous one.
    ///
    /// # Errors
    /// [`Error::ProposalDropped`]: not the leader (and not forwarding, or no
    /// leader known), empty, above `max_proposal_bytes`, over
    /// `max_uncommitted_bytes` outstanding, or a leadership transfer is on.
    pub fn propose(&mut self, data: impl Into<Bytes>) -> Result<Proposal, Error> {
        self.propose_bytes(data.into())
    }

    fn propose_bytes(&mut self, data: Bytes) -> Result<Proposal, Error> {
        let drop = |r| Err(Error::ProposalDropped(r));
        if data.is_empty() {
            return drop(DropReason::Empty);
        }
        if self.role != Role::Leader {
            return match self.leader {
                Some(leader) if self.config.forward_proposals => {
                    self.send(leader, MessageBody::Propose { data });
                    Ok(Proposal::Forwarded { leader })
                }
                leader => drop(DropReason::NotLeader { leader }),
            };
        }
        if let Some(to) = self.transferee {
            return drop(DropReason::Transferring { to });
        }
        let bytes = data.len() as u64;
        if bytes > self.config.max_proposal_bytes {
            return drop(DropReason::TooLarge {
                bytes,
                limit: self.config.max_proposal_bytes,
            });
        }
        // Back-pressure; a lone proposal always fits, however large.
        let limit = self.config.max_uncommitted_bytes;
        if self.uncommitted_bytes > 0 && self.uncommitted_bytes.saturating_add(bytes) > limit {
            return drop(DropReason::UncommittedLimit {
                uncommitted: self.uncommitted_bytes,
                limit,
            });
        }
        let index = self.append_entry(Payload::Command(data))?;
        self.uncommitted_bytes = self.uncommitted_bytes.saturating_add(bytes);
        self.broadcast_append();
        Ok(Proposal::Appended {
            index,
            term: self.term,
        })
    }

    /// Handles a message from another node.
    ///
    /// # Errors
    /// [`Error::WrongRecipient`] or [`Error::UnknownPeer`] (the message is
    /// ignored), [`Error::Malformed`] (ignored), or a storage error.
    pub fn step(&mut self, msg: Message) -> Result<(), Error> {
        if msg.to != self.id() {
            return Err(Error::WrongRecipient {
                to: msg.to,
                me: self.id(),
            });
        }
        if msg.from == NO_NODE {
            // 0 means "no node": it can neither lead nor be answered.
            return Err(Error::UnknownPeer(NO_NODE));
        }
        if let Some(why) = msg.malformation() {
            return Err(Error::Malformed(why));
        }
        let from_leader = matches!(
            msg.body,
            MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot(_)
                | MessageBody::TimeoutNow
        );
        // A leader may not be in our configuration yet (we are joining, or
        // have not applied the change that added it), and neither may a
        // candidate; a stale leader may have been removed (it is told of
        // our term, below, and steps down); anything else from a stranger
        // is ignored.
        // A candidate or leader also counts the members of the
        // configurations its log leads to (`log_memberships`).
        let known = self.membership.is_member(msg.from)
            || from_leader
            || self.in_log_configs(msg.from)
            || self.stranger_may_ask_for_votes(&msg)?;
        if msg.from == self.id() || !known {
            return Err(Error::UnknownPeer(msg.from));
        }
        if !self.step_term(&msg)? {
            return Ok(());
        }
        let from_leader = matches!(
            msg.body,
            MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot(_)
        );
        if from_leader && self.role == Role::Leader {
            // Raft §5.2 allows one leader per term; a second is a forgery.
            return Err(Error::Malformed("append from another leader of this term"));
        }
        match msg.body {
            MessageBody::VoteRequest {
                pre_vote,
                last_index,
                last_term,
                ..
            } => self.on_vote_request(msg.from, msg.term, pre_vote, last_index, last_term),
            MessageBody::TimeoutNow => {
                self.on_timeout_now(msg.from);
                Ok(())
            }
            MessageBody::VoteResponse { pre_vote, granted } => {
                self.on_vote_response(msg.from, pre_vote, granted);
                Ok(())
            }
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                self.follow(msg.term, msg.from);
                self.on_append(msg.from, prev_index, prev_term, entries, commit)
            }
            MessageBody::Heartbeat {
                commit,
                read_round,
                sent_at_tick,
            } => {
                self.follow(msg.term, msg.from);
                self.on_heartbeat(msg.from, commit, read_round, sent_at_tick);
                Ok(())
            }
            MessageBody::Propose { data } => {
                // Forwarded proposals are best effort: a refusal is dropped.
                if self.role == Role::Leader {
                    let _ = self.propose_bytes(data);
                }
                Ok(())
            }
            MessageBody::ReadIndex { id } => {
                self.on_read_index(msg.from, id);
                Ok(())
            }
            MessageBody::ReadIndexResponse { id, index } => {
                self.on_read_index_response(msg.from, id, index);
                Ok(())
            }
            MessageBody::InstallSnapshot(chunk) => {
                self.follow(msg.term, msg.from);
                self.on_snapshot_chunk(msg.from, *chunk)
            }
            MessageBody::SnapshotAck {
                index,
                received,
                gap,
            } => {
                self.on_snapshot_ack(msg.from, index, received, gap);
                Ok(())
            }
            MessageBody::AppendResponse(result) => self.on_append_response(msg.from, result),
            MessageBody::HeartbeatResponse {
                read_round,
                sent_at_tick,
            } => self.on_heartbeat_response(msg.from, read_round, sent_at_tick),
        }
    }

    /// Whether a vote request from a node outside our configuration is
    /// heard. It is when the candidate's log is at least as up to date as
    /// ours: a voter that missed the entry adding the candidate must still
    /// be able to elect it, or a configuration whose removed leader held
    /// the longest log can be left with no electable node (etcd raft
    /// answers every vote request for the same reason). A stranger whose
    /// log is behind could never get our vote, so its request is ignored
    /// and its term never adopted: a removed node that missed its removal
    /// cannot disrupt the cluster it left. Leader stickiness still applies
    /// to the requests that are heard.
    fn stranger_may_ask_for_votes(&self, msg: &Message) -> Result<bool, Error> {
        match msg.body {
            MessageBody::VoteRequest {
                last_index,
                last_term,
                ..
            } if msg.term >= self.term => Ok(self.log.is_up_to_date(last_index, last_term)?),
            _ => Ok(false),
        }
    }

    /// Compares the message's term with ours (Raft §5.1: a higher term
    /// makes us follow it; a lower one is stale). Returns whether to go on
    /// handling the message.
    fn step_term(&mut self, msg: &Message) -> Result<bool, Error> {
        use MessageBody::*;
        if msg.term > self.term {
            match msg.body {
                VoteRequest {
                    pre_vote, transfer, ..
                } => {
                    // Leader stickiness (Raft §6, check-quorum): a node that
                    // heard from a leader within the election timeout
                    // ignores vote requests, unless that leader handed over.
                    if self.in_lease() && !transfer && !self.mutated(Mutated::NoLeaderStickiness) {
                        return Ok(false);
                    }
                    if !pre_vote {
                        // Raft Figure 2: only granting the vote (or hearing
                        // from a leader) restarts the election clock. A
                        // candidate with a stale log must not hold back,
                        // term after term, the node that could win.
                        let (elapsed, timeout) =
                            (self.election_elapsed, self.randomized_election_timeout);
                        self.become_follower(msg.term, None);
                        self.election_elapsed = elapsed;
                        self.randomized_election_timeout = timeout;
                    }
                }
                // A granted pre-vote carries the term we would campaign in.
                VoteResponse {
                    pre_vote: true,
                    granted: true,
                } => {}
                Append { .. } | Heartbeat { .. } | InstallSnapshot(_) => {
                    self.become_follower(msg.term, Some(msg.from));
                }
                _ => self.become_follower(msg.term, None),
            }
            return Ok(true);
        }
        if msg.term < self.term {
            match msg.body {
                // Tell a stale leader about the newer term so it steps down;
                // needed when pre-vote or check-quorum keep our term from
                // reaching it through a vote request.
                Append { .. } | Heartbeat { .. } | InstallSnapshot(_) => {
                    let body = HeartbeatResponse {
                        read_round: 0,
                        sent_at_tick: 0,
                    };
                    self.send(msg.from, body);
                }
                VoteRequest { pre_vote: true, .. } => self.send(
                    msg.from,
                    VoteResponse {
                        pre_vote: true,
                        granted: false,
                    },
                ),
                _ => {}
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// Within the election timeout of hearing from a leader, with
    /// check-quorum on.
    ///
    /// This is the voters' half of the leader's lease: a leader counts on
    /// every voter that acknowledged its heartbeat refusing votes for an
    /// election timeout after receiving it (`docs/raft.md`, "Lease reads").
    fn in_lease(&self) -> bool {
        let fresh = self.fresh_start && self.config.read_mode == crate::config::ReadMode::Lease;
        self.config.check_quorum
            && (self.leader.is_some() || fresh)
            && self.election_elapsed < self.config.election_timeout_ticks
    }

    /// A candidate or follower hearing from the leader of its term.
    fn follow(&mut self, term: Term, leader: NodeId) {
        if self.role != Role::Follower || self.leader != Some(leader) {
            self.become_follower(term, Some(leader));
        }
        self.fresh_start = false;
        self.election_elapsed = 0;
    }

    pub(crate) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.vote = None;
        }
        self.role = Role::Follower;
        self.leader = leader;
        self.uncommitted_bytes = 0;
        self.transferee = None;
        self.handed_over = false;
        self.reads.clear_leader_state();
        self.appends_due = false;
        self.reset_timers();
        self.progress.clear();
        self.snapshot_sends.clear();
        self.votes.clear();
        if !self.log_memberships.is_empty() {
            self.log_memberships.clear();
            self.refresh_peer_ids();
        }
    }

    pub(crate) fn reset_timers(&mut self) {
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        let base = self.config.election_timeout_ticks;
        self.randomized_election_timeout = base + (self.rng.next_u64() % u64::from(base)) as u32;
    }

    /// Whether a test-only mutation is on (always false in real builds).
    #[cfg(feature = "mutations")]
    pub(crate) fn mutated(&self, m: crate::mutation::Mutation) -> bool {
        self.config.mutation == Some(m)
    }

    /// Whether a test-only mutation is on (always false in real builds).
    #[cfg(not(feature = "mutations"))]
    #[inline]
    pub(crate) fn mutated(&self, _: Mutated) -> bool {
        false
    }

    pub(crate) fn is_voter(&self, id: NodeId) -> bool {
        self.membership.is_voter(id)
    }

    /// Switches to `membership` and recomputes the peer list from it.
    pub(crate) fn set_membership(&mut self, membership: Membership) {
        self.membership = membership;
        self.forget_applied_log_configs();
        self.refresh_peer_ids();
    }

    /// Recomputes the peer list: every member of the applied configuration
    /// and of those pending in the log, but this node.
    pub(crate) fn refresh_peer_ids(&mut self) {
        let me = self.id();
        let all = self.all_members();
        self.peer_ids.clear();
        self.peer_ids.extend(all.into_iter().filter(|&id| id != me));
    }

    /// The configuration as of the last membership change applied: store
    /// it with snapshots.
    #[must_use]
    pub fn conf_state(&self) -> ConfState {
        self.membership.to_conf_state()
    }

    pub(crate) fn send(&mut self, to: NodeId, body: MessageBody) {
        let term = self.term;
        self.send_with_term(to, term, body);
    }

    pub(crate) fn send_with_term(&mut self, to: NodeId, term: Term, body: MessageBody) {
        self.msgs.push(Message {
            from: self.id(),
            to,
            term,
            body,
        });
    }

    /// Appends one entry of this leader's term; returns its index.
    pub(crate) fn append_entry(&mut self, payload: Payload) -> Result<Index, Error> {
        // Every index must leave room for one more (`committed + 1` and
        // friends); the log is full one short of u64::MAX.
        let index = self
            .log
            .last_index()?
            .checked_add(1)
            .filter(|&i| i < Index::MAX)
            .ok_or(Error::ProposalDropped(DropReason::LogFull))?;
        let entry = Entry {
            term: self.term,
            index,
            payload,
        };
        self.log.append_one(entry);
        Ok(index)
    }

    pub(crate) fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed(),
        }
    }

    pub(crate) fn soft_state(&self) -> SoftState {
        SoftState {
            leader: self.leader,
            role: self.role,
        }
    }
}

/// The mutation names, usable in `mutated(..)` calls in every build.
#[cfg(not(feature = "mutations"))]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mutated {
    CommitPreviousTermByCounting,
    SkipConsistencyCheck,
    DoubleVote,
    VoteBeforePersist,
    LeaseUntilStepDown,
    ReusedReadIds,
    NoLeaderStickiness,
}

#[cfg(feature = "mutations")]
pub(crate) use crate::mutation::Mutation as Mutated;
