//! Raft's records inside segments: entries, hard states and log resets.
//!
//! Every payload is little-endian with fixed-width fields (docs/wal.md,
//! "Raft records"):
//!
//! ```text
//!  entry (kind 1)          hard state (kind 2)     reset (kind 3) and
//!                                                  anchor (kind 4)
//!   0  8  index             0  8  term              0  8  index
//!   8  8  term              8  8  vote (0: none)    8  8  term
//!  16  1  payload type     16  8  commit
//!  17  7  reserved, zero
//!  24  n  body: command bytes (type 1), or 9 bytes per membership change
//!         (type 2: kind 0 add voter, 1 add learner, 2 remove; node u64);
//!         nothing for a no-op (type 0)
//! ```
//!
//! Replay rules: an entry at index `i` discards every entry at `i` or
//! after first (Raft's truncation); the last hard state wins; a reset
//! (written when a snapshot is installed) empties the log, which then
//! continues after `(index, term)`. An anchor opens each segment after the
//! first with the log's last `(index, term)` at that moment, so a log whose
//! older segments were deleted still knows the term of the entry before its
//! first (what an append to a follower at that point needs).

use synod_raft_core::{
    Bytes, ConfChange, ConfChangeKind, ConfChangeSingle, Entry, HardState, Index, Payload, Term,
};

use crate::error::Error;

/// Record kind of one log entry.
pub const KIND_ENTRY: u8 = 1;
/// Record kind of a hard state.
pub const KIND_HARD_STATE: u8 = 2;
/// Record kind of a log reset.
pub const KIND_RESET: u8 = 3;
/// Record kind of a segment's anchor: the log's last entry when the
/// segment was created.
pub const KIND_ANCHOR: u8 = 4;

/// Bytes of an entry record's fixed head, before its body.
pub const ENTRY_HEAD_BYTES: usize = 24;
const CHANGE_BYTES: usize = 9;

const TYPE_NOOP: u8 = 0;
const TYPE_COMMAND: u8 = 1;
const TYPE_CONF_CHANGE: u8 = 2;

/// One decoded Raft record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaftRecord {
    /// A log entry.
    Entry(Entry),
    /// A hard state.
    HardState(HardState),
    /// The log's last entry when the segment holding this was created.
    Anchor {
        /// Its index.
        index: Index,
        /// Its term.
        term: Term,
    },
    /// The log restarts empty after `(index, term)`.
    Reset {
        /// The index the log continues after.
        index: Index,
        /// Its term.
        term: Term,
    },
}

/// The fixed head and the body of `entry`'s record, for
/// [`crate::segment::SegmentWriter::append_parts`] (a command's bytes are
/// not copied into an intermediate buffer).
///
/// # Errors
/// [`Error::BadRecord`] for a payload kind this format does not know.
pub fn encode_entry<'e>(
    entry: &'e Entry,
    body: &'e mut Vec<u8>,
) -> Result<([u8; ENTRY_HEAD_BYTES], &'e [u8]), Error> {
    let mut head = [0u8; ENTRY_HEAD_BYTES];
    head[..8].copy_from_slice(&entry.index.to_le_bytes());
    head[8..16].copy_from_slice(&entry.term.to_le_bytes());
    let data: &[u8] = match &entry.payload {
        Payload::Noop => {
            head[16] = TYPE_NOOP;
            &[]
        }
        Payload::Command(data) => {
            head[16] = TYPE_COMMAND;
            data
        }
        Payload::ConfChange(cc) => {
            head[16] = TYPE_CONF_CHANGE;
            body.clear();
            for change in &cc.changes {
                body.push(match change.kind {
                    ConfChangeKind::AddVoter => 0,
                    ConfChangeKind::AddLearner => 1,
                    ConfChangeKind::Remove => 2,
                });
                body.extend_from_slice(&change.node.to_le_bytes());
            }
            body
        }
        _ => {
            return Err(Error::BadRecord {
                file: String::new(),
                offset: 0,
                why: "a payload kind this format cannot store",
            });
        }
    };
    Ok((head, data))
}

/// Bytes of `entry`'s record payload (head and body).
#[must_use]
pub fn entry_payload_bytes(entry: &Entry) -> usize {
    ENTRY_HEAD_BYTES
        + match &entry.payload {
            Payload::Command(data) => data.len(),
            Payload::ConfChange(cc) => CHANGE_BYTES * cc.changes.len(),
            _ => 0,
        }
}

