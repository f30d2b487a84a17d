//! Reconfiguration in the same log: membership changes are entries
//! (`Payload::ConfChange`). A change that alters one voter at most applies
//! directly, as Raft's single-server changes (thesis §4.1): every majority
//! of the old voters meets every majority of the new. A change of several
//! voters at once passes through a joint configuration (Raft §6): while
//! it is in force, phase 1, phase 2, read rounds and leases need a
//! majority of the new voters *and* a majority of the old, and the leader
//! leaves it with an empty change once it is decided. As in Raft, a node
//! uses the latest change in its log from the moment it holds it, decided
//! or not (and the one before again if that entry is replaced): then a
//! candidate's own log names the voters it must win, and after adopting a
//! log with a newer change it counts its promises again among the new
//! voters. (Taking effect only when decided is not safe with lazily
//! learned decisions: a node two changes behind would count a quorum of
//! voters no longer current; the simulator found it, safety seed 1003646
//! and four others in 20,000.) A new change is taken only once the
//! previous one is decided and the leader has decided an entry of its own
//! ballot (the fix to the single-server bug reported on raft-dev in 2015).
//! Flexible quorum sizes are fixed numbers, not majorities, so a cluster
//! configured with them refuses membership changes.
//!
//! A change that only adds or removes learners never touches a quorum. New
//! nodes join as learners: a change that makes voters of nodes that are
//! not members first proposes them as learners, and the leader proposes
//! the change itself once that is decided and they hold every decided
//! entry. A leader that removes itself leads until the change is decided
//! (not counting itself; through the joint configuration, until it is
//! left), tells the acceptors, and steps down.
//!
//! A snapshot records the members in force at its own index
//! (`conf_state`, the outgoing voters of a joint configuration included),
//! so a restarted node replays the changes after it.

use synod_protocol::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, Index, NodeId, Payload,
    StopSign, Storage,
};

use crate::ballot::MAX_NODE_ID;
use crate::error::Error;
use crate::leader::ProposeError;
use crate::node::{PaxosNode, Role};

/// Voters and learners, sorted, disjoint; in a joint configuration also
/// the outgoing voters, which must agree too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Members {
    pub(crate) voters: Vec<NodeId>,
    /// The voters before a change of several: non-empty only while the
    /// joint configuration is in force.
    pub(crate) outgoing: Vec<NodeId>,
    pub(crate) learners: Vec<NodeId>,
    /// Entered by a stop-sign not known decided yet: the joint
    /// configuration (if the voters change) is left, and proposals resume,
    /// once the stop-sign is decided, without another entry.
    pub(crate) stop_sign: bool,
}

impl Members {
    pub(crate) fn from_conf_state(cs: &ConfState) -> Self {
        let sorted = |list: &[NodeId]| {
            let mut list = list.to_vec();
            list.sort_unstable();
            list.dedup();
            list
        };
        let voters = sorted(&cs.voters);
        let outgoing = sorted(&cs.voters_outgoing);
        let learners = sorted(&cs.learners)
            .into_iter()
            .filter(|l| voters.binary_search(l).is_err() && outgoing.binary_search(l).is_err())
            .collect();
        Self {
            voters,
            outgoing,
            learners,
            stop_sign: false,
        }
    }

