//! RaftLog: each rule of Raft §5.3 and §5.4 the log enforces, and a model
//! check of follower appends interleaved with persistence.

use proptest::prelude::*;
use synod_raft_core::*;

fn e(index: Index, term: Term) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Noop,
    }
}

fn entries(first: Index, terms: &[Term]) -> Vec<Entry> {
    terms
        .iter()
        .enumerate()
        .map(|(k, &t)| e(first + k as Index, t))
        .collect()
}

/// A log whose entries 1..=n have `terms`, all persisted.
fn log_with(terms: &[Term]) -> RaftLog<MemStorage> {
    let mut s = MemStorage::new();
    s.append(&*entries(1, terms)).unwrap();
    RaftLog::new(s).unwrap()
}

fn terms_of(log: &RaftLog<MemStorage>) -> Vec<Term> {
    let last = log.last_index().unwrap();
    log.slice(1, last + 1, u64::MAX)
        .unwrap()
        .iter()
        .map(|x| x.term)
        .collect()
}

// Raft §5.3: the follower refuses entries whose previous entry it lacks or
// holds with another term, and changes nothing.
#[test]
fn consistency_check_refuses_a_missing_or_different_previous_entry() {
    let mut log = log_with(&[1, 1, 2]);
    assert_eq!(
        log.maybe_append(4, 2, 0, entries(5, &[3])),
        Ok(AppendOutcome::Mismatch)
    );
    assert_eq!(
        log.maybe_append(3, 1, 0, entries(4, &[3])),
        Ok(AppendOutcome::Mismatch)
    );
    assert_eq!(terms_of(&log), [1, 1, 2]);
    assert_eq!(
        log.maybe_append(3, 2, 0, entries(4, &[3])),
        Ok(AppendOutcome::Accepted { last_index: 4 })
    );
    assert_eq!(terms_of(&log), [1, 1, 2, 3]);
}

// Raft Figure 2, AppendEntries step 3: a conflicting entry and everything
// after it are deleted; step 4: new entries are appended.
#[test]
fn a_conflict_truncates_the_suffix() {
    let mut log = log_with(&[1, 1, 2, 2, 2]);
    assert_eq!(
        log.maybe_append(2, 1, 0, entries(3, &[3, 3])),
        Ok(AppendOutcome::Accepted { last_index: 4 })
    );
    assert_eq!(terms_of(&log), [1, 1, 3, 3]);
    assert_eq!(log.unstable_entries(), &entries(3, &[3, 3])[..]);
}

// Entries already present (a duplicated or reordered message) change
// nothing, and in particular do not truncate a longer log.
#[test]
fn a_stale_duplicate_does_not_truncate() {
    let mut log = log_with(&[1, 1, 2, 2, 2]);
    assert_eq!(
        log.maybe_append(1, 1, 0, entries(2, &[1, 2])),
        Ok(AppendOutcome::Accepted { last_index: 3 })
    );
    assert_eq!(terms_of(&log), [1, 1, 2, 2, 2]);
    assert!(log.unstable_entries().is_empty());
}

// Raft Figure 2, step 5: commit = min(leaderCommit, index of last new
// entry); the commit index never goes down.
#[test]
fn commit_follows_the_leader_but_not_past_the_message() {
    let mut log = log_with(&[1, 1, 1]);
    log.maybe_append(1, 1, 10, entries(2, &[1])).unwrap();
    assert_eq!(
        log.committed(),
        2,
        "only up to what this message vouches for"
    );
    log.maybe_append(3, 1, 1, vec![]).unwrap();
    assert_eq!(log.committed(), 2, "never lowered");
    log.maybe_append(3, 1, 3, vec![]).unwrap();
    assert_eq!(log.committed(), 3);
}

// A committed entry is never replaced: only a faulty or forged leader asks
// for that, and the log refuses without changing.
#[test]
fn committed_entries_are_never_overwritten() {
    let mut log = log_with(&[1, 1, 1]);
    log.commit_to(2);
    assert_eq!(
        log.maybe_append(1, 1, 0, entries(2, &[2, 2])),
        Ok(AppendOutcome::WouldOverwriteCommitted { index: 2 })
    );
    assert_eq!(terms_of(&log), [1, 1, 1]);
    assert_eq!(
        log.maybe_append(2, 1, 0, entries(3, &[2])),
        Ok(AppendOutcome::Accepted { last_index: 3 })
    );
    assert_eq!(terms_of(&log), [1, 1, 2]);
}

