//! The configuration: who votes, who learns, and how quorums are counted,
//! including joint configurations (Raft §6).

use std::collections::BTreeMap;

use crate::error::Error;
use crate::quorum::{committed_index_of, is_majority};
use crate::types::{ConfChange, ConfChangeKind, ConfState, Index, NO_NODE, NodeId};

/// The outcome of an election so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VoteResult {
    Won,
    Lost,
    Pending,
}

impl VoteResult {
    /// The outcome when an election must be won under two configurations
    /// at once (the applied one and the one the log leads to): lost if
    /// either is lost, won only when both are.
    pub(crate) fn both(self, other: Self) -> Self {
        match (self, other) {
            (Self::Lost, _) | (_, Self::Lost) => Self::Lost,
            (Self::Won, Self::Won) => Self::Won,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    /// Invariant: sorted, unique.
    pub(crate) voters: Vec<NodeId>,
    /// Non-empty only in a joint configuration. Invariant: sorted, unique.
    pub(crate) outgoing: Vec<NodeId>,
    /// Invariant: sorted, unique, disjoint from `voters` and `outgoing`.
    pub(crate) learners: Vec<NodeId>,
}

fn sorted_unique(ids: &[NodeId]) -> Vec<NodeId> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl Membership {
    /// A configuration from stored state.
    ///
    /// # Errors
    /// [`Error::InvalidMembership`] when a node is both voter and learner
    /// or id 0 appears.
    pub(crate) fn from_conf_state(cs: &ConfState) -> Result<Self, Error> {
        let m = Self {
            voters: sorted_unique(&cs.voters),
            outgoing: sorted_unique(&cs.voters_outgoing),
            learners: sorted_unique(&cs.learners),
        };
        if m.all().contains(&NO_NODE) {
            return Err(Error::InvalidMembership("node id 0"));
        }
        let voter_learner = m.learners.iter().any(|l| m.is_voter(*l));
        if voter_learner {
            return Err(Error::InvalidMembership("a node is both voter and learner"));
        }
        Ok(m)
    }

    pub(crate) fn to_conf_state(&self) -> ConfState {
        ConfState {
            voters: self.voters.clone(),
            voters_outgoing: self.outgoing.clone(),
            learners: self.learners.clone(),
        }
    }

    pub(crate) fn is_joint(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// A voter in either half.
    pub(crate) fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok() || self.outgoing.binary_search(&id).is_ok()
    }

    pub(crate) fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.binary_search(&id).is_ok()
    }

    /// Every member, sorted.
    pub(crate) fn all(&self) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self
            .voters
            .iter()
            .chain(&self.outgoing)
            .chain(&self.learners)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every voter of either half, sorted.
    pub(crate) fn all_voters(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self.voters.iter().chain(&self.outgoing).copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether this node alone is a quorum.
    pub(crate) fn is_singleton(&self, id: NodeId) -> bool {
        self.voters == [id] && (self.outgoing.is_empty() || self.outgoing == [id])
    }

    /// The highest index a quorum holds: in a joint configuration, the
    /// smaller of the two halves' (both must agree, Raft §6).
    pub(crate) fn committed_index(&self, match_of: impl Fn(NodeId) -> Index) -> Index {
        let half = |ids: &[NodeId]| {
            if ids.is_empty() {
                // An empty half does not constrain the other.
                return Index::MAX;
            }
            committed_index_of(ids, &match_of)
        };
        half(&self.voters).min(half(&self.outgoing))
    }

    /// Whether the nodes for which `yes` holds form a quorum (in both halves
    /// when joint).
    pub(crate) fn has_quorum(&self, yes: impl Fn(NodeId) -> bool) -> bool {
        let half = |ids: &[NodeId]| {
            ids.is_empty() || is_majority(ids.iter().filter(|&&id| yes(id)).count(), ids.len())
        };
        !self.voters.is_empty() && half(&self.voters) && half(&self.outgoing)
    }

    pub(crate) fn vote_result(&self, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
        if self.has_quorum(|id| votes.get(&id) == Some(&true)) {
            return VoteResult::Won;
        }
        // Lost when the missing votes could not make a quorum anyway.
        if !self.has_quorum(|id| votes.get(&id) != Some(&false)) {
            return VoteResult::Lost;
        }
        VoteResult::Pending
    }

    /// The configuration after `cc`, or why `cc` is invalid here.
    ///
    /// # Errors
    /// [`Error::InvalidConfChange`].
    pub(crate) fn apply(&self, cc: &ConfChange) -> Result<Self, Error> {
        let bad = |why| Err(Error::InvalidConfChange(why));
        if cc.changes.is_empty() {
            // Leave the joint configuration.
            if !self.is_joint() {
                return bad("not in a joint configuration");
            }
            let mut next = self.clone();
            next.outgoing.clear();
            return Ok(next);
        }
        if self.is_joint() {
            return bad("a joint configuration is still being left");
        }
        let mut seen = Vec::new();
        let mut next = self.clone();
        for c in &cc.changes {
            if c.node == NO_NODE {
                return bad("node id 0");
            }
            if seen.contains(&c.node) {
                return bad("a node appears twice");
            }
            seen.push(c.node);
            remove(&mut next.voters, c.node);
            let was_learner = remove(&mut next.learners, c.node);
            match c.kind {
                ConfChangeKind::AddVoter => insert(&mut next.voters, c.node),
                ConfChangeKind::AddLearner => {
                    if self.is_voter(c.node) {
                        return bad("demoting a voter to learner is not supported");
                    }
                    insert(&mut next.learners, c.node);
                }
                ConfChangeKind::Remove => {
                    let _ = was_learner;
                }
            }
        }
        if next.voters.is_empty() {
            return bad("no voters would remain");
        }
        let changed_voters = symmetric_difference(&self.voters, &next.voters);
        if changed_voters > 1 {
            // Raft §6: go through C_old,new; the leader leaves it once it
            // commits.
            next.outgoing = self.voters.clone();
        }
        Ok(next)
    }
}

fn insert(ids: &mut Vec<NodeId>, id: NodeId) {
    if let Err(at) = ids.binary_search(&id) {
        ids.insert(at, id);
    }
}

fn remove(ids: &mut Vec<NodeId>, id: NodeId) -> bool {
    match ids.binary_search(&id) {
        Ok(at) => {
            ids.remove(at);
            true
        }
        Err(_) => false,
    }
}

fn symmetric_difference(a: &[NodeId], b: &[NodeId]) -> usize {
    a.iter().filter(|x| b.binary_search(x).is_err()).count()
        + b.iter().filter(|x| a.binary_search(x).is_err()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ConfChangeSingle;

    fn m(voters: &[NodeId], outgoing: &[NodeId], learners: &[NodeId]) -> Membership {
        Membership {
            voters: voters.to_vec(),
            outgoing: outgoing.to_vec(),
            learners: learners.to_vec(),
        }
    }

    fn cc(changes: &[(ConfChangeKind, NodeId)]) -> ConfChange {
        ConfChange {
            changes: changes
                .iter()
                .map(|&(kind, node)| ConfChangeSingle { kind, node })
                .collect(),
        }
    }

    use ConfChangeKind::*;

    #[test]
    fn an_election_under_two_configurations_needs_both() {
        use VoteResult::*;
        let all = [Won, Lost, Pending];
        for a in all {
            for b in all {
                let want = if a == Lost || b == Lost {
                    Lost
                } else if a == Won && b == Won {
                    Won
                } else {
                    Pending
                };
                assert_eq!(a.both(b), want, "{a:?} and {b:?}");
                assert_eq!(b.both(a), want, "symmetric: {b:?} and {a:?}");
            }
        }
        // Votes from the old voters alone do not win the new ones.
        let old = m(&[3, 4, 5], &[], &[]);
        let new = m(&[2, 4, 5], &[3, 4, 5], &[]);
        let votes: BTreeMap<NodeId, bool> = [(3, true), (4, true)].into();
        assert_eq!(old.vote_result(&votes), Won);
        assert_eq!(new.vote_result(&votes), Pending);
        assert_eq!(
            old.vote_result(&votes).both(new.vote_result(&votes)),
            Pending
        );
    }

    #[test]
    fn single_server_changes_apply_directly() {
        let base = m(&[1, 2, 3], &[], &[]);
        assert_eq!(
            base.apply(&cc(&[(AddVoter, 4)])),
            Ok(m(&[1, 2, 3, 4], &[], &[]))
        );
        assert_eq!(base.apply(&cc(&[(Remove, 3)])), Ok(m(&[1, 2], &[], &[])));
        assert_eq!(
            base.apply(&cc(&[(AddLearner, 5), (AddLearner, 6)])),
            Ok(m(&[1, 2, 3], &[], &[5, 6]))
        );
        let with_learner = m(&[1, 2, 3], &[], &[4]);
        assert_eq!(
            with_learner.apply(&cc(&[(AddVoter, 4)])),
            Ok(m(&[1, 2, 3, 4], &[], &[])),
            "promotion"
        );
    }

    #[test]
    fn larger_changes_go_through_a_joint_configuration() {
        let base = m(&[1, 2, 3], &[], &[]);
        let joint = base.apply(&cc(&[(AddVoter, 4), (Remove, 1)])).unwrap();
        assert_eq!(joint, m(&[2, 3, 4], &[1, 2, 3], &[]));
        assert!(joint.is_joint());
        assert_eq!(
            joint.apply(&cc(&[(AddVoter, 5)])),
            Err(Error::InvalidConfChange(
                "a joint configuration is still being left"
            ))
        );
        assert_eq!(
            joint.apply(&ConfChange::default()),
            Ok(m(&[2, 3, 4], &[], &[]))
        );
        assert_eq!(
            base.apply(&ConfChange::default()),
            Err(Error::InvalidConfChange("not in a joint configuration"))
        );
    }

    #[test]
    fn malformed_changes_are_refused() {
        let base = m(&[1, 2, 3], &[], &[]);
        assert!(base.apply(&cc(&[(AddVoter, 0)])).is_err());
        assert!(base.apply(&cc(&[(AddVoter, 4), (Remove, 4)])).is_err());
        assert!(
            base.apply(&cc(&[(Remove, 1), (Remove, 2), (Remove, 3)]))
                .is_err()
        );
        assert!(base.apply(&cc(&[(AddLearner, 1)])).is_err());
    }

    // Raft §6: in C_old,new, agreement (for elections and commitment)
    // requires separate majorities from both configurations.
    #[test]
    fn joint_quorums_need_both_halves() {
        let joint = m(&[3, 4, 5], &[1, 2, 3], &[]);
        let matched = |id: NodeId| [0, 9, 9, 5, 5, 0][id as usize];
        // Old half {1,2,3}: 9,9,5 -> 9; new half {3,4,5}: 5,5,0 -> 5.
        assert_eq!(joint.committed_index(matched), 5);
        let votes: BTreeMap<NodeId, bool> =
            [(1, true), (2, true), (3, false)].into_iter().collect();
        assert_eq!(
            joint.vote_result(&votes),
            VoteResult::Pending,
            "old half won, new half undecided"
        );
        let votes: BTreeMap<NodeId, bool> = [(1, true), (2, true), (4, false), (5, false)]
            .into_iter()
            .collect();
        assert_eq!(joint.vote_result(&votes), VoteResult::Lost);
        let votes: BTreeMap<NodeId, bool> = [(1, true), (3, true), (4, true)].into_iter().collect();
        assert_eq!(joint.vote_result(&votes), VoteResult::Won);
    }
}
