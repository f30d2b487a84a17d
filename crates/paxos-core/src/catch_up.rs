//! Phase 1, catching up: a promise carries at most one message of the
//! acceptor's log (`max_size_per_msg_bytes` of entries, or a snapshot no
//! larger than `snapshot_chunk_bytes`), so a candidate whose quorum holds
//! a longer log than its own takes the rest before it leads: more entries
//! through another prepare to the same acceptor, a large snapshot a piece
//! at a time (`FetchPiece`, answered by `PromisePiece`), read from the
//! acceptor's storage as it goes and staged or gathered here as a
//! leader's pieces are. Until then it adopts what arrived but decides
//! nothing, so no decided entry is lost to the cut; an acceptor that
//! promised this ballot accepts nothing older, so its log holds still
//! while the candidate reads it.

use synod_protocol::{Index, NodeId, SnapshotMeta, Storage};

use crate::ballot::Ballot;
use crate::error::Error;
use crate::message::Body;
use crate::node::{PaxosNode, Role};
use crate::snapshot::PieceTaken;

/// Pieces of a snapshot a candidate asks for at once.
const PIECES_IN_FLIGHT: u64 = 4;

/// Beats heard from the acceptor a candidate takes its log from, without
/// the catch-up moving, before the request in progress goes again (it, or
/// its answer, was lost). Counted on the acceptor's beats rather than the
/// candidate's own ticks, as the leader's snapshot transfers are
/// (`snapshot::QUIET_BEATS`): an acceptor slowed by its disk or a loaded
/// machine beats no faster than it answers, so the candidate does not
/// queue copies of a window of megabyte pieces it will get anyway
/// (counted on its own ticks, a 64 MiB fetch under CPU load sent the
/// window again 24 times and held 19-36 MiB of copies).
const QUIET_BEATS: u32 = 2;