#[test]
fn malformed_appends_are_refused() {
    let mut log = log_with(&[1, 1]);
    let gap = vec![e(3, 1), e(5, 1)];
    assert_eq!(
        log.maybe_append(2, 1, 0, gap.clone()),
        Ok(AppendOutcome::Malformed)
    );
    let wrong_start = entries(4, &[1]);
    assert_eq!(
        log.maybe_append(2, 1, 0, wrong_start.clone()),
        Ok(AppendOutcome::Malformed)
    );
    assert_eq!(terms_of(&log), [1, 1]);
    // Indexes far past the log: a mismatch, not a panic.
    assert_eq!(
        log.maybe_append(u64::MAX - 1, 9, u64::MAX, vec![]),
        Ok(AppendOutcome::Mismatch)
    );
}

// Raft §5.4.1: a candidate's log is up to date if its last term is later,
// or the same with at least as many entries.
#[test]
fn up_to_date_compares_last_term_then_length() {
    let log = log_with(&[1, 2, 2]);
    assert!(log.is_up_to_date(1, 3).unwrap(), "later term, shorter log");
    assert!(log.is_up_to_date(3, 2).unwrap(), "same term, same length");
    assert!(log.is_up_to_date(4, 2).unwrap(), "same term, longer");
    assert!(!log.is_up_to_date(2, 2).unwrap(), "same term, shorter");
    assert!(!log.is_up_to_date(9, 1).unwrap(), "earlier term, longer");
}

// Raft §5.4.2 (Figure 8): a leader commits by counting replicas only for an
// entry of its own term; earlier entries commit with it.
#[test]
fn maybe_commit_only_for_the_given_term() {
    let mut log = log_with(&[1, 2, 2, 4]);
    assert!(
        !log.maybe_commit(3, 4),
        "entry 3 is from term 2, not the leader's term 4"
    );
    assert_eq!(log.committed(), 0);
    assert!(log.maybe_commit(4, 4));
    assert_eq!(
        log.committed(),
        4,
        "entries of earlier terms commit with it"
    );
    assert!(!log.maybe_commit(2, 2), "never lowered");
    assert!(!log.maybe_commit(9, 4), "past the log: nothing to commit");
}

// The fast backtracking hint (Raft §5.3, after Figure 7): from a refused
// (index, term), the largest index whose term is at or below the leader's.
#[test]
fn conflict_hint_skips_whole_terms() {
    let log = log_with(&[1, 1, 2, 2, 4, 4, 4]);
    assert_eq!(log.find_conflict_by_term(7, 3), (4, 2));
    assert_eq!(log.find_conflict_by_term(7, 4), (7, 4));
    assert_eq!(log.find_conflict_by_term(7, 1), (2, 1));
    assert_eq!(log.find_conflict_by_term(7, 0), (0, 0));
    assert_eq!(
        log.find_conflict_by_term(100, 2),
        (4, 2),
        "past the end starts at the last index"
    );
}

#[test]
fn find_conflict_reports_the_first_difference() {
    let log = log_with(&[1, 2, 3]);
    assert_eq!(log.find_conflict(&entries(1, &[1, 2, 3])), None);
    assert_eq!(
        log.find_conflict(&entries(2, &[2, 3, 3])),
        Some(4),
        "new entries past the end"
    );
    assert_eq!(log.find_conflict(&entries(2, &[4])), Some(2));
    assert_eq!(log.find_conflict(&[]), None);
}

