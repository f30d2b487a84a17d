//! tikv's raft-engine on the same workload: one region, each round's
//! entries in one `LogBatch`, written with `sync = true`; fresh, and in a
//! steady state that compacts and purges, so its files are recycled.

use std::path::Path;

use raft::eraftpb::Entry;
use raft_engine::{Config, Engine, LogBatch, MessageExt};
use synod_raft_core::Bytes;
use synod_wal_bench::Log;

/// raft-engine's way to learn an entry's index.
#[derive(Clone)]
pub(crate) struct EntryExt;

impl MessageExt for EntryExt {
    type Entry = Entry;

    fn index(e: &Entry) -> u64 {
        e.index
    }
}

/// raft-engine 0.4 with its default configuration.
pub(crate) struct RaftEngineLog {
    engine: Engine,
    batch: LogBatch,
}

impl RaftEngineLog {
    fn open_with(config: Config) -> Self {
        Self {
            engine: Engine::open(config).expect("opens"),
            batch: LogBatch::default(),
        }
    }
}

impl Log for RaftEngineLog {
    const NAME: &'static str = "raft-engine 0.4";

    fn open(dir: &Path) -> Self {
        Self::open_with(Config {
            dir: dir.to_string_lossy().into_owned(),
            ..Config::default()
        })
    }

    fn round(&mut self, first: u64, batch: &[Bytes]) {
        let entries: Vec<Entry> = batch
            .iter()
            .zip(first..)
            .map(|(data, index)| Entry {
                index,
                term: 1,
                data: data.clone(),
                ..Entry::default()
            })
            .collect();
        self.batch
            .add_entries::<EntryExt>(1, &entries)
            .expect("add entries");
        self.engine.write(&mut self.batch, true).expect("write");
    }
}

/// raft-engine 0.4 as a node that has run for a while uses it: its
/// default configuration (which recycles purged files:
/// `enable_log_recycle`, format version 2's signed records) but with
/// `purge_threshold` at 256 MiB instead of 10 GiB, so that it purges at
/// all in this workload (and keeps at most three recycled 128 MiB files).
/// Opening it writes (untimed) three of its files and a little more with
/// 1 MiB entries, compacts them and purges, so its recycle pool is full;
/// in the rounds it compacts and purges after every 128 MiB written,
/// timed with the round. Never reset.
pub(crate) struct SteadyRaftEngineLog {
    log: RaftEngineLog,
    /// Added to the runner's indexes: the warm-up used the first ones.
    offset: u64,
    /// Payload bytes written since the last purge.
    since_purge: u64,
    last: u64,
}

const FILE_BYTES: u64 = 128 << 20;

impl SteadyRaftEngineLog {
    fn purge(&mut self) {
        self.log.engine.compact_to(1, self.last);
        self.log.engine.purge_expired_files().expect("purge");
        self.since_purge = 0;
    }
}

impl Log for SteadyRaftEngineLog {
    const NAME: &'static str = "raft-engine 0.4, recycling";
    const STEADY: bool = true;

    fn open(dir: &Path) -> Self {
        let mut log = Self {
            log: RaftEngineLog::open_with(Config {
                dir: dir.to_string_lossy().into_owned(),
                purge_threshold: raft_engine::ReadableSize(2 * FILE_BYTES),
                ..Config::default()
            }),
            offset: 0,
            since_purge: 0,
            last: 0,
        };
        let entry = synod_wal_bench::incompressible(1 << 20);
        let fill = 3 * (FILE_BYTES >> 20) + 1;
        for chunk in (1..=fill).collect::<Vec<u64>>().chunks(16) {
            let batch = vec![entry.clone(); chunk.len()];
            log.log.round(chunk[0], &batch);
        }
        log.last = fill;
        let queue = raft_engine::internals::LogQueue::Append;
        let (first, _) = log.log.engine.file_span(queue);
        log.purge();
        let (after, _) = log.log.engine.file_span(queue);
        assert!(after > first, "the warm-up's files were purged");
        log.offset = fill;
        log
    }

    fn round(&mut self, first: u64, batch: &[Bytes]) {
        self.log.round(self.offset + first, batch);
        self.last = self.offset + first + batch.len() as u64 - 1;
        self.since_purge += batch.iter().map(|b| b.len() as u64).sum::<u64>();
        if self.since_purge >= FILE_BYTES {
            self.purge();
        }
    }
}