/// What a candidate is taking from the acceptor with the most advanced
/// log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CatchUp {
    /// Asked `from` for its log after `after`, with another prepare.
    Entries {
        /// The acceptor.
        from: NodeId,
        /// Where the entries asked for start.
        after: Index,
        /// Beats heard from `from` since the request went.
        quiet: u32,
    },
    /// Fetching `from`'s snapshot in pieces.
    Snapshot {
        /// The acceptor.
        from: NodeId,
        /// The snapshot.
        meta: SnapshotMeta,
        /// Bytes held when `quiet` last started from zero.
        received: u64,
        /// Beats heard from `from` since the snapshot last moved (or the
        /// window was asked for).
        quiet: u32,
    },
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// Taking the most advanced log, with progress within an election
    /// timeout (each step forward restarts the campaign's clock).
    pub(crate) fn catching_up(&self) -> bool {
        let window = u64::from(self.config.election_timeout_ticks);
        self.catch_up.is_some() && self.now.saturating_sub(self.leader_since) < window
    }

    /// A promise from `from`, the most advanced log, whose entries (ending
    /// at `end`, if any) were adopted and left this log still behind it:
    /// asks for what follows when this answers the request out (or is the
    /// first), and otherwise waits, so late and duplicated promises do not
    /// multiply requests.
    pub(crate) fn continue_catch_up(&mut self, from: NodeId, end: Option<(Index, u64)>) {
        let reached = end
            .filter(|&(i, t)| self.log.term(i) == Ok(t))
            .map(|(i, _)| i);
        let asked = match &self.catch_up {
            Some(CatchUp::Entries { from: f, after, .. }) if *f == from => Some(*after),
            _ => None,
        };
        match (asked, reached) {
            (Some(after), Some(reached)) if reached > after => {
                // Phase 1 is moving: the campaign does not time out.
                self.leader_since = self.now;
                self.ask_entries(from, reached);
            }
            (Some(_), _) => {}
            (None, reached) => {
                self.leader_since = self.now;
                self.ask_entries(from, reached.unwrap_or(self.decided));
            }
        }
    }

    /// Asks `from`, which promised this ballot, for its log after `after`.
    pub(crate) fn ask_entries(&mut self, from: NodeId, after: Index) {
        self.catch_up = Some(CatchUp::Entries {
            from,
            after,
            quiet: 0,
        });
        let last_index = self.last_index();
        let last_term = self.log.last_term().unwrap_or(0);
        self.send(
            from,
            Body::Prepare {
                decided: after.min(last_index),
                last_term,
                last_index,
            },
        );
    }

    /// Starts (or goes on with) fetching `from`'s snapshot `meta`.
    pub(crate) fn fetch_snapshot(&mut self, from: NodeId, meta: SnapshotMeta) {
        let going = matches!(&self.catch_up,
            Some(CatchUp::Snapshot { from: f, meta: m, .. })
                if *f == from && m.index == meta.index && m.term == meta.term);
        if going {
            return;
        }
        let received = self.received_of(&meta);
        self.catch_up = Some(CatchUp::Snapshot {
            from,
            meta,
            received,
            quiet: 0,
        });
        self.request_pieces(received, PIECES_IN_FLIGHT);
    }

    /// Asks for `count` pieces from `offset` (only the first while the
    /// snapshot's size is not known yet).
    fn request_pieces(&mut self, offset: u64, count: u64) {
        let Some(CatchUp::Snapshot { from, meta, .. }) = &self.catch_up else {
            return;
        };
        let (from, index) = (*from, meta.index);
        let total = self
            .incoming
            .as_ref()
            .filter(|i| i.is_of(meta))
            .map(|i| i.total());
        let chunk = self.config.snapshot_chunk_bytes.max(1);
        for k in 0..count {
            let Some(at) = chunk
                .checked_mul(k)
                .and_then(|step| offset.checked_add(step))
            else {
                return;
            };
            if total.is_none_or(|t| at >= t) && k > 0 {
                return;
            }
            self.send(from, Body::FetchPiece { index, offset: at });
        }
    }

    /// As candidate, a beat from `from`: after `QUIET_BEATS` of them
    /// without the catch-up from `from` moving, the request in progress
    /// goes again (the entries asked for; the window of pieces from the
    /// first missing one, since pieces past a gap are not kept).
    pub(crate) fn catch_up_heard(&mut self, from: NodeId) {
        let now = match &self.catch_up {
            Some(CatchUp::Snapshot { meta, .. }) => self.received_of(meta),
            _ => 0,
        };
        let resend = match &mut self.catch_up {
            Some(CatchUp::Entries {
                from: source,
                after,
                quiet,
            }) if *source == from => {
                *quiet += 1;
                (*quiet >= QUIET_BEATS).then_some(Err(*after))
            }
            Some(CatchUp::Snapshot {
                from: source,
                received,
                quiet,
                ..
            }) if *source == from => {
                if now == *received {
                    *quiet += 1;
                } else {
                    (*received, *quiet) = (now, 0);
                }
                (*quiet >= QUIET_BEATS).then(|| {
                    *quiet = 0;
                    Ok(now)
                })
            }
            _ => None,
        };
        match resend {
            Some(Err(after)) => self.ask_entries(from, after),
            Some(Ok(received)) => self.request_pieces(received, PIECES_IN_FLIGHT),
            None => {}
        }
    }

    /// A piece of the snapshot this candidate is fetching.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_promise_piece(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        meta: SnapshotMeta,
        total: u64,
        offset: u64,
        data: bytes::Bytes,
    ) -> Result<(), Error> {
        if self.role != Role::Candidate || ballot != self.promised {
            return Err(Error::Stale);
        }
        let Some(CatchUp::Snapshot {
            from: source,
            meta: wanted,
            ..
        }) = &self.catch_up
        else {
            return Err(Error::Stale);
        };
        if *source != from {
            return Err(Error::Stale);
        }
        if (wanted.index, wanted.term) != (meta.index, meta.term) {
            // The acceptor compacted again: its newer snapshot is the one
            // to fetch (it answers with that one's first piece).
            if offset != 0 {
                return Ok(());
            }
            self.catch_up = Some(CatchUp::Snapshot {
                from,
                meta: meta.clone(),
                received: 0,
                quiet: 0,
            });
        }
        let index = meta.index;
        match self.take_piece(meta, total, offset, data) {
            PieceTaken::Held => self.snapshot_caught_up(from, index),
            // Out of order: the beat asks again from the first missing.
            PieceTaken::Gap(_) => {}
            PieceTaken::Took {
                received,
                installed,
            } => {
                // Phase 1 is moving: the campaign does not time out.
                self.leader_since = self.now;
                if installed {
                    self.snapshot_caught_up(from, index);
                } else if offset == 0 {
                    // The first piece told the size: open the window.
                    self.request_pieces(received, PIECES_IN_FLIGHT);
                } else {
                    // Keep the window full.
                    let ahead = self
                        .config
                        .snapshot_chunk_bytes
                        .max(1)
                        .saturating_mul(PIECES_IN_FLIGHT - 1);
                    let next = received.saturating_add(ahead);
                    if next < total {
                        self.send(
                            from,
                            Body::FetchPiece {
                                index,
                                offset: next,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// This log holds the snapshot (installed, or it held its last entry):
    /// ask for the entries after it.
    fn snapshot_caught_up(&mut self, from: NodeId, index: Index) {
        self.ask_entries(from, index.min(self.last_index()));
    }
}
