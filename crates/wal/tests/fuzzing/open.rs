//! The `wal_open` fuzz interpreter, shared with `tests/fuzz_inputs.rs`: a
//! log built from the input, then damaged by it (bytes flipped, files cut,
//! files added), then opened. Whatever the damage: no panic; an open that
//! succeeds yields a log whose entries read back (or fail with a typed
//! error), that takes a new entry, and that reopens holding it.

use synod_raft_core::{ConfState, Entry, Payload, Storage};
use synod_wal::fs::{Dir, File, SimDir};
use synod_wal::{Options, Wal};

/// Small segments; with `large` (flag bit 2 of the input), larger ones
/// that hold entries of up to 6 KiB, whose bodies from 4 KiB on are
/// written in place (spliced), and batches written ahead of their sync
/// once 4 KiB wait (write-behind).
fn options(large: bool) -> Options {
    if large {
        return Options {
            segment_bytes: 64 << 10,
            write_behind_bytes: 4 << 10,
            pad_syncs_from_bytes: 2 << 10,
            cache_bytes: 64,
            ..Options::default()
        };
    }
    Options {
        segment_bytes: 4096,
        cache_bytes: 64,
        ..Options::default()
    }
}

fn entry(index: u64, term: u64, len: usize) -> Entry {
    Entry {
        term,
        index,
        payload: Payload::Command(vec![index as u8; len].into()),
    }
}

/// Builds a log of up to 63 entries (sizes from the input), maybe with a
/// snapshot and compaction, maybe then as many again (whose rolls reuse
/// the free segment files compaction left).
fn build(dir: &SimDir, data: &[u8]) -> Option<()> {
    let flags = data.get(2).copied().unwrap_or(0);
    let large = flags & 4 == 4;
    let mut wal = Wal::open(dir.clone(), options(large)).ok()?;
    let n = u64::from(*data.first()? % 64);
    let sizes = data.get(3..).unwrap_or(&[]);
    // Large: three entries an append, so an append spans several records.
    let (scale, per_append) = if large { (24, 3) } else { (3, 1) };
    let mut batch = Vec::new();
    for index in 1..=n {
        let len = usize::from(sizes.get(index as usize).copied().unwrap_or(7)) * scale;
        batch.push(entry(index, 1 + index / 20, len));
        if batch.len() == per_append || index == n {
            wal.append(std::mem::take(&mut batch)).ok()?;
        }
        if index % 8 == 0 {
            wal.sync().ok()?;
        }
    }
    wal.sync().ok()?;
    if flags & 1 == 1 && n > 10 {
        let conf = ConfState {
            voters: vec![1, 2, 3],
            ..ConfState::default()
        };
        wal.create_snapshot(n - 5, conf, vec![flags; 40]).ok()?;
        wal.compact(n - 8).ok()?;
        if flags & 2 == 2 {
            for index in n + 1..=2 * n {
                let k = (index - n) as usize;
                let len = usize::from(sizes.get(k).copied().unwrap_or(5)) * 2;
                wal.append(vec![entry(index, 1 + index / 20, len)]).ok()?;
                if index % 8 == 0 {
                    wal.sync().ok()?;
                }
            }
            wal.sync().ok()?;
        }
    }
    Some(())
}

/// Damages the files: each 6 bytes of input pick a file, an offset and a
/// byte to xor in (0: cut the file there instead).
fn damage(dir: &SimDir, ops: &[u8]) {
    let Ok(names) = dir.list() else { return };
    for op in ops.chunks_exact(6) {
        if op[0] == 0xFF {
            // A stray file: a segment name past the last, a free segment
            // file, or junk.
            let name = match op[1] % 3 {
                0 => synod_wal::segment_name(u64::from(op[2]) + 1),
                1 => synod_wal::free_name(u64::from(op[2]) + 1),
                _ => "stray".to_string(),
            };
            if let Ok(mut f) = dir.create(&name) {
                let _ = f.write_at(0, &op[3..]);
            }
            continue;
        }
        if names.is_empty() {
            return;
        }
        let name = &names[usize::from(op[0]) % names.len()];
        let Ok(mut f) = dir.open(name) else { continue };
        let len = f.size_bytes().unwrap_or(0);
        let at = u64::from(u32::from_le_bytes([op[1], op[2], op[3], op[4]])) % (len + 1);
        if op[5] == 0 {
            let _ = f.set_len(at);
        } else if at < len {
            let mut b = [0u8];
            if f.read_at(at, &mut b).is_ok() {
                let _ = f.write_at(at, &[b[0] ^ op[5]]);
            }
        }
    }
}

/// Runs one input.
pub(crate) fn run(data: &[u8]) {
    let seed = u64::from(data.get(1).copied().unwrap_or(0));
    let dir = SimDir::new(seed);
    if build(&dir, data).is_none() {
        return;
    }
    let n = usize::from(data.first().copied().unwrap_or(0) % 64);
    damage(&dir, data.get(3 + n..).unwrap_or(&[]));
    let large = data.get(2).is_some_and(|flags| flags & 4 == 4);
    let Ok(mut wal) = Wal::open(dir.clone(), options(large)) else {
        return;
    };
    let (first, last) = (wal.first_index().unwrap(), wal.last_index().unwrap());
    for index in first.saturating_sub(1)..=last {
        let _ = wal.term(index);
    }
    if first <= last {
        let _ = wal.entries(first, last + 1, u64::MAX);
        let _ = wal.entries(first, last + 1, 100);
    }
    let _ = wal.snapshot(0);
    let _ = wal.initial_state();
    let next = last + 1;
    let term = wal.term(last).unwrap_or(1).max(1);
    wal.append(vec![entry(next, term, 5)])
        .expect("a recovered log takes the next entry");
    wal.sync().expect("and syncs it");
    drop(wal);
    let wal = Wal::open(dir, options(large)).expect("a log this build wrote reopens");
    assert_eq!(wal.last_index().unwrap(), next, "the new entry is kept");
}
