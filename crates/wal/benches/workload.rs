//! The workload of the synod-wal benchmarks, and the logs that run it.
//!
//! One point is an entry size and a number of appends per sync: a *round*
//! appends that many entries (one batch, as raft-core hands them over) and
//! then makes them durable. Every log writes to a fresh directory under
//! `SYNOD_BENCH_DIR` (default: the system's temporary directory), and is
//! reset (closed, deleted, reopened) outside the timed part whenever it has
//! written 256 MiB, so files never grow without bound.

use std::fs;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use synod_raft_core::{Bytes, Entry, Payload};
use synod_wal::fs::StdDir;
use synod_wal::{Options, Wal};

/// One point of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Bytes of each entry's payload.
    pub entry_bytes: usize,
    /// Appends per sync.
    pub per_sync: usize,
}

impl Point {
    /// Every point the benchmarks measure.
    #[must_use]
    pub fn all() -> Vec<Point> {
        let mut points = Vec::new();
        for entry_bytes in [16, 1024, 64 << 10] {
            for per_sync in [1, 16, 256] {
                points.push(Point {
                    entry_bytes,
                    per_sync,
                });
            }
        }
        points
    }

    /// A short name: `1KiB/sync16`.
    #[must_use]
    pub fn name(&self) -> String {
        let size = match self.entry_bytes {
            b if b >= 1 << 10 => format!("{}KiB", b >> 10),
            b => format!("{b}B"),
        };
        format!("{size}/sync{}", self.per_sync)
    }
}

/// A durable log under test.
pub trait Log: Sized {
    /// The name in tables.
    const NAME: &'static str;
    /// The log compacts itself, so its files stay bounded: the runner
    /// never resets it (a reset would start it cold again).
    const STEADY: bool = false;
    /// Opens a log in the empty directory `dir`.
    fn open(dir: &Path) -> Self;
    /// Appends entries `first..first + batch.len()`, then makes them
    /// durable.
    fn round(&mut self, first: u64, batch: &[Bytes]);
}

/// synod-wal with its default options (64 MiB segments, preallocated).
#[derive(Debug)]
pub struct SynodLog {
    wal: Wal<StdDir>,
}

impl Log for SynodLog {
    const NAME: &'static str = "synod-wal";

    fn open(dir: &Path) -> Self {
        let dir = StdDir::open(dir).expect("a directory");
        Self {
            wal: Wal::open(dir, Options::default()).expect("opens"),
        }
    }

    fn round(&mut self, first: u64, batch: &[Bytes]) {
        append_synced(&mut self.wal, first, batch);
    }
}

/// Appends `batch` to `wal` as entries `first..` of term 1 (one `append`,
/// as raft-core hands a batch over), then syncs.
fn append_synced(wal: &mut Wal<StdDir>, first: u64, batch: &[Bytes]) {
    let entries: Vec<Entry> = batch
        .iter()
        .zip(first..)
        .map(|(data, index)| Entry {
            term: 1,
            index,
            payload: Payload::Command(data.clone()),
        })
        .collect();
    wal.append(entries).expect("append");
    wal.sync().expect("sync");
}

/// synod-wal as a node that has run for a while uses it: compacting
/// behind a snapshot whenever a segment fills, so each roll writes over a
/// free segment file (`Options::recycle_segments`, default options) rather
/// than a new preallocated one. Opening it writes (untimed) enough 1 MiB
/// entries to fill the pool of free files and compacts them, as a node's
/// first few minutes would; in the rounds, the snapshot and compaction a
/// roll calls for are timed with the round that rolled. Never reset.
#[derive(Debug)]
pub struct SteadySynodLog {
    wal: Wal<StdDir>,
    /// Added to the runner's indexes: the warm-up used the first ones.
    offset: u64,
}

impl SteadySynodLog {
    /// Snapshots at the last entry and compacts everything before it.
    fn compact(&mut self) {
        let last = synod_raft_core::Storage::last_index(&self.wal).expect("last index");
        let conf = synod_raft_core::ConfState {
            voters: vec![1],
            ..synod_raft_core::ConfState::default()
        };
        self.wal
            .create_snapshot(last, conf, last.to_le_bytes().to_vec())
            .expect("snapshot");
        self.wal.compact(last).expect("compact");
    }
}

impl Log for SteadySynodLog {
    const NAME: &'static str = "synod-wal, recycling";
    const STEADY: bool = true;

    fn open(dir: &Path) -> Self {
        let dir = StdDir::open(dir).expect("a directory");
        let options = Options::default();
        let wal = Wal::open(dir, options).expect("opens");
        let mut log = Self { wal, offset: 0 };
        let entry = incompressible(1 << 20);
        // The active segment plus the pool, and one entry more.
        let fill = (options.recycle_segments as u64 + 1) * (options.segment_bytes >> 20) + 1;
        for index in 1..=fill {
            log.wal
                .append(vec![Entry {
                    term: 1,
                    index,
                    payload: Payload::Command(entry.clone()),
                }])
                .expect("append");
            if index % 16 == 0 {
                log.wal.sync().expect("sync");
            }
        }
        log.wal.sync().expect("sync");
        log.compact();
        assert_eq!(
            log.wal.free_segment_count(),
            options.recycle_segments,
            "the warm-up fills the pool"
        );
        log.offset = fill;
        log
    }