#[test]
fn committed_entries_to_apply_wait_for_persistence_unless_allowed() {
    let mut log = log_with(&[1, 1]);
    log.maybe_append(2, 1, 4, entries(3, &[2, 2])).unwrap();
    assert_eq!(log.committed(), 4);
    let stable_only = log.next_committed_entries(false, u64::MAX).unwrap();
    assert_eq!(
        stable_only.iter().map(|x| x.index).collect::<Vec<_>>(),
        [1, 2]
    );
    let all = log.next_committed_entries(true, u64::MAX).unwrap();
    assert_eq!(
        all.iter().map(|x| x.index).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    log.applied_to(2);
    assert_eq!(log.next_committed_entries(false, u64::MAX).unwrap(), vec![]);
    // The application persists 3..=4; they become appliable.
    let pending = log.unstable_entries().to_vec();
    log.storage_mut().append(&*pending).unwrap();
    log.stable_to(4, 2);
    assert!(log.unstable_entries().is_empty());
    assert_eq!(
        log.next_committed_entries(false, u64::MAX).unwrap().len(),
        2
    );
    log.applied_to(99);
    assert_eq!(log.applied(), 4, "applied is clamped to the commit index");
}

#[test]
fn stale_persistence_reports_are_ignored() {
    let mut log = log_with(&[1]);
    log.maybe_append(1, 1, 0, entries(2, &[1, 1])).unwrap();
    // The unstable suffix is replaced before the application reports on it.
    log.maybe_append(1, 1, 0, entries(2, &[2])).unwrap();
    log.stable_to(3, 1); // reports entries that no longer exist
    log.stable_to(2, 1); // the old term at index 2
    assert_eq!(log.unstable_entries(), &entries(2, &[2])[..]);
    log.stable_to(2, 2);
    assert!(log.unstable_entries().is_empty());
}

#[test]
fn terms_outside_the_log_are_errors() {
    let mut s = MemStorage::new();
    s.append(&*entries(1, &[1, 1, 2, 2])).unwrap();
    s.create_snapshot(3, ConfState::default(), vec![]).unwrap();
    s.compact(2).unwrap();
    let log = RaftLog::new(s).unwrap();
    assert_eq!(log.term(2), Ok(1), "the compaction point's term is known");
    assert_eq!(
        log.term(1),
        Err(StorageError::Compacted {
            index: 1,
            first_index: 3
        })
    );
    assert_eq!(
        log.term(5),
        Err(StorageError::Unavailable {
            index: 5,
            last_index: 4
        })
    );
    assert_eq!(
        log.slice(1, 3, u64::MAX),
        Err(StorageError::Compacted {
            index: 1,
            first_index: 3
        })
    );
    assert!(!log.match_term(1, 1));
    assert_eq!(
        (log.committed(), log.applied()),
        (2, 2),
        "a restarted log starts at its compaction point"
    );
}

#[test]
fn restoring_a_snapshot_replaces_the_log() {
    let mut log = log_with(&[1, 1, 2]);
    let snap = Snapshot {
        meta: SnapshotMeta {
            index: 10,
            term: 5,
            conf_state: ConfState::default(),
        },
        data: vec![1].into(),
    };
    log.restore(snap.clone());
    assert_eq!(
        (log.first_index(), log.last_index(), log.last_term()),
        (Ok(11), Ok(10), Ok(5))
    );
    assert_eq!(log.committed(), 10);
    assert_eq!(log.unstable_snapshot(), Some(&snap));
    assert_eq!(log.snapshot(0), Ok(snap.clone()));
    // The follower continues after it.
    assert_eq!(
        log.maybe_append(10, 5, 11, entries(11, &[5])),
        Ok(AppendOutcome::Accepted { last_index: 11 })
    );
    log.storage_mut().apply_snapshot(snap).unwrap();
    log.stable_snap_to(10);
    assert_eq!(log.unstable_snapshot(), None);
    assert_eq!(log.term(10), Ok(5));
    assert_eq!(terms_of_from(&log, 11), [5]);
}

fn terms_of_from(log: &RaftLog<MemStorage>, lo: Index) -> Vec<Term> {
    let last = log.last_index().unwrap();
    log.slice(lo, last + 1, u64::MAX)
        .unwrap()
        .iter()
        .map(|x| x.term)
        .collect()
}

#[test]
fn slices_cross_the_stable_unstable_boundary_within_the_size_limit() {
    let mut log = log_with(&[1, 1, 1]);
    log.maybe_append(3, 1, 0, entries(4, &[2, 2, 2])).unwrap();
    // Noop entries count 16 bytes each.
    assert_eq!(log.slice(2, 6, 16 * 3).unwrap().len(), 3);
    assert_eq!(log.slice(2, 7, 0).unwrap().len(), 1, "at least one entry");
    assert_eq!(
        log.slice(3, 7, u64::MAX)
            .unwrap()
            .iter()
            .map(|x| x.index)
            .collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
    assert_eq!(
        log.slice(5, 8, u64::MAX),
        Err(StorageError::Unavailable {
            index: 7,
            last_index: 6
        })
    );
}

/// One step of a follower's life: a message from some leader, or the
/// application persisting what is unstable.
#[derive(Debug, Clone)]
enum Step {
    Append {
        prev_index: Index,
        prev_term: Term,
        commit: Index,
        terms: Vec<Term>,
    },
    Persist,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u64..12, 0u64..4, 0u64..14, prop::collection::vec(1u64..4, 0..5))
            .prop_map(|(prev_index, prev_term, commit, mut terms)| {
                terms.sort_unstable(); // leaders write non-decreasing terms
                Step::Append { prev_index, prev_term, commit, terms }
            }),
        1 => Just(Step::Persist),
    ]
}

