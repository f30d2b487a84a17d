//! MemStorage: the reads the node relies on, and the writes an application
//! performs, including every error a caller can provoke.

use synod_raft_core::*;

fn e(index: Index, term: Term) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Noop,
    }
}

fn data(index: Index, term: Term, bytes: usize) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Command(vec![7; bytes].into()),
    }
}

/// A log 1..=5 with terms 1,1,2,2,3.
fn five() -> MemStorage {
    let mut s = MemStorage::new();
    s.append(&[e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 3)])
        .unwrap();
    s
}

#[test]
fn empty_storage() {
    let s = MemStorage::with_voters(&[3, 1, 2, 1]);
    assert_eq!(s.first_index(), Ok(1));
    assert_eq!(s.last_index(), Ok(0));
    assert_eq!(s.term(0), Ok(0));
    assert_eq!(
        s.term(1),
        Err(StorageError::Unavailable {
            index: 1,
            last_index: 0
        })
    );
    assert_eq!(s.entries(1, 1, u64::MAX), Ok(vec![]));
    let init = s.initial_state().unwrap();
    assert_eq!(init.conf_state.voters, vec![1, 2, 3]);
    assert_eq!(init.hard_state, HardState::default());
    assert_eq!(s.snapshot(0).unwrap().meta.index, 0);
    assert_eq!(
        s.snapshot(1),
        Err(StorageError::SnapshotTemporarilyUnavailable)
    );
}

#[test]
fn term_and_entries_ranges() {
    let s = five();
    assert_eq!(s.term(5), Ok(3));
    assert_eq!(
        s.term(6),
        Err(StorageError::Unavailable {
            index: 6,
            last_index: 5
        })
    );
    assert_eq!(s.entries(2, 4, u64::MAX), Ok(vec![e(2, 1), e(3, 2)]));
    assert_eq!(
        s.entries(1, 7, u64::MAX),
        Err(StorageError::Unavailable {
            index: 6,
            last_index: 5
        })
    );
    assert_eq!(
        s.entries(0, 2, u64::MAX),
        Err(StorageError::Compacted {
            index: 0,
            first_index: 1
        })
    );
    assert_eq!(s.entries(4, 3, u64::MAX), Ok(vec![]));
}

#[test]
fn entries_respect_the_size_limit_but_return_at_least_one() {
    let mut s = MemStorage::new();
    s.append(&[data(1, 1, 84), data(2, 1, 84), data(3, 1, 84)])
        .unwrap(); // 100 bytes each
    assert_eq!(s.entries(1, 4, 0).unwrap().len(), 1);
    assert_eq!(s.entries(1, 4, 199).unwrap().len(), 1);
    assert_eq!(s.entries(1, 4, 200).unwrap().len(), 2);
    assert_eq!(s.entries(1, 4, 300).unwrap().len(), 3);
}

#[test]
fn append_truncates_conflicts_and_refuses_gaps() {
    let mut s = five();
    s.append(&[e(4, 4), e(5, 4), e(6, 4)]).unwrap();
    assert_eq!(
        s.entries(1, 7, u64::MAX)
            .unwrap()
            .iter()
            .map(|x| x.term)
            .collect::<Vec<_>>(),
        [1, 1, 2, 4, 4, 4]
    );
    // Shorter overwrite: the suffix after it goes too (Raft §5.3).
    s.append(&[e(2, 5)]).unwrap();
    assert_eq!(s.last_index(), Ok(2));
    assert_eq!(
        s.append(&[e(4, 5)]),
        Err(StorageError::Gap {
            first: 4,
            last_index: 2
        })
    );
    assert_eq!(
        s.append(&[e(3, 5), e(5, 5)]),
        Err(StorageError::Gap {
            first: 5,
            last_index: 3
        })
    );
    assert_eq!(s.last_index(), Ok(2), "a refused append changes nothing");
}

#[test]
fn snapshot_then_compact_keeps_a_tail() {
    let mut s = five();
    let conf = ConfState {
        voters: vec![1, 2, 3],
        learners: vec![],
        voters_outgoing: vec![],
    };
    assert_eq!(
        s.compact(3),
        Err(StorageError::NotSnapshotted {
            index: 3,
            snapshot_index: 0
        })
    );
    let snap = s
        .create_snapshot(4, conf.clone(), b"state".to_vec())
        .unwrap()
        .clone();
    assert_eq!((snap.meta.index, snap.meta.term), (4, 2));
    assert_eq!(
        s.create_snapshot(3, conf.clone(), vec![]).unwrap_err(),
        StorageError::SnapshotOutOfDate {
            index: 3,
            current: 4
        }
    );
    // Keep entries 3.. for followers a little behind: compact to 2 only.
    s.compact(2).unwrap();
    assert_eq!(s.first_index(), Ok(3));
    assert_eq!(
        s.term(2),
        Ok(1),
        "the term of the compaction point stays known"
    );
    assert_eq!(
        s.term(1),
        Err(StorageError::Compacted {
            index: 1,
            first_index: 3
        })
    );
    assert_eq!(s.entries(3, 6, u64::MAX).unwrap().len(), 3);
    assert_eq!(
        s.compact(2),
        Err(StorageError::Compacted {
            index: 2,
            first_index: 3
        })
    );
    assert_eq!(
        s.compact(5),
        Err(StorageError::NotSnapshotted {
            index: 5,
            snapshot_index: 4
        })
    );
    s.compact(4).unwrap();
    assert_eq!(
        (s.first_index(), s.last_index(), s.term(4)),
        (Ok(5), Ok(5), Ok(2))
    );
    // Appending below the compaction point skips what is covered.
    s.append(&[e(3, 2), e(4, 2), e(5, 3), e(6, 3)]).unwrap();
    assert_eq!(s.last_index(), Ok(6));
    assert_eq!(s.snapshot(4).unwrap().data, &b"state"[..]);
}

