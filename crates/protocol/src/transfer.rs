//! When a leader sends again a snapshot piece that is not acknowledged:
//! one rule for every protocol that streams snapshots in pieces.

/// Heartbeat rounds without an acknowledgement, at the least, before the
/// first piece not acknowledged goes again: it may have been lost last,
/// with no later piece to reveal the gap. (Waiting half an election
/// timeout instead left a Raft transfer over a lossy link unfinished:
/// liveness seed 70080196304731.)
pub const RESEND_AFTER_ROUNDS: u32 = 3;

/// Heartbeat rounds a leader waits, while a snapshot transfer does not
/// move, before it sends again the first piece the receiver has not
/// acknowledged: twice the receiver's own pace (`pace_rounds`, the rounds
/// between its last two acknowledgements; `u32::MAX` until measured), so
/// a slow but steady receiver is not sent copies that queue behind the
/// pieces on their way; at most half an election timeout, so a piece lost
/// twice still goes again before the transfer is given up; and at least
/// [`RESEND_AFTER_ROUNDS`].
///
/// ```
/// use synod_protocol::resend_after_rounds;
/// assert_eq!(resend_after_rounds(u32::MAX, 20), 10); // not measured yet
/// assert_eq!(resend_after_rounds(4, 20), 8); // twice a measured pace
/// assert_eq!(resend_after_rounds(0, 20), 3); // never below the floor
/// assert_eq!(resend_after_rounds(u32::MAX, 4), 3);
/// ```
#[must_use]
pub fn resend_after_rounds(pace_rounds: u32, election_timeout_ticks: u32) -> u32 {
    pace_rounds
        .saturating_mul(2)
        .min(election_timeout_ticks / 2)
        .max(RESEND_AFTER_ROUNDS)
}
