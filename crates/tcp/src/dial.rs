//! The outbound side: one task per peer that dials, greets, and writes
//! the peer's queue as frames, redialing with backoff.

use std::sync::Arc;

use serde::Serialize;
use synod_protocol::NodeId;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::error::Error;
use crate::frame::{self, Hello, MAGIC, WIRE_VERSION, Welcome};
use crate::net::Net;
use crate::options::TcpOptions;
use crate::stats::{Counters, bump};

/// Bytes gathered from the queue before one write.
const BATCH_BYTES: usize = 1 << 20;

/// Dials `addr` and completes the handshake as node `options.id`.
async fn connect<N: Net>(
    net: &N,
    addr: &str,
    peer: NodeId,
    options: &TcpOptions,
) -> Result<N::Stream, Error> {
    let mut stream = net.connect(addr.to_string()).await?;
    let hello = Hello {
        magic: MAGIC,
        version: WIRE_VERSION,
        cluster: options.cluster.clone(),
        from: options.id,
        to: peer,
    };
    frame::write(&mut stream, &hello).await?;
    let mut buf = Vec::new();
    match frame::read::<_, Welcome>(&mut stream, 64 * 1024, &mut buf).await? {
        Some(Welcome::Accepted) => Ok(stream),
        Some(Welcome::Refused(why)) => Err(Error::Refused(why)),
        None => Err(Error::Truncated),
    }
}

/// Runs until the transport (the queue's sender) is dropped.
pub(crate) async fn run<M: Serialize, N: Net>(
    net: N,
    addr: String,
    peer: NodeId,
    options: Arc<TcpOptions>,
    mut queue: mpsc::Receiver<M>,
    counters: Arc<Counters>,
) {
    let mut backoff = options.backoff_min;
    let mut buf = Vec::new();
    loop {
        let dialed = timeout(
            options.handshake_timeout,
            connect(&net, &addr, peer, &options),
        )
        .await;
        let mut stream = match dialed {
            Ok(Ok(stream)) => stream,
            _ => {
                bump(&counters.connect_failures);
                // What waited for an unreachable peer is stale by the time
                // it could arrive; the protocol resends what still matters.
                while queue.try_recv().is_ok() {
                    bump(&counters.dropped_unsendable);
                }
                if queue.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(options.backoff_max);
                continue;
            }
        };
        bump(&counters.connects);
        backoff = options.backoff_min;
        loop {
            let Some(first) = queue.recv().await else {
                return;
            };
            buf.clear();
            let mut frames = 0u64;
            let mut next = Some(first);
            while let Some(message) = next {
                let at = buf.len();
                match frame::encode(&message, &mut buf) {
                    Ok(())
                        if buf.len() - at - frame::PREFIX_BYTES
                            <= options.max_frame_bytes as usize =>
                    {
                        frames += 1;
                    }
                    _ => {
                        buf.truncate(at);
                        bump(&counters.dropped_unsendable);
                    }
                }
                if buf.len() >= BATCH_BYTES {
                    break;
                }
                next = queue.try_recv().ok();
            }
            let wrote = timeout(options.write_timeout, async {
                stream.write_all(&buf).await?;
                stream.flush().await
            })
            .await;
            if let Ok(Ok(())) = wrote {
                counters
                    .frames_sent
                    .fetch_add(frames, std::sync::atomic::Ordering::Relaxed);
            } else {
                // Failed or stalled: these frames are lost; redial.
                counters
                    .dropped_unsendable
                    .fetch_add(frames, std::sync::atomic::Ordering::Relaxed);
                break;
            }
        }
    }
}
