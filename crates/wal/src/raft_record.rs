//! Raft's records inside segments: entries, hard states, log resets and
//! anchors.
//!
//! Every payload is little-endian with fixed-width fields (docs/wal.md,
//! "Raft records"):
//!
//! ```text
//!  entries (kind 1): consecutive entries, one record per batch
//!   0  8  first index
//!   8  4  count (at least 1)
//!  12  4  reserved, zero
//!  16     then per entry:
//!          0  8  term
//!          8  1  payload type: 0 no-op, 1 command, 2 membership change
//!          9  3  reserved, zero
//!         12  4  body length n
//!         16  n  body: command bytes, or 9 bytes per membership change
//!                (kind 0 add voter, 1 add learner, 2 remove; node u64)
//!
//!  hard state (kind 2)     reset (kind 3) and anchor (kind 4)
//!   0  8  term              0  8  index
//!   8  8  vote (0: none)    8  8  term
//!  16  8  commit
//! ```
//!
//! Replay rules: an entry at index `i` discards every entry at `i` or
//! after first (Raft's truncation); the last hard state wins; a reset
//! (written when a snapshot is installed) empties the log, which then
//! continues after `(index, term)`. An anchor names the entry the next
//! entry follows: each segment after the first opens with one, and so does
//! each truncating append and each open, so a log whose older segments
//! were deleted still knows the term of the entry before its first (what
//! an append to a follower at that point needs).

use synod_protocol::{
    Bytes, ConfChange, ConfChangeKind, ConfChangeSingle, Entry, HardState, Index, Payload,
    StopSign, Term,
};

use crate::error::Error;
use crate::record::Sink;

/// Record kind of a batch of consecutive entries.
pub const KIND_ENTRIES: u8 = 1;
/// Record kind of a hard state.
pub const KIND_HARD_STATE: u8 = 2;
/// Record kind of a log reset.
pub const KIND_RESET: u8 = 3;
/// Record kind of an anchor: the entry the next entry follows.
pub const KIND_ANCHOR: u8 = 4;

/// Bytes of an entries record's head, before its first entry.
pub const BATCH_HEAD_BYTES: usize = 16;
/// Bytes of each entry's head inside an entries record, before its body.
pub const ENTRY_HEAD_BYTES: usize = 16;
const CHANGE_BYTES: usize = 9;

const TYPE_NOOP: u8 = 0;
const TYPE_COMMAND: u8 = 1;
const TYPE_CONF_CHANGE: u8 = 2;
const TYPE_STOP_SIGN: u8 = 3;
/// A stop-sign's body head: the counts of voters and learners (u32 each).
const STOP_SIGN_HEAD: usize = 8;

/// One decoded Raft record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaftRecord {
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

/// Bytes `entry` takes inside an entries record (head and body).
#[must_use]
pub fn entry_bytes(entry: &Entry) -> usize {
    ENTRY_HEAD_BYTES
        + match &entry.payload {
            Payload::Command(data) => data.len(),
            Payload::ConfChange(cc) => CHANGE_BYTES * cc.changes.len(),
            Payload::StopSign(ss) => stop_sign_bytes(ss),
            _ => 0,
        }
}

fn stop_sign_bytes(ss: &StopSign) -> usize {
    STOP_SIGN_HEAD + 8 * (ss.voters.len() + ss.learners.len()) + ss.metadata.len()
}

