//! tikv's raft-engine on the same workload: one region, each round's
//! entries in one `LogBatch`, written with `sync = true`.

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

impl Log for RaftEngineLog {
    const NAME: &'static str = "raft-engine 0.4";

    fn open(dir: &Path) -> Self {
        let config = Config {
            dir: dir.to_string_lossy().into_owned(),
            ..Config::default()
        };
        Self {
            engine: Engine::open(config).expect("opens"),
            batch: LogBatch::default(),
        }
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