/// The payload of a hard-state record.
#[must_use]
pub fn encode_hard_state(hs: &HardState) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&hs.term.to_le_bytes());
    out[8..16].copy_from_slice(&hs.vote.unwrap_or(0).to_le_bytes());
    out[16..].copy_from_slice(&hs.commit.to_le_bytes());
    out
}

/// The payload of a reset or an anchor record.
#[must_use]
pub fn encode_reset(index: Index, term: Term) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&index.to_le_bytes());
    out[8..].copy_from_slice(&term.to_le_bytes());
    out
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The index and term of an entry record, without decoding its body (what
/// recovery needs to build the index).
///
/// # Errors
/// The reason, for an entry record too short to hold its head.
pub fn entry_position(payload: &[u8]) -> Result<(Index, Term), &'static str> {
    if payload.len() < ENTRY_HEAD_BYTES {
        return Err("entry record shorter than its head");
    }
    Ok((u64_at(payload, 0), u64_at(payload, 8)))
}

/// Checks an entry record's payload without copying it (what recovery
/// needs: every field valid) and returns its index and term.
///
/// # Errors
/// The reason, for a payload that is not a valid entry.
pub fn check_entry(payload: &[u8]) -> Result<(Index, Term), &'static str> {
    let (index, term) = entry_position(payload)?;
    if index == 0 {
        return Err("entry at index 0");
    }
    if payload[17..ENTRY_HEAD_BYTES] != [0; 7] {
        return Err("reserved entry bytes set");
    }
    let body = &payload[ENTRY_HEAD_BYTES..];
    match payload[16] {
        TYPE_NOOP if body.is_empty() => {}
        TYPE_NOOP => return Err("no-op entry with a body"),
        TYPE_COMMAND => {}
        TYPE_CONF_CHANGE => {
            decode_changes(body)?;
        }
        _ => return Err("unknown entry payload type"),
    }
    Ok((index, term))
}

/// Decodes one record of `kind`. A command's bytes are a slice of
/// `payload` (no copy): pass the buffer the record was read into.
///
/// # Errors
/// The reason, for a payload that is not a valid record of its kind (the
/// caller names file and offset).
pub fn decode(kind: u8, payload: Bytes) -> Result<RaftRecord, &'static str> {
    match kind {
        KIND_ENTRY => decode_entry(payload).map(RaftRecord::Entry),
        KIND_HARD_STATE => {
            if payload.len() != 24 {
                return Err("hard state record is not 24 bytes");
            }
            let vote = u64_at(&payload, 8);
            Ok(RaftRecord::HardState(HardState {
                term: u64_at(&payload, 0),
                vote: (vote != 0).then_some(vote),
                commit: u64_at(&payload, 16),
            }))
        }
        KIND_RESET | KIND_ANCHOR => {
            if payload.len() != 16 {
                return Err("reset or anchor record is not 16 bytes");
            }
            let (index, term) = (u64_at(&payload, 0), u64_at(&payload, 8));
            Ok(if kind == KIND_RESET {
                RaftRecord::Reset { index, term }
            } else {
                RaftRecord::Anchor { index, term }
            })
        }
        _ => Err("unknown record kind"),
    }
}

/// Decodes an entry record's payload.
///
/// # Errors
/// The reason, for a payload that is not a valid entry.
pub fn decode_entry(payload: Bytes) -> Result<Entry, &'static str> {
    let (index, term) = check_entry(&payload)?;
    let body = payload.slice(ENTRY_HEAD_BYTES..);
    let payload = match payload[16] {
        TYPE_NOOP => Payload::Noop,
        TYPE_COMMAND => Payload::Command(body),
        _ => Payload::ConfChange(decode_changes(&body)?),
    };
    Ok(Entry {
        term,
        index,
        payload,
    })
}

fn decode_changes(body: &[u8]) -> Result<ConfChange, &'static str> {
    if !body.len().is_multiple_of(CHANGE_BYTES) {
        return Err("membership change body is not 9 bytes per change");
    }
    let changes = body
        .chunks_exact(CHANGE_BYTES)
        .map(|c| {
            let kind = match c[0] {
                0 => ConfChangeKind::AddVoter,
                1 => ConfChangeKind::AddLearner,
                2 => ConfChangeKind::Remove,
                _ => return Err("unknown membership change kind"),
            };
            Ok(ConfChangeSingle {
                kind,
                node: u64_at(c, 1),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(ConfChange { changes })
}
