//! Shared by the log's tests: entries, a small-segment configuration, and
//! the comparison of a log with raft-core's `MemStorage` as the model.

#![allow(dead_code)]

use synod_raft_core::{
    Bytes, ConfChange, ConfChangeKind, ConfState, Entry, HardState, MemStorage, Payload, Storage,
};
use synod_wal::fs::Dir;
use synod_wal::{Options, Wal};

/// Segments of 4 KiB (the smallest allowed), so a few dozen entries span
/// several of them.
pub(crate) fn small() -> Options {
    Options {
        segment_bytes: 4096,
        cache_bytes: 256,
        // Syncs of up to 204 bytes zero the next 2 KiB: some of the tests'
        // syncs do, some do not.
        zero_ahead_bytes: 2048,
        // Syncs of 1 KiB and more end on a page boundary with a padding
        // record (some of the tests' syncs do, most do not).
        pad_syncs_from_bytes: 1024,
        ..Options::default()
    }
}

/// Entry `index` of `term`: commands of varying size, with a no-op and a
/// membership change now and then.
pub(crate) fn entry(index: u64, term: u64) -> Entry {
    let payload = match index % 11 {
        0 => Payload::Noop,
        5 => Payload::ConfChange(ConfChange::single(ConfChangeKind::AddLearner, index)),
        _ => {
            let len = (index * 37 + term * 13) as usize % 300;
            Payload::Command(Bytes::from(
                (0..len)
                    .map(|i| (i as u64 ^ index ^ (term << 3)) as u8)
                    .collect::<Vec<_>>(),
            ))
        }
    };
    Entry {
        term,
        index,
        payload,
    }
}

/// Entry `index` of `term` as [`entry`] makes it, except that every
/// third command is large enough (`record::SPLICE_MIN_BYTES` and up) that
/// the log writes it from its own buffer, spliced between the batch's
/// owned bytes, rather than copying it.
pub(crate) fn entry_large(index: u64, term: u64) -> Entry {
    let mut e = entry(index, term);
    if index % 3 == 1 && matches!(e.payload, Payload::Command(_)) {
        let len = synod_wal::record::SPLICE_MIN_BYTES + (index * 61 + term) as usize % 3000;
        e.payload = Payload::Command(Bytes::from(
            (0..len)
                .map(|i| (i as u64 ^ index.rotate_left(7) ^ term) as u8)
                .collect::<Vec<_>>(),
        ));
    }
    e
}

/// [`small`] with segments that hold several large entries
/// ([`entry_large`]) beside small ones.
/// Batches of more than 8 KiB are written ahead of their sync, a record
/// at a time (`Options::write_behind_bytes`).
pub(crate) fn roomy() -> Options {
    Options {
        segment_bytes: 32 << 10,
        write_behind_bytes: 8 << 10,
        ..small()
    }
}

/// Entries `lo..=hi` of `term`.
pub(crate) fn entries(lo: u64, hi: u64, term: u64) -> Vec<Entry> {
    (lo..=hi).map(|i| entry(i, term)).collect()
}

/// Checks that `wal` holds what `model` holds: the same last index, hard
/// state, snapshot and membership, and the same entries and terms from the
/// later of the two first indexes on. The log may keep older entries than
/// the model after a reopen (it deletes whole segments only), never fewer.
pub(crate) fn assert_same<D: Dir>(wal: &Wal<D>, model: &MemStorage, context: &str) {
    if let Some(diff) = diff(wal, model) {
        panic!("{context}: {diff}");
    }
}

/// What differs between `wal` and `model` (see [`assert_same`]), if
/// anything.
pub(crate) fn diff<D: Dir>(wal: &Wal<D>, model: &MemStorage) -> Option<String> {
    let (w_first, m_first) = (wal.first_index().unwrap(), model.first_index().unwrap());
    let (w_last, last) = (wal.last_index().unwrap(), model.last_index().unwrap());
    if w_last != last {
        return Some(format!("last index {w_last}, model {last}"));
    }
    if w_first > m_first {
        return Some(format!("first index {w_first} > model's {m_first}"));
    }
    let w_init = wal.initial_state().unwrap();
    let m_init = model.initial_state().unwrap();
    if w_init != m_init {
        return Some(format!("initial state {w_init:?}, model {m_init:?}"));
    }
    let (w_snap, m_snap) = (wal.snapshot(0).unwrap(), model.snapshot(0).unwrap());
    if w_snap != m_snap {
        return Some(format!(
            "snapshot {:?}, model {:?}",
            w_snap.meta, m_snap.meta
        ));
    }
    for index in m_first - 1..=last {
        let (w, m) = (wal.term(index), model.term(index));
        if w != m {
            return Some(format!("term of {index}: {w:?}, model {m:?}"));
        }
    }
    if m_first <= last {
        let got = wal.entries(m_first, last + 1, u64::MAX).unwrap();
        let want = model.entries(m_first, last + 1, u64::MAX).unwrap();
        if got != want {
            return Some(format!("entries {m_first}..={last} differ"));
        }
    }
    None
}

/// A hard state.
pub(crate) fn hs(term: u64, vote: Option<u64>, commit: u64) -> HardState {
    HardState { term, vote, commit }
}

/// Commits both through `index`, snapshots both there with membership
/// `conf`, and compacts both there: what a node does once it has applied
/// `index`.
pub(crate) fn snapshot_and_compact<D: Dir>(
    wal: &mut Wal<D>,
    model: &mut MemStorage,
    index: u64,
    conf: ConfState,
) {
    let state = HardState {
        commit: index.max(model.hard_state().commit),
        ..model.hard_state()
    };
    wal.set_hard_state(state).unwrap();
    model.set_hard_state(state);
    let data = format!("applied {index}").into_bytes();
    wal.create_snapshot(index, conf.clone(), data.clone())
        .unwrap();
    model.create_snapshot(index, conf, data).unwrap();
    wal.compact(index).unwrap();
    model.compact(index).unwrap();
}
