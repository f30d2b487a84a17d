//! Checks run on every message before any handler: what no correct peer
//! sends is refused here, so handlers may add one to any index.

use synod_protocol::{ConfState, Entry, Index, Term};

use crate::message::{Body, Message, Suffix};

/// Why no correct peer could have sent `msg`, if so.
pub(crate) fn malformation(msg: &Message) -> Option<&'static str> {
    let owned = msg.ballot.node() == msg.from;
    let to_owner = msg.ballot.node() == msg.to;
    match &msg.body {
        Body::Prepare {
            last_index,
            decided,
            ..
        } if !owned || *last_index == u64::MAX || decided > last_index => Some(
            "prepare not in the sender's own ballot, past the index range, or decided past its log",
        ),
        Body::AcceptSync { suffix, .. } if !owned => {
            let _ = suffix;
            Some("accept-sync not in the sender's own ballot")
        }
        Body::AcceptSync { suffix, .. } => suffix_malformation(msg.ballot.0, suffix),
        Body::Accept { .. } | Body::Read { .. } | Body::TakeOver if !owned => {
            Some("leader message not in the sender's own ballot")
        }
        Body::Accept {
            prev_index,
            entries,
            ..
        } => entries_malformation(msg.ballot.0, *prev_index, entries),
        Body::SnapshotPiece { .. } if !owned => {
            Some("snapshot piece not in the sender's own ballot")
        }
        Body::SnapshotPiece {
            meta,
            total,
            offset,
            data,
        } => piece_malformation(msg.ballot.0, meta, *total, *offset, data),
        Body::FetchPiece { .. } if !owned => Some("fetch not in the sender's own ballot"),
        Body::FetchPiece { index, .. } if *index == 0 || *index == u64::MAX => {
            Some("fetch of a snapshot at no index, or past the index range")
        }
        Body::PromisePiece { .. } if !to_owner => {
            Some("answer in a ballot the addressee does not own")
        }
        Body::PromisePiece {
            meta,
            total,
            offset,
            data,
        } => piece_malformation(msg.ballot.0, meta, *total, *offset, data),
        Body::Promise { .. }
        | Body::Accepted { .. }
        | Body::ReadAck { .. }
        | Body::SnapshotAck { .. }
            if !to_owner =>
        {
            Some("answer in a ballot the addressee does not own")
        }
        Body::Promise {
            suffix,
            last_index,
            decided,
            pieces,
            ..
        } => {
            if *last_index == u64::MAX || decided > last_index {
                return Some("promise past the index range, or decided past its log");
            }
            if let Some(meta) = pieces {
                if meta.index == 0
                    || meta.index > *last_index
                    || meta.term > msg.ballot.0
                    || suffix.snapshot.is_some()
                    || !suffix.entries.is_empty()
                {
                    return Some("promise naming a snapshot it could not hold, beside a suffix");
                }
                if let Some(why) = conf_state_malformation(&meta.conf_state) {
                    return Some(why);
                }
            }
            suffix_malformation(msg.ballot.0, suffix)
        }
        _ => None,
    }
}

/// A snapshot piece no correct peer sends: at no index, of a term past
/// the ballot, past the snapshot's end, or empty before it.
fn piece_malformation(
    ballot: Term,
    meta: &synod_protocol::SnapshotMeta,
    total: u64,
    offset: u64,
    data: &[u8],
) -> Option<&'static str> {
    if meta.index == 0 || meta.index == u64::MAX || meta.term > ballot {
        return Some("snapshot piece at no index, past the index range, or past the ballot");
    }
    if offset
        .checked_add(data.len() as u64)
        .is_none_or(|end| end > total)
        || (data.is_empty() && offset < total)
    {
        return Some("snapshot piece past the snapshot's end, or empty before it");
    }
    conf_state_malformation(&meta.conf_state)
}

fn suffix_malformation(ballot: Term, suffix: &Suffix) -> Option<&'static str> {
    if let Some(s) = &suffix.snapshot
        && (s.meta.index != suffix.after || s.meta.term > ballot)
    {
        return Some("suffix whose snapshot does not end where its entries start");
    }
    if let Some(s) = &suffix.snapshot
        && let Some(why) = conf_state_malformation(&s.meta.conf_state)
    {
        return Some(why);
    }
    entries_malformation(ballot, suffix.after, &suffix.entries)
}

/// A snapshot's membership no node could start from.
fn conf_state_malformation(cs: &ConfState) -> Option<&'static str> {
    let bad_id = |&id: &u64| id == 0 || id > crate::ballot::MAX_NODE_ID;
    if cs.voters.is_empty()
        || cs
            .voters
            .iter()
            .chain(&cs.voters_outgoing)
            .chain(&cs.learners)
            .any(bad_id)
        || cs
            .learners
            .iter()
            .any(|l| cs.voters.contains(l) || cs.voters_outgoing.contains(l))
    {
        return Some("snapshot whose membership no node could start from");
    }
    None
}

/// Entries follow `prev` one by one without reaching u64::MAX, their terms
/// never decrease nor pass the ballot.
fn entries_malformation(ballot: Term, prev: Index, entries: &[Entry]) -> Option<&'static str> {
    let last = prev.checked_add(entries.len() as u64);
    if last.is_none_or(|l| l == u64::MAX) {
        return Some("entries past the index range");
    }
    let mut floor = 0;
    for (i, e) in entries.iter().enumerate() {
        if e.index != prev + 1 + i as u64 {
            return Some("entries not numbered one by one");
        }
        if e.term < floor || e.term > ballot {
            return Some("entries with terms out of order or past the ballot");
        }
        floor = e.term;
    }
    None
}
