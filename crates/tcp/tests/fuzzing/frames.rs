//! The `tcp_frames` fuzz interpreter: arbitrary bytes as what a stranger
//! sends a synod-tcp listener. The first byte picks the frame limit; the
//! rest is read as a handshake frame, then as raft-core message frames
//! until the stream ends or a frame is refused. Every outcome must be a
//! value or a typed error, never a panic, and nothing may be allocated
//! past the limit.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use synod_raft_core::Message;
use synod_tcp::frame::{self, Hello};
use synod_tcp::{Error, TcpOptions, check_hello};

/// Polls a future over an in-memory reader to its end: `&[u8]` never
/// waits, so one poll does.
fn finish<T>(f: impl Future<Output = T>) -> T {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory read waited"),
    }
}

pub(crate) fn run(data: &[u8]) {
    let Some((&limit_byte, rest)) = data.split_first() else {
        return;
    };
    let max = 64 + u32::from(limit_byte) * 16;
    let mut reader: &[u8] = rest;
    let mut buf = Vec::new();
    let options = TcpOptions::new(
        "c",
        2,
        BTreeMap::from([(1, "a:1".to_string()), (2, "b:2".to_string())]),
    );
    match finish(frame::read::<_, Hello>(&mut reader, max, &mut buf)) {
        Ok(Some(hello)) => {
            // Whatever it says, the check answers without panicking.
            let _ = check_hello(&hello, &options);
        }
        Ok(None) => return,
        Err(Error::FrameTooLarge { bytes, limit }) => {
            assert!(bytes > limit);
            assert!(buf.capacity() <= max as usize, "allocated past the limit");
            return;
        }
        Err(_) => return,
    }
    loop {
        match finish(frame::read::<_, Message>(&mut reader, max, &mut buf)) {
            Ok(Some(message)) => {
                // What decodes re-encodes to a frame that decodes the same.
                let mut again = Vec::new();
                frame::encode(&message, &mut again).expect("a decoded message encodes");
                let body = &again[frame::PREFIX_BYTES..];
                assert_eq!(frame::decode::<Message>(body).expect("round trip"), message);
            }
            Ok(None) => return,
            Err(Error::FrameTooLarge { .. }) => {
                assert!(buf.capacity() <= max as usize, "allocated past the limit");
                return;
            }
            Err(_) => return,
        }
    }
}