    /// A voter of the configuration in force (the new or, while joint, the
    /// outgoing one).
    fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok() || self.outgoing.binary_search(&id).is_ok()
    }

    /// Voters added or removed going from these members to `next`.
    fn voters_changed(&self, next: &Self) -> usize {
        let added = next
            .voters
            .iter()
            .filter(|v| self.voters.binary_search(v).is_err())
            .count();
        let removed = self
            .voters
            .iter()
            .filter(|v| next.voters.binary_search(v).is_err())
            .count();
        added + removed
    }

    fn is_learner(&self, id: NodeId) -> bool {
        self.learners.binary_search(&id).is_ok()
    }

    fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// The members after `cc`, or why it is invalid against these. An
    /// empty change leaves a joint configuration; a change of several
    /// voters enters one.
    pub(crate) fn apply(&self, cc: &ConfChange) -> Result<Self, &'static str> {
        if cc.changes.is_empty() {
            if self.outgoing.is_empty() {
                return Err("no changes");
            }
            return Ok(Self {
                outgoing: Vec::new(),
                ..self.clone()
            });
        }
        if !self.outgoing.is_empty() {
            return Err("a joint configuration is in force (its leader leaves it first)");
        }
        let mut next = self.clone();
        next.stop_sign = false;
        for &ConfChangeSingle { kind, node } in &cc.changes {
            if node == 0 || node > MAX_NODE_ID {
                return Err("a node id outside 1 to 2^24 - 1");
            }
            let insert = |list: &mut Vec<NodeId>| {
                if let Err(at) = list.binary_search(&node) {
                    list.insert(at, node);
                }
            };
            let remove = |list: &mut Vec<NodeId>| list.retain(|&n| n != node);
            match kind {
                ConfChangeKind::AddVoter => {
                    if next.is_voter(node) {
                        return Err("already a voter");
                    }
                    remove(&mut next.learners);
                    insert(&mut next.voters);
                }
                ConfChangeKind::AddLearner => {
                    if next.is_voter(node) {
                        return Err("demoting a voter to a learner is refused");
                    }
                    if next.is_learner(node) {
                        return Err("already a learner");
                    }
                    insert(&mut next.learners);
                }
                ConfChangeKind::Remove => {
                    if !next.is_voter(node) && !next.is_learner(node) {
                        return Err("not a member");
                    }
                    remove(&mut next.voters);
                    remove(&mut next.learners);
                }
            }
        }
        if next.voters.is_empty() {
            return Err("no voters left");
        }
        if self.voters_changed(&next) > 1 {
            // Raft §6: the old voters keep a say until the joint
            // configuration is left.
            next.outgoing = self.voters.clone();
        }
        Ok(next)
    }

    /// The members after stop-sign `ss`, or why it is invalid against
    /// these. It names the next configuration whole; if its voters differ
    /// from these, the joint configuration of both is in force until the
    /// stop-sign is decided (then the next voters alone, with no leave
    /// entry: every node that counts a quorum once it holds the stop-sign
    /// counts a majority of the next voters, decided or not).
    pub(crate) fn stop_sign(&self, ss: &StopSign) -> Result<Self, &'static str> {
        if !self.outgoing.is_empty() {
            return Err("a joint configuration is in force (its leader leaves it first)");
        }
        let sorted = |list: &[NodeId]| -> Result<Vec<NodeId>, &'static str> {
            let mut list = list.to_vec();
            list.sort_unstable();
            let len = list.len();
            list.dedup();
            if list.len() != len {
                return Err("a node named twice in a stop-sign");
            }
            if list.iter().any(|&n| n == 0 || n > MAX_NODE_ID) {
                return Err("a node id outside 1 to 2^24 - 1");
            }
            Ok(list)
        };
        let voters = sorted(&ss.voters)?;
        let learners = sorted(&ss.learners)?;
        if voters.is_empty() {
            return Err("no voters left");
        }
        if learners.iter().any(|l| voters.binary_search(l).is_ok()) {
            return Err("a node named twice in a stop-sign");
        }
        let outgoing = if voters == self.voters {
            Vec::new()
        } else {
            self.voters.clone()
        };
        Ok(Self {
            voters,
            outgoing,
            learners,
            stop_sign: true,
        })
    }

    /// These members once their stop-sign is decided: the next
    /// configuration alone.
    fn settled(&self) -> Self {
        Self {
            outgoing: Vec::new(),
            stop_sign: false,
            ..self.clone()
        }
    }

    pub(crate) fn to_conf_state(&self) -> ConfState {
        ConfState {
            voters: self.voters.clone(),
            voters_outgoing: self.outgoing.clone(),
            learners: self.learners.clone(),
        }
    }
}

/// What a leader proposes once the new nodes it makes voters, learners
/// for now, have caught up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Promotion {
    Change(ConfChange),
    StopSign(StopSign),
}

