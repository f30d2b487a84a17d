//! What a leader knows about each follower's log, and how it paces sends
//! (etcd raft's progress states):
//!
//! ```text
//!            reject / unreachable                  append accepted
//!   +---------+ <--------------------------- +-----------+
//!   |  Probe  |                              | Replicate |
//!   +---------+ ---------------------------> +-----------+
//!   one append in flight,   match found      pipelined appends,
//!   wait for the answer                      up to max_inflight_msgs
//!        |      ^
//!  needs |      | snapshot acknowledged (or reported failed)
//!        v      |
//!   +------------+
//!   |  Snapshot  |  nothing sent until the snapshot is in
//!   +------------+
//! ```

use std::collections::VecDeque;

use crate::types::Index;

/// How the leader sends to a follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressState {
    /// The follower's match is unknown: send one append, wait for the
    /// answer, back off on refusal.
    Probe,
    /// The follower is in step: stream appends optimistically.
    Replicate,
    /// A snapshot is on its way; send nothing else until it lands.
    Snapshot,
}

/// The leader's view of one follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The highest index known to match the leader's log.
    /// Invariant: `match_index < next_index`.
    pub match_index: Index,
    /// The next index to send.
    pub next_index: Index,
    /// How sends are paced.
    pub state: ProgressState,
    /// In `Probe`: an append is out and unanswered.
    pub(crate) probe_sent: bool,
    /// In `Replicate`: the last index and entry bytes of each append in
    /// flight, ascending by index.
    pub(crate) inflight: VecDeque<(Index, u64)>,
    /// Invariant: the sum of the bytes in `inflight`.
    pub(crate) inflight_bytes: u64,
    /// Heard from since the last check-quorum round.
    pub(crate) recent_active: bool,
    /// In `Snapshot`: the index of the snapshot sent.
    pub(crate) pending_snapshot: Index,
    /// In `Snapshot`: heartbeat responses since it was sent, to give up on
    /// a snapshot that was lost.
    pub(crate) snapshot_wait: u32,
    /// The leader's tick when it sent the latest heartbeat this node
    /// acknowledged in the current term; `None` before the first. Dates
    /// the leader's lease.
    pub(crate) heartbeat_acked_at: Option<u64>,
    /// The highest commit index sent to this node, so a commit advance
    /// rides on the next append or heartbeat and needs its own empty
    /// append only for a node that would not otherwise hear of it.
    pub(crate) commit_sent: Index,
}

impl Progress {
    pub(crate) fn new(next_index: Index) -> Self {
        Self {
            match_index: 0,
            next_index,
            state: ProgressState::Probe,
            probe_sent: false,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            recent_active: false,
            pending_snapshot: 0,
            snapshot_wait: 0,
            heartbeat_acked_at: None,
            commit_sent: 0,
        }
    }

    pub(crate) fn become_probe(&mut self) {
        // After a snapshot, probe from past it: the follower holds it, or
        // will refuse and hint where to go.
        let after_snapshot = if self.state == ProgressState::Snapshot {
            self.pending_snapshot + 1
        } else {
            0
        };
        self.state = ProgressState::Probe;
        self.probe_sent = false;
        self.pending_snapshot = 0;
        self.clear_inflight();
        self.next_index = (self.match_index + 1).max(after_snapshot);
    }

    pub(crate) fn become_snapshot(&mut self, index: Index) {
        self.state = ProgressState::Snapshot;
        self.probe_sent = false;
        self.pending_snapshot = index;
        self.snapshot_wait = 0;
        self.clear_inflight();
    }

    pub(crate) fn become_replicate(&mut self) {
        self.state = ProgressState::Replicate;
        self.probe_sent = false;
        self.pending_snapshot = 0;
        self.clear_inflight();
        self.next_index = self.match_index + 1;
    }

    /// Entry bytes in flight to this follower.
    #[must_use]
    pub fn inflight_bytes(&self) -> u64 {
        self.inflight_bytes
    }

    fn clear_inflight(&mut self) {
        self.inflight.clear();
        self.inflight_bytes = 0;
    }

    /// Whether the leader must hold further appends: in probe while a probe
    /// is out; in replicate when the window is full by count or by bytes.
    pub(crate) fn is_paused(&self, max_msgs: usize, max_bytes: u64) -> bool {
        match self.state {
            ProgressState::Probe => self.probe_sent,
            ProgressState::Snapshot => true,
            ProgressState::Replicate => {
                self.inflight.len() >= max_msgs || self.inflight_bytes >= max_bytes
            }
        }
    }

    /// An append ending at `last_index` with `bytes` of entries was sent.
    pub(crate) fn sent(&mut self, last_index: Index, had_entries: bool, bytes: u64) {
        match self.state {
            ProgressState::Probe => self.probe_sent = true,
            ProgressState::Replicate if had_entries => {
                self.next_index = last_index + 1;
                self.inflight.push_back((last_index, bytes));
                self.inflight_bytes = self.inflight_bytes.saturating_add(bytes);
            }
            ProgressState::Replicate | ProgressState::Snapshot => {}
        }
    }

    /// Frees the oldest in-flight append (presumed lost).
    pub(crate) fn free_oldest(&mut self) {
        if let Some((_, bytes)) = self.inflight.pop_front() {
            self.inflight_bytes = self.inflight_bytes.saturating_sub(bytes);
        }
    }

    /// The follower matches up to `index`; returns whether that is news.
    pub(crate) fn maybe_update(&mut self, index: Index) -> bool {
        self.probe_sent = false;
        while self.inflight.front().is_some_and(|&(i, _)| i <= index) {
            self.free_oldest();
        }
        if index > self.match_index {
            self.match_index = index;
            self.next_index = self.next_index.max(index + 1);
            return true;
        }
        false
    }

