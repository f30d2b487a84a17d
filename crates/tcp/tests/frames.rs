//! Bad bytes on the wire: every case is a typed error, never a panic, and
//! an oversized length is refused before anything is allocated.

use synod_tcp::Error;
use synod_tcp::frame::{self, Hello, MAGIC, WIRE_VERSION};
use tokio::io::AsyncWriteExt;

async fn read_after(bytes: Vec<u8>, max: u32) -> Result<Option<Hello>, Error> {
    let (mut a, mut b) = tokio::io::duplex(1 << 16);
    a.write_all(&bytes).await.expect("write");
    drop(a);
    let mut buf = Vec::new();
    frame::read::<_, Hello>(&mut b, max, &mut buf).await
}

fn hello() -> Hello {
    Hello {
        magic: MAGIC,
        version: WIRE_VERSION,
        cluster: "c".into(),
        from: 1,
        to: 2,
    }
}

#[tokio::test]
async fn a_frame_round_trips() {
    let mut bytes = Vec::new();
    frame::encode(&hello(), &mut bytes).expect("encodes");
    assert_eq!(read_after(bytes, 1024).await.expect("reads"), Some(hello()));
}

#[tokio::test]
async fn a_clean_end_between_frames_is_none() {
    assert_eq!(read_after(Vec::new(), 1024).await.expect("reads"), None);
}

#[tokio::test]
async fn a_4_gib_length_prefix_is_refused_before_allocating() {
    let bytes = u32::MAX.to_le_bytes().to_vec();
    match read_after(bytes, 64 << 20).await {
        Err(Error::FrameTooLarge { bytes, limit }) => {
            assert_eq!(bytes, u64::from(u32::MAX));
            assert_eq!(limit, 64 << 20);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn truncation_anywhere_is_truncated() {
    let mut full = Vec::new();
    frame::encode(&hello(), &mut full).expect("encodes");
    for cut in 1..full.len() {
        let got = read_after(full[..cut].to_vec(), 1024).await;
        assert!(
            matches!(got, Err(Error::Truncated)),
            "cut at {cut}: {got:?}"
        );
    }
}

#[tokio::test]
async fn garbage_and_trailing_bytes_do_not_decode() {
    let garbage = [7u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert!(matches!(
        read_after(garbage.to_vec(), 1024).await,
        Err(Error::Decode(_))
    ));
    let mut body = Vec::new();
    frame::encode(&hello(), &mut body).expect("encodes");
    let mut longer = body[frame::PREFIX_BYTES..].to_vec();
    longer.push(0);
    let mut bytes = (longer.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&longer);
    assert!(matches!(
        read_after(bytes, 1024).await,
        Err(Error::Decode(_))
    ));
}

/// Serializes as an error: a value postcard cannot encode.
struct Unencodable;

impl serde::Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no"))
    }
}

#[tokio::test]
async fn a_failed_encode_keeps_the_frames_already_in_the_batch() {
    let mut batch = Vec::new();
    frame::encode(&hello(), &mut batch).expect("encodes");
    let before = batch.clone();
    assert!(matches!(
        frame::encode(&Unencodable, &mut batch),
        Err(Error::Decode(_))
    ));
    assert_eq!(batch, before, "the batch was changed by a failed encode");
    frame::encode(&hello(), &mut batch).expect("encodes");
    let mut reader: &[u8] = &batch;
    let mut buf = Vec::new();
    for _ in 0..2 {
        let got: Option<Hello> = frame::read(&mut reader, 1024, &mut buf)
            .await
            .expect("reads");
        assert_eq!(got, Some(hello()));
    }
}
