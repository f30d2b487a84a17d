//! Recovery of a 1 GiB log: builds one (1 KiB entries, a sync every 256),
//! then times `Wal::open` and reports the memory it holds: the index and
//! the process's peak resident size while opening.
//!
//! `cargo bench -p synod-wal-bench --bench recovery` (`-- --quick` builds
//! 128 MiB instead). The log is read back from the page cache; run with
//! `SYNOD_DROP_CACHES=1` as root to drop the cache first (a cold read).

use std::time::Instant;

use synod_raft_core::{Bytes, Entry, Payload, Storage};
use synod_wal::fs::StdDir;
use synod_wal::{Options, Wal};
use synod_wal_bench::bench_root;

/// A field of /proc/self/status in KiB (Linux), 0 elsewhere.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let target_bytes: u64 = if quick { 128 << 20 } else { 1 << 30 };
    let dir = tempfile::Builder::new()
        .prefix("synod-wal-recovery-")
        .tempdir_in(bench_root())
        .expect("a temporary directory");
    let payload = Bytes::from(vec![0x5A; 1024]);
    let mut written = 0u64;
    let mut next = 1u64;
    {
        let mut wal =
            Wal::open(StdDir::open(dir.path()).unwrap(), Options::default()).expect("opens");
        while written < target_bytes {
            let batch: Vec<Entry> = (next..next + 256)
                .map(|index| Entry {
                    term: 1 + index / 100_000,
                    index,
                    payload: Payload::Command(payload.clone()),
                })
                .collect();
            wal.append(batch).expect("append");
            wal.sync().expect("sync");
            next += 256;
            written += 256 * 1024;
        }
    }
    let on_disk: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    if std::env::var_os("SYNOD_DROP_CACHES").is_some() {
        let dropped = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
        println!("page cache dropped: {dropped}");
    }
    // Reset the peak-RSS counter (Linux: "5" clears VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = status_kib("VmRSS:");
    let start = Instant::now();
    let wal = Wal::open(StdDir::open(dir.path()).unwrap(), Options::default()).expect("reopens");
    let took = start.elapsed();
    let peak = status_kib("VmHWM:");
    let entries = wal.last_index().unwrap();
    assert_eq!(entries, next - 1, "every entry recovered");
    println!(
        "recovered {entries} entries ({:.2} GiB of payload, {:.2} GiB of files, {} segments) in {:.3} s ({:.0} MB/s)",
        written as f64 / (1u64 << 30) as f64,
        on_disk as f64 / (1u64 << 30) as f64,
        wal.segment_count(),
        took.as_secs_f64(),
        on_disk as f64 / 1e6 / took.as_secs_f64(),
    );
    println!(
        "index: {} bytes ({:.2} per entry); peak resident while opening: {} MiB over the {} MiB before",
        wal.index_memory_bytes(),
        wal.index_memory_bytes() as f64 / entries as f64,
        peak.saturating_sub(rss_before) / 1024,
        rss_before / 1024,
    );
}
