//! Shared by the log's tests: entries, a small-segment configuration, and
//! the comparison of a log with raft-core's `MemStorage` as the model.

#![allow(dead_code)]

use synod_raft_core::{
    Bytes, ConfChange, ConfChangeKind, Entry, HardState, MemStorage, Payload, Storage,
};
use synod_wal::fs::Dir;
use synod_wal::{Options, Wal};

/// Segments of 4 KiB (the smallest allowed), so a few dozen entries span
/// several of them.
pub(crate) fn small() -> Options {
    Options {
        segment_bytes: 4096,
        cache_bytes: 256,
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

/// Entries `lo..=hi` of `term`.
pub(crate) fn entries(lo: u64, hi: u64, term: u64) -> Vec<Entry> {
    (lo..=hi).map(|i| entry(i, term)).collect()
}

/// Checks that `wal` holds what `model` holds: the same last index, hard
/// state, snapshot and membership, and the same entries and terms from the
/// later of the two first indexes on. The log may keep older entries than
/// the model after a reopen (it deletes whole segments only), never fewer.
pub(crate) fn assert_same<D: Dir>(wal: &Wal<D>, model: &MemStorage, context: &str) {
    let (w_first, m_first) = (wal.first_index().unwrap(), model.first_index().unwrap());
    let last = model.last_index().unwrap();
    assert_eq!(wal.last_index().unwrap(), last, "{context}: last index");
    assert!(
        w_first <= m_first,
        "{context}: first index {w_first} > model's {m_first}"
    );
    let w_init = wal.initial_state().unwrap();
    let m_init = model.initial_state().unwrap();
    assert_eq!(
        w_init.hard_state, m_init.hard_state,
        "{context}: hard state"
    );
    assert_eq!(
        w_init.conf_state, m_init.conf_state,
        "{context}: membership"
    );
    assert_eq!(
        wal.snapshot(0).unwrap(),
        model.snapshot(0).unwrap(),
        "{context}: snapshot"
    );
    for index in m_first - 1..=last {
        assert_eq!(
            wal.term(index),
            model.term(index),
            "{context}: term of {index}"
        );
    }
    if m_first <= last {
        let got = wal.entries(m_first, last + 1, u64::MAX).unwrap();
        let want = model.entries(m_first, last + 1, u64::MAX).unwrap();
        assert_eq!(got, want, "{context}: entries");
    }
}

/// A hard state.
pub(crate) fn hs(term: u64, vote: Option<u64>, commit: u64) -> HardState {
    HardState { term, vote, commit }
}
