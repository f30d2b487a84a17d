//! Small files replaced whole: a crash at any step leaves the old contents
//! or the new, never a mix, a loss or garbage.

use synod_wal::Error;
use synod_wal::fs::{Dir, Fault, File, Op, SimDir};
use synod_wal::state_file::{read, temporary_name, write_atomically};

#[test]
fn contents_round_trip_and_a_missing_file_is_none() {
    let dir = SimDir::new(1);
    assert_eq!(read(&dir, "hard_state").unwrap(), None);
    write_atomically(&dir, "hard_state", b"term 3").unwrap();
    write_atomically(&dir, "hard_state", b"term 4, vote 2").unwrap();
    assert_eq!(
        read(&dir, "hard_state").unwrap().as_deref(),
        Some(&b"term 4, vote 2"[..])
    );
    write_atomically(&dir, "empty", b"").unwrap();
    assert_eq!(read(&dir, "empty").unwrap(), Some(Vec::new()));
}

#[test]
fn a_failure_at_any_step_then_a_crash_leaves_the_old_contents() {
    for op in [
        Op::Remove,
        Op::Create,
        Op::Write,
        Op::Sync,
        Op::Rename,
        Op::DirSync,
    ] {
        for seed in 0..8 {
            let dir = SimDir::new(seed);
            write_atomically(&dir, "state", b"old").unwrap();
            dir.fail(op, 0, Fault::Eio);
            let result = write_atomically(&dir, "state", b"new contents");
            assert!(matches!(result, Err(Error::Io { .. })), "{op:?}");
            dir.crash();
            assert_eq!(
                read(&dir, "state").unwrap().as_deref(),
                Some(&b"old"[..]),
                "{op:?}, seed {seed}"
            );
            // A later replacement works despite the leftover.
            write_atomically(&dir, "state", b"newer").unwrap();
            dir.crash();
            assert_eq!(read(&dir, "state").unwrap().as_deref(), Some(&b"newer"[..]));
        }
    }
}

#[test]
fn after_success_the_new_contents_survive_a_crash() {
    for seed in 0..16 {
        let dir = SimDir::new(seed);
        write_atomically(&dir, "state", b"old").unwrap();
        write_atomically(&dir, "state", b"new").unwrap();
        dir.crash();
        assert_eq!(read(&dir, "state").unwrap().as_deref(), Some(&b"new"[..]));
        assert!(!dir.list().unwrap().contains(&temporary_name("state")));
    }
}

#[test]
fn a_leftover_temporary_file_is_replaced() {
    let dir = SimDir::new(2);
    let mut junk = dir.create(&temporary_name("state")).unwrap();
    junk.write_at(0, b"half written").unwrap();
    write_atomically(&dir, "state", b"fresh").unwrap();
    assert_eq!(read(&dir, "state").unwrap().as_deref(), Some(&b"fresh"[..]));
}

#[test]
fn damage_is_a_typed_error() {
    let dir = SimDir::new(3);
    write_atomically(&dir, "state", b"payload").unwrap();
    let whole = dir.read_all("state").unwrap();
    for at in 0..whole.len() {
        let d = SimDir::new(4);
        let mut f = d.create("state").unwrap();
        let mut bytes = whole.clone();
        bytes[at] ^= 0x01;
        f.write_at(0, &bytes).unwrap();
        assert!(
            matches!(
                read(&d, "state"),
                Err(Error::NotALog { .. } | Error::NewerFormat { .. })
            ),
            "a flipped bit at byte {at} went unnoticed"
        );
    }
    for cut in 0..whole.len() {
        let d = SimDir::new(5);
        d.create("state")
            .unwrap()
            .write_at(0, &whole[..cut])
            .unwrap();
        assert!(
            matches!(read(&d, "state"), Err(Error::NotALog { .. })),
            "cut at {cut}"
        );
    }
    let d = SimDir::new(6);
    let mut longer = whole.clone();
    longer.push(0);
    d.create("state").unwrap().write_at(0, &longer).unwrap();
    assert!(matches!(read(&d, "state"), Err(Error::NotALog { .. })));
}