/// Appends the payload of an entries record holding `entries` (consecutive,
/// at least one) to `out`. The log encodes straight into its write batch
/// ([`crate::segment::SegmentWriter::append_spliced`]): small command
/// bodies are copied once, into the buffer that is written, and large ones
/// not at all (the write takes them from the entries' own buffers).
///
/// # Errors
/// [`Error::BadRecord`] for a payload kind this format cannot store or a
/// body of 4 GiB or more.
pub fn encode_entries<S: Sink + ?Sized>(entries: &[Entry], out: &mut S) -> Result<(), Error> {
    let unstorable = |why| Error::BadRecord {
        file: String::new(),
        offset: 0,
        why,
    };
    let first = entries.first().map_or(0, |e| e.index);
    let count = u32::try_from(entries.len()).map_err(|_| unstorable("too many entries"))?;
    let mut head = [0u8; BATCH_HEAD_BYTES];
    head[..8].copy_from_slice(&first.to_le_bytes());
    head[8..12].copy_from_slice(&count.to_le_bytes());
    out.put(&head);
    for entry in entries {
        let (kind, len) = match &entry.payload {
            Payload::Noop => (TYPE_NOOP, 0),
            Payload::Command(data) => (TYPE_COMMAND, data.len()),
            Payload::ConfChange(cc) => (TYPE_CONF_CHANGE, CHANGE_BYTES * cc.changes.len()),
            Payload::StopSign(ss) => (TYPE_STOP_SIGN, stop_sign_bytes(ss)),
            _ => return Err(unstorable("a payload kind this format cannot store")),
        };
        let len = u32::try_from(len).map_err(|_| unstorable("an entry of 4 GiB or more"))?;
        let mut head = [0u8; ENTRY_HEAD_BYTES];
        head[..8].copy_from_slice(&entry.term.to_le_bytes());
        head[8] = kind;
        head[12..].copy_from_slice(&len.to_le_bytes());
        out.put(&head);
        match &entry.payload {
            Payload::Command(data) => out.put_body(data),
            Payload::ConfChange(cc) => {
                for change in &cc.changes {
                    out.put(&[match change.kind {
                        ConfChangeKind::AddVoter => 0,
                        ConfChangeKind::AddLearner => 1,
                        ConfChangeKind::Remove => 2,
                    }]);
                    out.put(&change.node.to_le_bytes());
                }
            }
            Payload::StopSign(ss) => {
                let count = |list: &[u64]| {
                    u32::try_from(list.len()).map_err(|_| unstorable("a stop-sign of 2^32 nodes"))
                };
                out.put(&count(&ss.voters)?.to_le_bytes());
                out.put(&count(&ss.learners)?.to_le_bytes());
                for node in ss.voters.iter().chain(&ss.learners) {
                    out.put(&node.to_le_bytes());
                }
                out.put(&ss.metadata);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The size of a hard-state record's payload: term, vote, commit.
pub const HARD_STATE_BYTES: usize = 24;

/// The payload of a hard-state record.
#[must_use]
pub fn encode_hard_state(hs: &HardState) -> [u8; HARD_STATE_BYTES] {
    let mut out = [0u8; HARD_STATE_BYTES];
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

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// One entry of an entries record, as [`for_each_entry`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryAt {
    /// The entry's index.
    pub index: Index,
    /// Its term.
    pub term: Term,
    /// Its payload type (checked: 0, 1, 2 or 3).
    pub kind: u8,
    /// Where its body lies in the record's payload.
    pub body: std::ops::Range<usize>,
}

/// Checks an entries record's payload, every field, and calls `each` with
/// every entry in order (recovery's index build; reads decode with
/// [`decode_entries`]).
///
/// # Errors
/// The reason (`Err(Ok(why))`) for a payload that is not a valid entries
/// record, or what `each` returns (`Err(Err(e))`).
pub fn for_each_entry<E>(
    payload: &[u8],
    mut each: impl FnMut(EntryAt) -> Result<(), E>,
) -> Result<(), Result<&'static str, E>> {
    let head = payload
        .get(..BATCH_HEAD_BYTES)
        .ok_or(Ok("entries record shorter than its head"))?;
    let first = u64_at(head, 0);
    let count = u64::from(u32_at(head, 8));
    if u32_at(head, 12) != 0 {
        return Err(Ok("reserved entries-record bytes set"));
    }
    if first == 0 {
        return Err(Ok("entry at index 0"));
    }
    if count == 0 {
        return Err(Ok("entries record with no entry"));
    }
    if first.checked_add(count).is_none() {
        return Err(Ok("entry indexes past u64::MAX"));
    }
    let mut at = BATCH_HEAD_BYTES;
    for index in first..first + count {
        let h = payload
            .get(at..at + ENTRY_HEAD_BYTES)
            .ok_or(Ok("entry head cut short"))?;
        if h[9..12] != [0; 3] {
            return Err(Ok("reserved entry bytes set"));
        }
        let len = u32_at(h, 12) as usize;
        let start = at + ENTRY_HEAD_BYTES;
        let body = start..start.checked_add(len).ok_or(Ok("entry body overflows"))?;
        let bytes = payload
            .get(body.clone())
            .ok_or(Ok("entry body cut short"))?;
        match h[8] {
            TYPE_NOOP if bytes.is_empty() => {}
            TYPE_NOOP => return Err(Ok("no-op entry with a body")),
            TYPE_COMMAND => {}
            TYPE_CONF_CHANGE => {
                decode_changes(bytes).map_err(Ok)?;
            }
            TYPE_STOP_SIGN => {
                stop_sign_nodes(bytes).map_err(Ok)?;
            }
            _ => return Err(Ok("unknown entry payload type")),
        }
        at = body.end;
        each(EntryAt {
            index,
            term: u64_at(h, 0),
            kind: h[8],
            body,
        })
        .map_err(Err)?;
    }
    if at != payload.len() {
        return Err(Ok("bytes after the last entry"));
    }
    Ok(())
}

/// Decodes an entries record's payload. Command bytes are slices of
/// `payload` (no copy): pass the buffer the record was read into.
///
/// # Errors
/// The reason, for a payload that is not a valid entries record.
pub fn decode_entries(payload: &Bytes) -> Result<Vec<Entry>, &'static str> {
    let mut out = Vec::new();
    let found = for_each_entry::<std::convert::Infallible>(payload, |e| {
        let body = payload.slice(e.body);
        let decoded = match e.kind {
            TYPE_NOOP => Payload::Noop,
            TYPE_COMMAND => Payload::Command(body),
            // Checked by for_each_entry.
            TYPE_STOP_SIGN => {
                Payload::StopSign(Box::new(decode_stop_sign(&body).unwrap_or_default()))
            }
            _ => Payload::ConfChange(decode_changes(&body).unwrap_or_default()),
        };
        out.push(Entry {
            term: e.term,
            index: e.index,
            payload: decoded,
        });
        Ok(())
    });
    match found {
        Ok(()) => Ok(out),
        Err(Ok(why)) => Err(why),
        Err(Err(never)) => match never {},
    }
}

/// Decodes a hard-state, reset or anchor record.
///
/// # Errors
/// The reason, for a payload that is not a valid record of its kind.
pub fn decode(kind: u8, payload: &[u8]) -> Result<RaftRecord, &'static str> {
    match kind {
        KIND_HARD_STATE => {
            if payload.len() != 24 {
                return Err("hard state record is not 24 bytes");
            }
            let vote = u64_at(payload, 8);
            Ok(RaftRecord::HardState(HardState {
                term: u64_at(payload, 0),
                vote: (vote != 0).then_some(vote),
                commit: u64_at(payload, 16),
            }))
        }
        KIND_RESET | KIND_ANCHOR => {
            if payload.len() != 16 {
                return Err("reset or anchor record is not 16 bytes");
            }
            let (index, term) = (u64_at(payload, 0), u64_at(payload, 8));
            Ok(if kind == KIND_RESET {
                RaftRecord::Reset { index, term }
            } else {
                RaftRecord::Anchor { index, term }
            })
        }
        _ => Err("unknown record kind"),
    }
}

/// A stop-sign body's voter and learner counts, checked against its
/// length (the metadata is whatever follows the ids).
fn stop_sign_nodes(body: &[u8]) -> Result<(usize, usize), &'static str> {
    let head = body
        .get(..STOP_SIGN_HEAD)
        .ok_or("stop-sign body shorter than its head")?;
    let (voters, learners) = (u32_at(head, 0) as usize, u32_at(head, 4) as usize);
    let ids = (voters as u64 + learners as u64) * 8;
    if (body.len() - STOP_SIGN_HEAD) as u64 >= ids {
        Ok((voters, learners))
    } else {
        Err("stop-sign body shorter than its node ids")
    }
}

fn decode_stop_sign(body: &Bytes) -> Result<StopSign, &'static str> {
    let (voters, learners) = stop_sign_nodes(body)?;
    let ids_end = STOP_SIGN_HEAD + 8 * (voters + learners);
    let mut ids = (STOP_SIGN_HEAD..ids_end)
        .step_by(8)
        .map(|at| u64_at(body, at));
    Ok(StopSign {
        voters: ids.by_ref().take(voters).collect(),
        learners: ids.collect(),
        metadata: body.slice(ids_end..),
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