impl Promotion {
    /// The nodes it makes voters.
    fn new_voters(&self) -> impl Iterator<Item = NodeId> + '_ {
        let (changes, stop) = match self {
            Self::Change(cc) => (&cc.changes[..], &[][..]),
            Self::StopSign(ss) => (&[][..], &ss.voters[..]),
        };
        changes
            .iter()
            .filter(|c| c.kind == ConfChangeKind::AddVoter)
            .map(|c| c.node)
            .chain(stop.iter().copied())
    }

    /// The members after it, or why it is invalid against `m`.
    fn members_after(&self, m: &Members) -> Result<Members, &'static str> {
        match self {
            Self::Change(cc) => m.apply(cc),
            Self::StopSign(ss) => m.stop_sign(ss),
        }
    }

    fn into_payload(self) -> Payload {
        match self {
            Self::Change(cc) => Payload::ConfChange(cc),
            Self::StopSign(ss) => Payload::StopSign(Box::new(ss)),
        }
    }
}

/// The change that adds `nodes` as learners.
fn learners_change(nodes: &[NodeId]) -> ConfChange {
    ConfChange {
        changes: nodes
            .iter()
            .map(|&node| ConfChangeSingle {
                kind: ConfChangeKind::AddLearner,
                node,
            })
            .collect(),
    }
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// The members in force now (the latest change in the log, decided or
    /// not).
    pub(crate) fn members(&self) -> Members {
        Members {
            voters: self.voters.clone(),
            outgoing: self.outgoing.clone(),
            learners: self.learners.clone(),
            stop_sign: self.stopping,
        }
    }

    /// Whether `id` may send this node messages.
    pub(crate) fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.binary_search(&id).is_ok()
    }

    /// A voter of the configuration in force: the new voters or, while a
    /// joint configuration is, the outgoing ones.
    pub(crate) fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok() || self.outgoing.binary_search(&id).is_ok()
    }

    fn is_learner(&self, id: NodeId) -> bool {
        self.learners.binary_search(&id).is_ok()
    }

    /// Sets the members (and the peers: every other member).
    pub(crate) fn set_members(&mut self, m: Members) {
        let me = self.id();
        let mut peers: Vec<NodeId> = m
            .voters
            .iter()
            .chain(&m.outgoing)
            .chain(&m.learners)
            .copied()
            .filter(|&p| p != me)
            .collect();
        peers.sort_unstable();
        peers.dedup();
        self.voters = m.voters;
        self.outgoing = m.outgoing;
        self.learners = m.learners;
        self.stopping = m.stop_sign;
        self.progress.retain(|p, _| peers.binary_search(p).is_ok());
        self.peers = peers;
    }

    /// The membership changes among `entries` (just appended after any
    /// replaced) take effect now.
    pub(crate) fn note_conf_entries(&mut self, entries: &[Entry]) {
        for e in entries {
            let next = match &e.payload {
                Payload::ConfChange(_) | Payload::StopSign(_) if e.index > 1 => {
                    // A change after a stop-sign was proposed once the
                    // stop-sign was decided: settle it first, as every
                    // node that holds both does.
                    self.settle_stop_sign_at(Index::MAX);
                    match &e.payload {
                        Payload::ConfChange(cc) => self.members().apply(cc),
                        #[cfg(feature = "mutations")]
                        Payload::StopSign(ss)
                            if self.mutated(crate::mutation::Mutation::StopSignSkipsJoint) =>
                        {
                            self.members().stop_sign(ss).map(|mut m| {
                                m.outgoing.clear();
                                m
                            })
                        }
                        Payload::StopSign(ss) => self.members().stop_sign(ss),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            // An invalid change is skipped, identically on every node
            // (each applies the same log to the same members).
            if let Ok(next) = next {
                self.conf_history.push((e.index, next.clone()));
                self.set_members(next);
            }
        }
        self.settle_stop_sign_at(self.decided);
    }

    /// Whether a stop-sign is in force, not yet settled, at or before
    /// `decided`.
    #[inline(always)]
    fn stop_sign_settles_at(&self, decided: Index) -> bool {
        // `stopping` mirrors the last record's flag: one load on the hot
        // path (every append and every decision).
        self.stopping && self.stop_sign_at_or_before(decided)
    }

    #[cold]
    #[inline(never)]
    fn stop_sign_at_or_before(&self, decided: Index) -> bool {
        self.conf_history
            .last()
            .is_some_and(|(at, m)| m.stop_sign && *at <= decided)
    }

    /// The stop-sign in force, if it sits at or before `decided`, is
    /// decided: its next configuration alone takes over (a second record
    /// at the same index, so the history says so for snapshots).
    #[inline(always)]
    fn settle_stop_sign_at(&mut self, decided: Index) {
        if self.stop_sign_settles_at(decided) {
            self.settle_stop_sign();
        }
    }

    #[cold]
    #[inline(never)]
    fn settle_stop_sign(&mut self) {
        if let Some((at, m)) = self.conf_history.last() {
            let (at, next) = (*at, m.settled());
            self.conf_history.push((at, next.clone()));
            self.set_members(next);
        }
    }

    /// Entries from `first` on were replaced: so were the changes among
    /// them.
    pub(crate) fn forget_conf_entries_from(&mut self, first: Index) {
        let before = self.conf_history.len();
        self.conf_history.retain(|(at, _)| *at < first);
        if self.conf_history.len() != before
            && let Some((_, m)) = self.conf_history.last().cloned()
        {
            self.set_members(m);
        }
    }

    /// A change in the log is not decided yet.
    pub(crate) fn change_pending(&self) -> bool {
        self.conf_history
            .last()
            .is_some_and(|(at, _)| *at > self.decided)
    }

    /// Raises the decided index to `target`. A leader that removed itself
    /// leaves once that change is decided, after telling the acceptors.
    pub(crate) fn raise_decided(&mut self, target: Index) {
        if target <= self.decided {
            return;
        }
        self.decided = target;
        if self.role == Role::Leader && self.stop_sign_settles_at(target) {
            // Tell every member of the joint configuration, the old voters
            // it leaves out included, before they stop being peers: a
            // removed voter that never learns it would stay in the joint
            // configuration and could campaign.
            let _ = self.flush_appends_now();
        }
        self.settle_stop_sign_at(target);
        if self.role == Role::Leader && !self.is_voter(self.id()) && !self.change_pending() {
            let _ = self.flush_appends_now();
            self.step_down();
        }
    }

    /// Switches to the membership of an installed snapshot.
    pub(crate) fn take_snapshot_conf(&mut self, at: Index, cs: &ConfState) {
        let members = Members::from_conf_state(cs);
        self.conf_history.clear();
        self.conf_history.push((at, members.clone()));
        self.set_members(members);
        if !self.is_voter(self.id()) {
            self.step_down();
        }
    }

    /// The members in force at `index` (for a snapshot taken there).
    pub(crate) fn members_at(&self, index: Index) -> Members {
        self.conf_history
            .iter()
            .rev()
            .find(|(at, _)| *at <= index)
            .or(self.conf_history.first())
            .map_or_else(|| self.members(), |(_, m)| m.clone())
    }

    /// Proposes a stop-sign as leader: the configuration in force ends
    /// with it and the one it names (voters and learners, whole) continues
    /// the same log. Nodes it makes voters that are not members are
    /// proposed as learners first, and the stop-sign once that is decided
    /// and they hold every decided entry. From the moment it is in the log
    /// until it is decided, proposals are refused
    /// ([`ProposeError::Stopped`]) and, when the voters change, the old
    /// voters and the new must both agree (a joint configuration); once
    /// it is decided the next voters alone decide, with no further entry,
    /// and a leader it leaves out steps down. Returns the index and term
    /// of the entry appended (the learners' change when there is one).
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`], [`ProposeError::Transferring`], or
    /// [`ProposeError::Membership`] when another change is in progress,
    /// this leader has not decided an entry of its ballot yet, phase quorum
    /// sizes are configured, or the stop-sign is invalid (no voters, a
    /// node id out of range, a node named twice).
    pub fn propose_stop_sign(&mut self, ss: StopSign) -> Result<(Index, u64), ProposeError> {
        self.propose_reconfiguration(Promotion::StopSign(ss))
    }

    /// Whether a leader may start a membership change or a stop-sign now.
    fn check_can_reconfigure(&self) -> Result<(), ProposeError> {
        let refuse = |why| Err(ProposeError::Membership(why));
        if self.config.phase1_quorum.is_some() || self.config.phase2_quorum.is_some() {
            return refuse("membership changes need majority quorums (phase quorum sizes are set)");
        }
        if self.change_pending() || self.promotion.is_some() {
            return refuse("another membership change is in progress");
        }
        if self.decided < self.ballot_start {
            return refuse("this leader has not decided an entry of its ballot yet");
        }
        Ok(())
    }

    /// Proposes a membership change as leader. Nodes the change makes
    /// voters that are not members are proposed as learners first; the
    /// leader proposes the change itself once that is decided and they
    /// hold every decided entry. A change of several voters enters a joint
    /// configuration, which the leader leaves on its own once it is
    /// decided (an empty change leaves it too). Returns the index and term
    /// of the entry appended.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`], [`ProposeError::Transferring`], or
    /// [`ProposeError::Membership`] when another change is in progress (a
    /// joint configuration not yet left included), this leader has not
    /// decided an entry of its ballot yet, phase quorum sizes are
    /// configured, or the change is invalid (empty outside a joint
    /// configuration, a node id out of range, no voters left, demoting a
    /// voter, adding a member again, removing a non-member).
    pub fn change_membership(&mut self, cc: ConfChange) -> Result<(Index, u64), ProposeError> {
        self.propose_reconfiguration(Promotion::Change(cc))
    }

    /// Proposes a change or a stop-sign, its new voters as learners first
    /// when there are any: they catch up before the change or stop-sign
    /// itself, which must be valid once they are learners.
    fn propose_reconfiguration(&mut self, next: Promotion) -> Result<(Index, u64), ProposeError> {
        self.check_can_propose()?;
        self.check_can_reconfigure()?;
        let current = self.members();
        let mut joining: Vec<NodeId> = next
            .new_voters()
            .filter(|&v| !current.is_member(v))
            .collect();
        joining.sort_unstable();
        joining.dedup();
        if joining.is_empty() {
            next.members_after(&current)
                .map_err(ProposeError::Membership)?;
            return Ok(self.append_own(next.into_payload()));
        }
        let learners = learners_change(&joining);
        current
            .apply(&learners)
            .and_then(|m| next.members_after(&m))
            .map_err(ProposeError::Membership)?;
        let at = self.append_own(Payload::ConfChange(learners));
        self.promotion = Some(next);
        Ok(at)
    }

    /// Appends an entry of this leader's ballot; its index and term.
    pub(crate) fn append_own(&mut self, payload: Payload) -> (Index, u64) {
        let index = self.last_index() + 1;
        self.append_log(vec![Entry {
            term: self.promised.0,
            index,
            payload,
        }]);
        self.appends_due = true;
        (index, self.promised.0)
    }

    /// As leader, once the last change is decided: leaves a joint
    /// configuration (Raft §6), or proposes the change waiting for its new
    /// learners once each holds every decided entry.
    pub(crate) fn advance_membership(&mut self) {
        if self.role != Role::Leader {
            self.promotion = None; // leadership lost
            return;
        }
        if self.change_pending() || self.transfer.is_some() || self.decided < self.ballot_start {
            return;
        }
        if !self.outgoing.is_empty() {
            self.append_own(Payload::ConfChange(ConfChange {
                changes: Vec::new(),
            }));
            return;
        }
        let Some(promotion) = &self.promotion else {
            return;
        };
        if promotion.members_after(&self.members()).is_err() {
            self.promotion = None; // a learner removed meanwhile
            return;
        }
        let caught_up = promotion
            .new_voters()
            .filter(|&v| self.is_learner(v))
            .all(|v| {
                self.progress
                    .get(&v)
                    .is_some_and(|p| p.matched >= self.decided)
            });
        if caught_up && let Some(promotion) = self.promotion.take() {
            self.append_own(promotion.into_payload());
        }
    }

    /// The configuration history kept: the one in force at the applied
    /// index and any later.
    pub(crate) fn prune_conf_history(&mut self) {
        let applied = self.applied;
        let keep_from = self
            .conf_history
            .iter()
            .rposition(|(at, _)| *at <= applied)
            .unwrap_or(0);
        if keep_from > 0 {
            self.conf_history.drain(..keep_from);
        }
    }

    /// Takes, on start, the membership changes in the log after the
    /// snapshot.
    pub(crate) fn replay_conf_entries(&mut self, from: Index) -> Result<(), Error> {
        let last = self.last_index();
        let mut lo = from;
        while lo <= last {
            let batch = self.log.entries(lo, last, 4 << 20)?;
            let Some(end) = batch.last().map(|e| e.index) else {
                break;
            };
            self.note_conf_entries(&batch);
            lo = end + 1;
        }
        Ok(())
    }
}