/// The follower's log, naively: terms of entries 1.. and the commit index.
#[derive(Debug, Default)]
struct Model {
    terms: Vec<Term>,
    committed: Index,
}

impl Model {
    fn append(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        commit: Index,
        new: &[Term],
    ) -> AppendOutcome {
        let prev_ok = if prev_index == 0 {
            prev_term == 0
        } else {
            self.terms.get(prev_index as usize - 1) == Some(&prev_term)
        };
        if !prev_ok {
            return AppendOutcome::Mismatch;
        }
        for (k, &t) in new.iter().enumerate() {
            let idx = prev_index as usize + 1 + k;
            match self.terms.get(idx - 1) {
                Some(&have) if have == t => continue,
                Some(_) if idx as Index <= self.committed => {
                    return AppendOutcome::WouldOverwriteCommitted {
                        index: idx as Index,
                    };
                }
                _ => {
                    self.terms.truncate(idx - 1);
                    self.terms.extend_from_slice(&new[k..]);
                    break;
                }
            }
        }
        let last_new = prev_index + new.len() as Index;
        self.committed = self.committed.max(commit.min(last_new));
        AppendOutcome::Accepted {
            last_index: last_new,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Any sequence of leader messages and persistence rounds leaves the
    /// log, its commit index and every outcome exactly as the naive model
    /// predicts; the log never loses a committed entry.
    #[test]
    fn follower_log_matches_a_naive_model(steps in prop::collection::vec(step(), 1..40)) {
        let mut log = RaftLog::new(MemStorage::new()).unwrap();
        let mut model = Model::default();
        let mut committed_terms: Vec<Term> = Vec::new();
        for s in steps {
            match s {
                Step::Append { prev_index, prev_term, commit, terms } => {
                    let msg = entries(prev_index + 1, &terms);
                    let expect = model.append(prev_index, prev_term, commit, &terms);
                    prop_assert_eq!(log.maybe_append(prev_index, prev_term, commit, msg.clone()).unwrap(), expect);
                }
                Step::Persist => {
                    let pending = log.unstable_entries().to_vec();
                    log.storage_mut().append(&*pending).unwrap();
                    if let Some(last) = pending.last() {
                        log.stable_to(last.index, last.term);
                    }
                }
            }
            prop_assert_eq!(terms_of(&log), model.terms.clone());
            prop_assert_eq!(log.committed(), model.committed);
            // A committed prefix is never changed (the log equals the model,
            // so this checks the log).
            prop_assert!(model.terms.starts_with(&committed_terms), "committed entries changed");
            committed_terms = model.terms[..model.committed as usize].to_vec();
        }
    }
}

// A leader's commit reports a move only when the commit index moved: the
// same index again is no news (the leader would tell every follower).
#[test]
fn maybe_commit_reports_only_a_real_move() {
    let mut log = log_with(&[1, 1, 2]);
    assert!(!log.maybe_commit(2, 2), "entry 2 is of term 1");
    assert!(log.maybe_commit(3, 2));
    assert_eq!(log.committed(), 3);
    assert!(!log.maybe_commit(3, 2), "already committed");
    assert!(!log.maybe_commit(2, 1), "below the commit index");
    assert_eq!(log.committed(), 3);
}
