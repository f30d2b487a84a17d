//! When a candidate asks again for what it is taking from an acceptor (a
//! window of snapshot pieces, or the entries after a point).
//!
//! Too soon, and the copies queue behind answers already on their way: a
//! window is four pieces of up to a megabyte, and under CPU load a 64 MiB
//! fetch through synod-node, asking again after two of the candidate's
//! ticks without progress, held up to 36 MiB of copies; after two of the
//! acceptor's beats alone (they overtake pieces the acceptor is still
//! reading), up to 259 MiB. Too late, and a lost piece stalls the
//! campaign. So a request goes again only when both hold:
//! - two beats heard from the acceptor since the catch-up last moved: it
//!   is alive and so could answer (a silent acceptor is not asked again;
//!   its answers may all be queued);
//! - no move for three of the smoothed gaps between moves, doubled at each
//!   request sent again without a move since (an acceptor slowed by its
//!   disk or a loaded machine answers at its own pace, and that pace is
//!   what the gap measures), but never more than `cap` ticks, so pieces
//!   lost several times in a row still move within the campaign's window.

/// Beats heard from the acceptor without a move before asking again.
const QUIET_BEATS: u32 = 2;

/// A catch-up's clock for asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pacing {
    /// Beats heard from the acceptor since the catch-up last moved or was
    /// asked for again.
    quiet: u32,
    /// The tick of that move or request.
    since: u64,
    /// Ticks between moves, smoothed (each new gap counts a quarter,
    /// rounded up so that a steady gap is reached, not approached).
    gap: u64,
    /// Ticks without a move before asking again (before the cap).
    patience: u64,
}

impl Pacing {
    /// A catch-up asked for at tick `now`.
    pub(crate) fn new(now: u64) -> Self {
        Self {
            quiet: 0,
            since: now,
            gap: 0,
            patience: 0,
        }
    }

    /// The catch-up moved (a piece or the entries asked for arrived) at
    /// tick `now`.
    pub(crate) fn moved(&mut self, now: u64) {
        let sample = now.saturating_sub(self.since);
        self.gap = self
            .gap
            .saturating_mul(3)
            .saturating_add(sample)
            .saturating_add(3)
            / 4;
        self.since = now;
        self.quiet = 0;
        self.patience = self.gap.saturating_mul(3);
    }

    /// A beat from the acceptor at tick `now`: whether to ask again now,
    /// waiting at most `cap` ticks without a move.
    pub(crate) fn heard(&mut self, now: u64, cap: u64) -> bool {
        self.quiet = self.quiet.saturating_add(1);
        let waited = now.saturating_sub(self.since);
        if self.quiet < QUIET_BEATS || waited < self.patience.min(cap) {
            return false;
        }
        self.quiet = 0;
        self.since = now;
        self.patience = self.patience.max(1).saturating_mul(2);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beats at every tick from `from` to `to`; the ticks it asks again.
    fn asks(p: &mut Pacing, from: u64, to: u64, cap: u64) -> Vec<u64> {
        (from..to).filter(|&t| p.heard(t, cap)).collect()
    }

    #[test]
    fn with_nothing_measured_it_asks_again_after_two_beats_then_backs_off() {
        let mut p = Pacing::new(0);
        assert_eq!(asks(&mut p, 1, 40, 100), vec![2, 4, 8, 16, 32]);
    }

    #[test]
    fn a_slow_acceptor_is_given_three_of_its_gaps() {
        let mut p = Pacing::new(0);
        // Moves every 10 ticks: the gap settles near 10.
        for t in (10..=200).step_by(10) {
            assert!(!p.heard(t - 5, 1000), "asked again between moves at {t}");
            p.moved(t);
        }
        let asked = asks(&mut p, 201, 400, 1000);
        assert!(asked[0] >= 225 && asked[0] <= 231, "{asked:?}");
        // Then twice as long each time.
        assert!(asked[1] - asked[0] >= 2 * (asked[0] - 200) - 2, "{asked:?}");
    }

    #[test]
    fn the_wait_never_exceeds_the_cap() {
        let mut p = Pacing::new(0);
        p.moved(100);
        p.moved(200);
        assert_eq!(asks(&mut p, 201, 230, 5), vec![205, 210, 215, 220, 225]);
    }

    #[test]
    fn a_silent_acceptor_is_asked_again_only_once_heard_twice() {
        let mut p = Pacing::new(0);
        // One beat, then nothing for a long time: no request goes again
        // until a second beat shows the acceptor could answer it.
        assert!(!p.heard(1, 10));
        assert!(p.heard(1_000, 10));
    }

    #[test]
    fn ticks_near_the_top_of_the_range_do_not_overflow() {
        let mut p = Pacing::new(u64::MAX - 3);
        p.moved(u64::MAX);
        assert!(!p.heard(u64::MAX, u64::MAX));
        let mut q = Pacing::new(0);
        q.moved(u64::MAX);
        q.moved(u64::MAX);
        assert!(!q.heard(u64::MAX, u64::MAX));
        assert!(!q.heard(u64::MAX, u64::MAX));
        let mut r = Pacing::new(u64::MAX);
        assert!(!r.heard(u64::MAX, u64::MAX));
        assert!(r.heard(u64::MAX, u64::MAX));
    }
}
