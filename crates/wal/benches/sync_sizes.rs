//! How the disk's time per sync depends on the size and the alignment of
//! what it syncs: the raw `write` + `fdatasync` loop of the report, over a
//! preallocated (`fallocate`d) file as a fresh synod-wal segment is, at
//! sizes around 256 KiB, each written at offsets that are multiples of its
//! size (`aligned`) and shifted by 4 KiB (`skewed`). Sizes and skew take
//! turns in slices of 0.3 s, so all of them see the same drift of a
//! shared disk.
//!
//! Why it exists: the report's 1 KiB x 256 point compares a log that
//! writes about 260 KiB a sync (the entries plus their framing) with a raw
//! loop that writes exactly 256 KiB, and on a virtual disk the time per
//! sync is not smooth in the size (docs/wal.md, "Figures").
//!
//! `cargo bench -p synod-wal-bench --bench sync_sizes` (`-- --quick` for
//! fewer turns). Set `SYNOD_BENCH_DIR` to measure another file system.

use std::time::{Duration, Instant};

use synod_wal::fs::{Dir, File, StdDir};
use synod_wal_bench::{bench_root, incompressible};

/// Each file is preallocated to this, like a default segment.
const FILE_BYTES: u64 = 64 << 20;

/// One size at one alignment: its file and what it measured.
struct Case {
    size: usize,
    skew: u64,
    file: Option<<StdDir as Dir>::File>,
    generation: u64,
    offset: u64,
    syncs: u64,
    timed: Duration,
}

impl Case {
    fn name(&self) -> String {
        format!("{}-{}", self.size >> 10, self.skew >> 10)
    }

    /// Writes and syncs for about `seconds`, rolling to a new preallocated
    /// file (untimed) when this one is full.
    fn slice(&mut self, dir: &StdDir, data: &[u8], seconds: f64) {
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < seconds {
            let size = self.size as u64;
            if self.file.is_none() || self.offset + size > FILE_BYTES {
                self.file = None;
                if self.generation > 0 {
                    let old = format!("{}.{}", self.name(), self.generation - 1);
                    dir.remove(&old).expect("remove the full file");
                }
                let mut file = dir
                    .create(&format!("{}.{}", self.name(), self.generation))
                    .expect("a new file");
                file.allocate(FILE_BYTES).expect("fallocate");
                file.sync_data().expect("fdatasync");
                dir.sync().expect("directory sync");
                self.file = Some(file);
                self.generation += 1;
                self.offset = self.skew;
            }
            let file = self.file.as_mut().expect("open");
            let t = Instant::now();
            file.write_at(self.offset, &data[..self.size])
                .expect("write");
            file.sync_data().expect("fdatasync");
            self.timed += t.elapsed();
            self.offset += size;
            self.syncs += 1;
        }
    }

    fn micros_per_sync(&self) -> f64 {
        self.timed.as_secs_f64() * 1e6 / self.syncs.max(1) as f64
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let turns = if quick { 3 } else { 10 };
    let root = tempfile::Builder::new()
        .prefix("synod-wal-sync-sizes-")
        .tempdir_in(bench_root())
        .expect("a temporary directory");
    let dir = StdDir::open(root.path()).expect("the directory");
    let sizes_kib = [248, 256, 260, 264, 272, 320, 512];
    let mut cases: Vec<Case> = sizes_kib
        .iter()
        .flat_map(|&kib| [0, 4 << 10].map(|skew| (kib << 10, skew)))
        .map(|(size, skew)| Case {
            size,
            skew,
            file: None,
            generation: 0,
            offset: 0,
            syncs: 0,
            timed: Duration::ZERO,
        })
        .collect();
    let data = incompressible(512 << 10);
    for turn in 0..turns {
        for k in 0..cases.len() {
            let which = (turn + k) % cases.len();
            cases[which].slice(&dir, &data, 0.3);
        }
    }
    let reference = cases
        .iter()
        .find(|c| c.size == 256 << 10 && c.skew == 0)
        .map_or(f64::NAN, Case::micros_per_sync);
    println!("| bytes per sync | offsets | us per sync | MB/s | time / 256 KiB aligned |");
    println!("|---:|---|---:|---:|---:|");
    for c in &cases {
        let us = c.micros_per_sync();
        println!(
            "| {} KiB | {} | {:.0} | {:.0} | {:.2}x |",
            c.size >> 10,
            if c.skew == 0 {
                "aligned"
            } else {
                "skewed 4 KiB"
            },
            us,
            c.size as f64 / us,
            us / reference
        );
    }
}
