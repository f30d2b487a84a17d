//! The wire: every frame is a 4-byte little-endian length and that many
//! bytes of postcard. A connection opens with a [`Hello`] from the dialing
//! node and a [`Welcome`] back; then the dialer sends protocol messages,
//! one per frame, and the listener only reads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use synod_protocol::NodeId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::Error;

/// The first bytes of every [`Hello`]: "SYND".
pub const MAGIC: [u8; 4] = *b"SYND";
/// The wire version this crate speaks.
pub const WIRE_VERSION: u16 = 1;
/// Bytes of a frame's length prefix.
pub const PREFIX_BYTES: usize = 4;

/// The dialer's opening: who it is, whom it wants, in which cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`MAGIC`].
    pub magic: [u8; 4],
    /// [`WIRE_VERSION`].
    pub version: u16,
    /// The cluster's name: nodes of different clusters never talk.
    pub cluster: String,
    /// The dialing node.
    pub from: NodeId,
    /// The node it wants.
    pub to: NodeId,
}

/// The listener's answer to a [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Welcome {
    /// Messages may follow.
    Accepted,
    /// Refused, and why; the listener closes the connection.
    Refused(String),
}

/// Encodes `value` as one frame (prefix and body) onto `out`, leaving
/// `out` as it was if it fails.
///
/// # Errors
/// [`Error::Decode`] when `value` does not serialize, or
/// [`Error::FrameTooLarge`] past 4 GiB.
pub fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    let at = out.len();
    out.extend_from_slice(&[0; PREFIX_BYTES]);
    // Written in place; on any error `out` is cut back to where it was, so
    // the frames already in it (a batch) are kept.
    if let Err(e) = postcard::to_io(value, &mut *out) {
        out.truncate(at);
        return Err(Error::Decode(e.to_string()));
    }
    let body = out.len() - at - PREFIX_BYTES;
    let Ok(len) = u32::try_from(body) else {
        out.truncate(at);
        return Err(Error::FrameTooLarge {
            bytes: body as u64,
            limit: u64::from(u32::MAX),
        });
    };
    out[at..at + PREFIX_BYTES].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// Writes `value` as one frame.
///
/// # Errors
/// As [`encode`], or [`Error::Io`].
pub async fn write<W: AsyncWrite + Unpin, T: Serialize>(w: &mut W, value: &T) -> Result<(), Error> {
    let mut buf = Vec::new();
    encode(value, &mut buf)?;
    w.write_all(&buf).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame's body into `buf`, refusing lengths above
/// `max_frame_bytes` before allocating anything. Returns `Ok(false)` at a
/// clean end of the stream (between frames).
///
/// # Errors
/// [`Error::FrameTooLarge`], [`Error::Truncated`], [`Error::Io`].
pub async fn read_body<R: AsyncRead + Unpin>(
    r: &mut R,
    max_frame_bytes: u32,
    buf: &mut Vec<u8>,
) -> Result<bool, Error> {
    let mut prefix = [0u8; PREFIX_BYTES];
    let mut got = 0;
    while got < PREFIX_BYTES {
        let n = r.read(&mut prefix[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Ok(false)
            } else {
                Err(Error::Truncated)
            };
        }
        got += n;
    }
    let len = u32::from_le_bytes(prefix);
    if len > max_frame_bytes {
        return Err(Error::FrameTooLarge {
            bytes: u64::from(len),
            limit: u64::from(max_frame_bytes),
        });
    }
    buf.clear();
    // Exactly the frame: `resize` alone grows by doubling, which can take
    // the buffer past the limit (found by the tcp_frames fuzz target).
    buf.reserve_exact(len as usize);
    buf.resize(len as usize, 0);
    match r.read_exact(buf).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Error::Truncated),
        Err(e) => Err(Error::Io(e)),
    }
}

/// Reads and decodes one frame; `Ok(None)` at a clean end of the stream.
///
/// # Errors
/// As [`read_body`], or [`Error::Decode`] for a body that is not a `T`
/// (trailing bytes included).
pub async fn read<R: AsyncRead + Unpin, T: DeserializeOwned>(
    r: &mut R,
    max_frame_bytes: u32,
    buf: &mut Vec<u8>,
) -> Result<Option<T>, Error> {
    if !read_body(r, max_frame_bytes, buf).await? {
        return Ok(None);
    }
    decode(buf).map(Some)
}

/// Decodes a whole frame body as a `T`.
///
/// # Errors
/// [`Error::Decode`], also when bytes are left over.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| Error::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::Decode(format!(
            "{} bytes after the value",
            rest.len()
        )));
    }
    Ok(value)
}