    /// The follower refused an append at `rejected`; it holds `hint` as
    /// its best match candidate. Returns whether to send again (a stale
    /// refusal is ignored).
    pub(crate) fn maybe_decrease(&mut self, rejected: Index, hint: Index) -> bool {
        if self.state == ProgressState::Snapshot {
            // Refusals of appends sent before the snapshot: stale.
            return false;
        }
        if self.state == ProgressState::Replicate {
            // Stale if it refers to an index already known to match.
            if rejected <= self.match_index {
                return false;
            }
            self.become_probe();
            // Never past the refused index: the follower lacks it.
            self.next_index = hint
                .saturating_add(1)
                .min(rejected)
                .max(self.match_index + 1);
            return true;
        }
        // In probe, only the answer to the probe just sent counts.
        if rejected.checked_add(1) != Some(self.next_index) {
            return false;
        }
        self.next_index = hint
            .saturating_add(1)
            .min(rejected)
            .max(self.match_index + 1)
            .max(1);
        self.probe_sent = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicating(match_index: Index) -> Progress {
        let mut pr = Progress::new(match_index + 1);
        pr.match_index = match_index;
        pr.become_replicate();
        pr
    }

    #[test]
    fn probing_after_a_snapshot_starts_past_it() {
        // etcd raft's TestProgressBecomeProbe: the follower holds the
        // snapshot (or will refuse and hint), so the probe starts after it.
        let mut pr = Progress::new(5);
        pr.match_index = 1;
        pr.become_snapshot(10);
        pr.become_probe();
        assert_eq!(pr.state, ProgressState::Probe);
        assert_eq!(pr.next_index, 11);
        assert_eq!(pr.pending_snapshot, 0);

        // A snapshot behind what the follower matches: from its match.
        let mut pr = Progress::new(30);
        pr.match_index = 20;
        pr.become_snapshot(10);
        pr.become_probe();
        assert_eq!(pr.next_index, 21);
    }

    #[test]
    fn probing_from_replicate_starts_after_the_match() {
        let mut pr = replicating(1);
        pr.sent(4, true, 10);
        assert_eq!(pr.next_index, 5);
        pr.become_probe();
        assert_eq!(pr.next_index, 2, "the snapshot rule does not apply");
        assert!(!pr.probe_sent);
    }

    #[test]
    fn the_window_counts_appends_and_bytes_until_acknowledged() {
        let mut pr = replicating(4);
        pr.sent(5, true, 100);
        pr.sent(9, true, 50);
        assert_eq!(pr.inflight_bytes(), 150);
        assert_eq!(pr.next_index, 10);
        assert!(pr.is_paused(2, u64::MAX), "two appends out of two");
        assert!(pr.is_paused(8, 150), "150 bytes out of 150");
        assert!(!pr.is_paused(3, 151));
        // An empty append (a heartbeat's commit) takes no room.
        pr.sent(9, false, 0);
        assert_eq!(pr.inflight_bytes(), 150);
        assert!(!pr.is_paused(3, u64::MAX), "still two appends out");

        assert!(pr.maybe_update(5));
        assert_eq!(pr.inflight_bytes(), 50);
        assert!(!pr.is_paused(2, u64::MAX));
        assert!(pr.maybe_update(9));
        assert_eq!(pr.inflight_bytes(), 0);
        assert!(!pr.maybe_update(7), "an older acknowledgement is no news");
        assert!(!pr.maybe_update(9), "nor the same one again");
        assert_eq!(pr.match_index, 9);
    }

    #[test]
    fn every_state_change_empties_the_window() {
        for change in [
            Progress::become_probe as fn(&mut Progress),
            Progress::become_replicate,
            |pr: &mut Progress| pr.become_snapshot(20),
        ] {
            let mut pr = replicating(4);
            pr.sent(5, true, 100);
            change(&mut pr);
            assert_eq!(pr.inflight_bytes(), 0);
            pr.become_replicate();
            assert!(!pr.is_paused(1, 1), "nothing left in flight");
        }
    }

    #[test]
    fn a_refusal_moves_next_back_but_never_to_the_match_or_below() {
        // etcd raft's TestProgressMaybeDecr, with the hint as the floor.
        let mut pr = replicating(5);
        pr.sent(9, true, 10);
        assert!(!pr.maybe_decrease(5, 0), "refers to a matched index: stale");
        assert_eq!(pr.next_index, 10);
        assert!(pr.maybe_decrease(8, 2));
        assert_eq!(pr.state, ProgressState::Probe);
        assert_eq!(
            pr.next_index, 6,
            "a hint below the match stops at match + 1"
        );

        let mut pr = Progress::new(9);
        pr.match_index = 5;
        pr.sent(8, true, 10);
        assert!(!pr.maybe_decrease(6, 0), "not the answer to the probe out");
        assert!(pr.probe_sent);
        assert!(pr.maybe_decrease(8, 2));
        assert_eq!(
            pr.next_index, 6,
            "a hint below the match stops at match + 1"
        );
        assert!(!pr.probe_sent, "the next probe may go");
        pr.next_index = 9;
        assert!(pr.maybe_decrease(8, 6));
        assert_eq!(pr.next_index, 7, "after the hint");
        pr.next_index = 9;
        assert!(pr.maybe_decrease(8, 20));
        assert_eq!(pr.next_index, 8, "never past the refused index");

        let mut pr = replicating(5);
        pr.become_snapshot(20);
        assert!(
            !pr.maybe_decrease(8, 2),
            "refusals before a snapshot are stale"
        );
    }
}