    fn round(&mut self, first: u64, batch: &[Bytes]) {
        append_synced(&mut self.wal, self.offset + first, batch);
        if self.wal.segment_count() > 1 {
            self.compact();
        }
    }
}

/// The physical limit: the round's payload bytes in one `write` to a plain
/// file, then one `fdatasync`. No framing, no checksums, no index.
#[derive(Debug)]
pub struct RawLog {
    file: fs::File,
    buf: Vec<u8>,
}

impl Log for RawLog {
    const NAME: &'static str = "raw write+fdatasync";

    fn open(dir: &Path) -> Self {
        let file = fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(dir.join("raw.log"))
            .expect("a new file");
        Self {
            file,
            buf: Vec::new(),
        }
    }

    fn round(&mut self, _first: u64, batch: &[Bytes]) {
        self.buf.clear();
        for data in batch {
            self.buf.extend_from_slice(data);
        }
        self.file.write_all(&self.buf).expect("write");
        self.file.sync_data().expect("fdatasync");
    }
}

/// The raw loop over a file written with zeros up front (untimed, when
/// the log opens), so each `fdatasync` flushes data only: no block to
/// allocate, no extent to convert, no size to change. What a log that
/// overwrites blocks it wrote before can reach; synod-wal's zeros ahead
/// (`Options::zero_ahead_bytes`) move its small syncs towards it.
#[derive(Debug)]
pub struct RawZeroedLog {
    raw: RawLog,
}

impl Log for RawZeroedLog {
    const NAME: &'static str = "raw over zeros";

    fn open(dir: &Path) -> Self {
        let mut raw = RawLog::open(dir);
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(RESET_BYTES >> 20) {
            raw.file.write_all(&zeros).expect("write zeros");
        }
        raw.file.sync_all().expect("fsync");
        raw.file.rewind().expect("rewind");
        Self { raw }
    }

    fn round(&mut self, first: u64, batch: &[Bytes]) {
        self.raw.round(first, batch);
    }
}

/// `len` bytes of a xorshift stream: raft-engine compresses batches over
/// 8 KiB, and constant bytes would flatter it.
#[must_use]
pub fn incompressible(len: usize) -> Bytes {
    xorshift_bytes(&mut (0x9E37_79B9_7F4A_7C15_u64 ^ len as u64), len)
}

/// The next `len` bytes of the xorshift stream whose state is `x`.
fn xorshift_bytes(x: &mut u64, len: usize) -> Bytes {
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x as u8
        })
        .collect();
    Bytes::from(bytes)
}

/// Runs rounds of one point on one log, resetting it every 256 MiB.
#[derive(Debug)]
pub struct Runner<L: Log> {
    root: PathBuf,
    dir: Option<tempfile::TempDir>,
    log: Option<L>,
    next: u64,
    written_bytes: u64,
    batch: Vec<Bytes>,
}

const RESET_BYTES: u64 = 256 << 20;

/// Where the benchmark logs live.
#[must_use]
pub fn bench_root() -> PathBuf {
    std::env::var_os("SYNOD_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

impl<L: Log> Runner<L> {
    /// A runner for `point`, with a fresh log.
    #[must_use]
    pub fn new(point: Point) -> Self {
        // Incompressible bytes (a xorshift stream): raft-engine compresses
        // batches over 8 KiB, and constant bytes would flatter it.
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let batch = (0..point.per_sync)
            .map(|_| xorshift_bytes(&mut x, point.entry_bytes))
            .collect();
        let mut runner = Self {
            root: bench_root(),
            dir: None,
            log: None,
            next: 1,
            written_bytes: 0,
            batch,
        };
        runner.reset();
        runner
    }

    fn reset(&mut self) {
        self.log = None;
        self.dir = None;
        let dir = tempfile::Builder::new()
            .prefix("synod-wal-bench-")
            .tempdir_in(&self.root)
            .expect("a temporary directory");
        self.log = Some(L::open(dir.path()));
        self.dir = Some(dir);
        self.next = 1;
        self.written_bytes = 0;
    }

    /// Runs `rounds` rounds; returns the time spent in them (resets
    /// excluded).
    pub fn run(&mut self, rounds: u64) -> Duration {
        let round_bytes: u64 = self.batch.iter().map(|b| b.len() as u64).sum();
        let mut timed = Duration::ZERO;
        for _ in 0..rounds {
            if !L::STEADY && self.written_bytes + round_bytes > RESET_BYTES {
                self.reset();
            }
            let log = self.log.as_mut().expect("open");
            let start = Instant::now();
            log.round(self.next, &self.batch);
            timed += start.elapsed();
            self.next += self.batch.len() as u64;
            self.written_bytes += round_bytes;
        }
        timed
    }
}
