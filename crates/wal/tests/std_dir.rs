//! The real file system through the same traits as the simulated one.

use std::io::ErrorKind;

use synod_wal::fs::{Dir, File, StdDir};

#[test]
fn files_read_write_rename_remove_and_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path().join("wal")).unwrap();
    let mut f = dir.create("a").unwrap();
    assert_eq!(
        dir.create("a").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    f.write_at(4, b"xy").unwrap();
    f.sync_data().unwrap();
    assert_eq!(f.size_bytes().unwrap(), 6);
    let mut buf = [9u8; 8];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"\0\0\0\0xy");
    f.set_len(5).unwrap();
    assert_eq!(f.size_bytes().unwrap(), 5);
    dir.create("b").unwrap();
    dir.rename("a", "c").unwrap();
    dir.remove("b").unwrap();
    dir.sync().unwrap();
    assert_eq!(dir.list().unwrap(), ["c"]);
    let reopened = dir.open("c").unwrap();
    assert_eq!(reopened.size_bytes().unwrap(), 5);
    assert_eq!(dir.open("a").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn names_cannot_leave_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StdDir::open(tmp.path()).unwrap();
    for bad in ["", ".", "..", "../x", "a/b", "a\0b"] {
        let err = dir.create(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[test]
fn a_file_is_not_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("file");
    std::fs::write(&path, b"x").unwrap();
    assert!(StdDir::open(&path).is_err());
}
