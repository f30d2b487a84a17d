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
use crate::pacing::Pacing;
use crate::snapshot::PieceTaken;

/// Pieces of a snapshot a candidate asks for at once.
const PIECES_IN_FLIGHT: u64 = 4;

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
        /// When to ask again.
        pacing: Pacing,
    },
    /// Fetching `from`'s snapshot in pieces.
    Snapshot {
        /// The acceptor.
        from: NodeId,
        /// The snapshot.
        meta: SnapshotMeta,
        /// When to ask again.
        pacing: Pacing,
    },
}

impl CatchUp {
    fn from(&self) -> NodeId {
        match self {
            Self::Entries { from, .. } | Self::Snapshot { from, .. } => *from,
        }
    }

    fn pacing_mut(&mut self) -> &mut Pacing {
        match self {
            Self::Entries { pacing, .. } | Self::Snapshot { pacing, .. } => pacing,
        }
    }
}

impl<S: Storage, R: rand::Rng> PaxosNode<S, R> {
    /// The catch-up from `from` in progress, moved at this tick (a fresh
    /// clock when none is).
    fn pacing_moved(&mut self, from: NodeId) -> Pacing {
        let now = self.now;
        match self.catch_up.as_mut() {
            Some(c) if c.from() == from => {
                let pacing = c.pacing_mut();
                pacing.moved(now);
                pacing.clone()
            }
            _ => Pacing::new(now),
        }
    }

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

    /// Asks `from`, which promised this ballot, for its log after `after`
    /// (the catch-up moved: an answer arrived).
    pub(crate) fn ask_entries(&mut self, from: NodeId, after: Index) {
        let pacing = self.pacing_moved(from);
        self.request_entries(from, after, pacing);
    }

    /// Sends the request for `from`'s log after `after`.
    fn request_entries(&mut self, from: NodeId, after: Index, pacing: Pacing) {
        self.catch_up = Some(CatchUp::Entries {
            from,
            after,
            pacing,
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
        let pacing = self.pacing_moved(from);
        self.catch_up = Some(CatchUp::Snapshot { from, meta, pacing });
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

    /// As candidate, a beat from `from`: when the catch-up from `from`
    /// has not moved for long enough (see [`Pacing`]), the request in
    /// progress goes again (the entries asked for; the window of pieces
    /// from the first missing one, since pieces past a gap are not kept).
    pub(crate) fn catch_up_heard(&mut self, from: NodeId) {
        // At most half an election timeout between requests, so a piece
        // lost several times in a row still moves within the campaign's
        // window.
        let cap = u64::from(self.config.election_timeout_ticks / 2).max(1);
        let now = self.now;
        let Some(c) = self.catch_up.as_mut() else {
            return;
        };
        if c.from() != from || !c.pacing_mut().heard(now, cap) {
            return;
        }
        match c.clone() {
            CatchUp::Entries { after, pacing, .. } => self.request_entries(from, after, pacing),
            CatchUp::Snapshot { meta, .. } => {
                let received = self.received_of(&meta);
                self.request_pieces(received, PIECES_IN_FLIGHT);
            }
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
            let pacing = self.pacing_moved(from);
            self.catch_up = Some(CatchUp::Snapshot {
                from,
                meta: meta.clone(),
                pacing,
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
                    return Ok(());
                }
                self.pacing_moved(from);
                if offset == 0 {
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
