//! Invariants checked while the run goes: election safety, leader
//! completeness and log matching. (State-machine safety is checked as each
//! entry applies, in `nodes.rs`.)

use std::collections::BTreeMap;

use super::{Sim, Workload};
use crate::replica::Replica;
use crate::report::Violation;

impl<R: Replica, W: Workload> Sim<R, W> {
    /// Log matching (Raft §5.3), checked every 25 ticks over every pair of
    /// running nodes: where two logs agree on an entry's term, they agree
    /// on everything before it.
    pub(super) fn check_log_matching(&mut self) {
        let logs: Vec<(u64, Vec<(u64, u64)>)> = self
            .nodes
            .iter()
            .filter_map(|(&id, s)| Some((id, s.node.as_ref()?.log_terms())))
            .collect();
        for (i, (a, la)) in logs.iter().enumerate() {
            let common: BTreeMap<u64, u64> = la.iter().copied().collect();
            for (b, lb) in &logs[i + 1..] {
                // The highest index both hold with the same term.
                let Some(&(top, _)) = lb.iter().rev().find(|(idx, t)| common.get(idx) == Some(t))
                else {
                    continue;
                };
                for &(idx, t) in lb.iter().filter(|(idx, _)| *idx <= top) {
                    if common.get(&idx).is_some_and(|&ta| ta != t) {
                        self.violation.get_or_insert(Violation::LogMismatch {
                            a: *a,
                            b: *b,
                            index: idx,
                        });
                        return;
                    }
                }
            }
        }
    }

    /// Election safety and leader completeness, checked every tick.
    pub(super) fn observe_leaders(&mut self) {
        let mut current = None;
        for (&id, s) in &mut self.nodes {
            let Some(n) = s.node.as_ref() else { continue };
            let Some(term) = n.leader_term() else {
                continue;
            };
            let first = *self.leaders.entry(term).or_insert(id);
            if first != id {
                self.violation.get_or_insert(Violation::TwoLeaders {
                    term,
                    first,
                    second: id,
                });
            }
            if s.was_leader_in != term {
                s.was_leader_in = term;
                // Raft §5.4 (leader completeness): a leader of a term after
                // the one in which an entry was committed holds it. A leader
                // of an older term that wins late (a delayed vote) need not.
                let first = n.first_index();
                for (&index, (t, _, seen_in)) in self.committed.range(first..) {
                    if term > *seen_in && !n.holds(index, *t) {
                        self.violation
                            .get_or_insert(Violation::LeaderIncomplete { node: id, index });
                        break;
                    }
                }
            }
            if current.is_none_or(|(t, _)| term > t) {
                current = Some((term, id));
            }
        }
        let leader = current.map(|(_, id)| id);
        if leader.is_some() && leader != self.last_leader {
            self.summary.leader_changes += 1;
            self.last_leader = leader;
            if let Some((term, id)) = current {
                self.event(|| format!("node {id} leads term {term}"));
            }
        }
    }
}