#[test]
fn installing_a_leaders_snapshot_replaces_the_log() {
    let mut s = five();
    let snap = Snapshot {
        meta: SnapshotMeta {
            index: 10,
            term: 4,
            conf_state: ConfState {
                voters: vec![1, 2],
                learners: vec![3],
                voters_outgoing: vec![],
            },
        },
        data: b"x".to_vec().into(),
    };
    s.apply_snapshot(snap.clone()).unwrap();
    assert_eq!(
        (s.first_index(), s.last_index(), s.term(10)),
        (Ok(11), Ok(10), Ok(4))
    );
    assert_eq!(s.initial_state().unwrap().conf_state, snap.meta.conf_state);
    assert_eq!(s.hard_state().commit, 10);
    let old = Snapshot {
        meta: SnapshotMeta {
            index: 9,
            ..snap.meta.clone()
        },
        ..snap.clone()
    };
    assert_eq!(
        s.apply_snapshot(old),
        Err(StorageError::SnapshotOutOfDate {
            index: 9,
            current: 10
        })
    );
    assert_eq!(
        s.apply_snapshot(snap),
        Err(StorageError::SnapshotOutOfDate {
            index: 10,
            current: 10
        })
    );
    s.append(&[e(11, 4)]).unwrap();
    assert_eq!(s.entries(11, 12, u64::MAX), Ok(vec![e(11, 4)]));
}

// A restarted node replays entries after its snapshot on top of the stored
// configuration, so that configuration must be the snapshot's (found by
// synod-sim: a node restarted with its bootstrap voters and won an election
// with votes of removed nodes).
#[test]
fn creating_a_snapshot_records_its_configuration() {
    let mut s = MemStorage::with_voters(&[1, 2, 3]);
    s.append(&[e(1, 1), e(2, 1)]).unwrap();
    let conf = ConfState {
        voters: vec![2, 3],
        ..ConfState::default()
    };
    s.create_snapshot(2, conf.clone(), vec![]).unwrap();
    assert_eq!(s.initial_state().unwrap().conf_state, conf);
}

/// Compaction drops a prefix and appends go on after it, round and round:
/// every read sees exactly the live entries, in order, whatever the
/// storage's buffer does underneath.
#[test]
fn entries_read_back_across_many_compactions() {
    let conf = ConfState {
        voters: vec![1],
        learners: vec![],
        voters_outgoing: vec![],
    };
    let mut s = MemStorage::new();
    let mut next = 1;
    for round in 0..40u64 {
        let batch: Vec<Entry> = (next..next + 7)
            .map(|i| data(i, 1 + i / 50, (i % 5) as usize))
            .collect();
        s.append(batch).unwrap();
        next += 7;
        let last = next - 1;
        let keep_from = last - 2 - round % 4;
        s.create_snapshot(keep_from, conf.clone(), vec![]).unwrap();
        s.compact(keep_from).unwrap();
        let first = keep_from + 1;
        assert_eq!(s.first_index(), Ok(first));
        let got = s.entries(first, last + 1, u64::MAX).unwrap();
        let want: Vec<Entry> = (first..=last)
            .map(|i| data(i, 1 + i / 50, (i % 5) as usize))
            .collect();
        assert_eq!(got, want, "round {round}");
        // The size limit counts from the first entry asked for.
        assert_eq!(s.entries(first, last + 1, 0).unwrap(), want[..1]);
        assert_eq!(s.term(last), Ok(1 + last / 50));
    }
}

/// A storage that implements only `entries`: the trait's default
/// `entries_into` over it.
struct OnlyEntries(MemStorage);

impl Storage for OnlyEntries {
    fn initial_state(&self) -> Result<InitialState, StorageError> {
        self.0.initial_state()
    }
    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        self.0.entries(lo, hi, max_bytes)
    }
    fn term(&self, index: Index) -> Result<Term, StorageError> {
        self.0.term(index)
    }
    fn first_index(&self) -> Result<Index, StorageError> {
        self.0.first_index()
    }
    fn last_index(&self) -> Result<Index, StorageError> {
        self.0.last_index()
    }
    fn snapshot(&self, request_index: Index) -> Result<Snapshot, StorageError> {
        self.0.snapshot(request_index)
    }
}

#[test]
fn entries_into_fills_the_buffer_given_and_reads_as_entries_does() {
    let s = five();
    let mut out = Vec::with_capacity(64);
    let at = out.as_ptr();
    s.entries_into(2, 5, u64::MAX, &mut out).unwrap();
    assert_eq!(out, s.entries(2, 5, u64::MAX).unwrap());
    assert_eq!(
        out.as_ptr(),
        at,
        "MemStorage filled the buffer it was given"
    );
    let only = OnlyEntries(five());
    for (lo, hi, max) in [(1, 6, u64::MAX), (2, 4, 0), (3, 3, u64::MAX)] {
        let mut mem = Vec::new();
        let mut default = Vec::new();
        s.entries_into(lo, hi, max, &mut mem).unwrap();
        only.entries_into(lo, hi, max, &mut default).unwrap();
        assert_eq!(mem, s.entries(lo, hi, max).unwrap(), "{lo}..{hi}");
        assert_eq!(default, mem, "{lo}..{hi}");
    }
    let mut out = Vec::new();
    assert!(matches!(
        s.entries_into(0, 3, u64::MAX, &mut out),
        Err(StorageError::Compacted { .. })
    ));
    assert!(matches!(
        s.entries_into(4, 9, u64::MAX, &mut out),
        Err(StorageError::Unavailable { .. })
    ));
    assert!(out.is_empty(), "nothing read on an error");
}
