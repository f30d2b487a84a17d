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
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, Index, NodeId, Payload, Storage,
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

    pub(crate) fn to_conf_state(&self) -> ConfState {
        ConfState {
            voters: self.voters.clone(),
            voters_outgoing: self.outgoing.clone(),
            learners: self.learners.clone(),
        }
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
        self.progress.retain(|p, _| peers.binary_search(p).is_ok());
        self.peers = peers;
    }

    /// The membership changes among `entries` (just appended after any
    /// replaced) take effect now.
    pub(crate) fn note_conf_entries(&mut self, entries: &[Entry]) {
        for e in entries {
            if let Payload::ConfChange(cc) = &e.payload
                && e.index > 1
                && let Ok(next) = self.members().apply(cc)
            {
                // An invalid change is skipped, identically on every node
                // (each applies the same log to the same members).
                self.conf_history.push((e.index, next.clone()));
                self.set_members(next);
            }
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
        self.check_can_propose()?;
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
        let current = self.members();
        let mut joining: Vec<NodeId> = cc
            .changes
            .iter()
            .filter(|c| c.kind == ConfChangeKind::AddVoter && !current.is_member(c.node))
            .map(|c| c.node)
            .collect();
        joining.sort_unstable();
        joining.dedup();
        if joining.is_empty() {
            return match current.apply(&cc) {
                Ok(_) => Ok(self.append_own(Payload::ConfChange(cc))),
                Err(why) => refuse(why),
            };
        }
        // New nodes join as learners and catch up first; the whole change
        // must be valid once they are.
        let learners = ConfChange {
            changes: joining
                .iter()
                .map(|&node| ConfChangeSingle {
                    kind: ConfChangeKind::AddLearner,
                    node,
                })
                .collect(),
        };
        if let Err(why) = current.apply(&learners).and_then(|m| m.apply(&cc)) {
            return refuse(why);
        }
        let at = self.append_own(Payload::ConfChange(learners));
        self.promotion = Some(cc);
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
        let Some(cc) = &self.promotion else {
            return;
        };
        if self.members().apply(cc).is_err() {
            self.promotion = None; // a learner removed meanwhile
            return;
        }
        let caught_up = cc
            .changes
            .iter()
            .filter(|c| c.kind == ConfChangeKind::AddVoter && self.is_learner(c.node))
            .all(|c| {
                self.progress
                    .get(&c.node)
                    .is_some_and(|p| p.matched >= self.decided)
            });
        if caught_up && let Some(cc) = self.promotion.take() {
            self.append_own(Payload::ConfChange(cc));
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
