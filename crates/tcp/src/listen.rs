//! The inbound side: accept, check the handshake, and hand every message
//! of an accepted connection to the node's inbox.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use synod_node::Inbox;
use synod_protocol::NodeId;
use tokio::task::AbortHandle;
use tokio::time::timeout;

use crate::error::Error;
use crate::frame::{self, Hello, MAGIC, WIRE_VERSION, Welcome};
use crate::net::Net;
use crate::options::TcpOptions;
use crate::stats::{Counters, bump};

/// The largest handshake frame read (a `Hello` is a few dozen bytes).
const MAX_HELLO_BYTES: u32 = 1024;

/// Why `hello` may not open a connection to this node, if it may not.
pub(crate) fn check_hello(hello: &Hello, options: &TcpOptions) -> Result<(), Error> {
    if hello.magic != MAGIC {
        return Err(Error::NotSynod("wrong magic"));
    }
    if hello.version != WIRE_VERSION {
        return Err(Error::NotSynod("unsupported wire version"));
    }
    if hello.cluster != options.cluster {
        return Err(Error::WrongCluster {
            theirs: hello.cluster.clone(),
            ours: options.cluster.clone(),
        });
    }
    if hello.to != options.id {
        return Err(Error::WrongNode {
            wanted: hello.to,
            me: options.id,
        });
    }
    if hello.from == options.id || !options.peers.contains_key(&hello.from) {
        return Err(Error::UnknownPeer(hello.from));
    }
    Ok(())
}

/// The readers of accepted connections, aborted when dropped.
struct Readers(Vec<AbortHandle>);

impl Readers {
    /// Keeps `reader`, forgetting those that ended.
    fn add(&mut self, reader: AbortHandle) {
        self.0.retain(|r| !r.is_finished());
        self.0.push(reader);
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        for r in &self.0 {
            r.abort();
        }
    }
}

/// Accepts connections until the task is aborted.
pub(crate) async fn accept_loop<M, N>(
    listener: N::Listener,
    options: Arc<TcpOptions>,
    inbox: Inbox<M>,
    sender_of: fn(&M) -> NodeId,
    counters: Arc<Counters>,
) where
    M: DeserializeOwned + Send + 'static,
    N: Net,
{
    // Aborted with this loop (the `Listening` guard dropped): readers of
    // connections it accepted stop too.
    let mut readers = Readers(Vec::new());
    loop {
        let Ok(stream) = N::accept(&listener).await else {
            // A failed accept (a reset before it completed, descriptors
            // exhausted) must not end the listener; pause briefly.
            tokio::time::sleep(options.backoff_min).await;
            continue;
        };
        let options = Arc::clone(&options);
        let inbox = inbox.clone();
        let counters = Arc::clone(&counters);
        readers.add(N::spawn(async move {
            // The error only decides what is counted; the connection is
            // closed either way and the node serves on.
            let _ = serve_connection::<M, N>(stream, &options, &inbox, sender_of, &counters).await;
        }));
    }
}

async fn serve_connection<M, N>(
    mut stream: N::Stream,
    options: &TcpOptions,
    inbox: &Inbox<M>,
    sender_of: fn(&M) -> NodeId,
    counters: &Counters,
) -> Result<(), Error>
where
    M: DeserializeOwned,
    N: Net,
{
    let mut buf = Vec::new();
    let hello = timeout(
        options.handshake_timeout,
        frame::read::<_, Hello>(&mut stream, MAX_HELLO_BYTES, &mut buf),
    )
    .await
    .map_err(|_| Error::Timeout);
    let hello = match hello {
        Ok(Ok(Some(hello))) => hello,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(e)) | Err(e) => {
            bump(&counters.handshakes_refused);
            return Err(e);
        }
    };
    if let Err(e) = check_hello(&hello, options) {
        bump(&counters.handshakes_refused);
        // Best effort: tell a misconfigured peer why.
        let _ = timeout(
            options.handshake_timeout,
            frame::write(&mut stream, &Welcome::Refused(e.to_string())),
        )
        .await;
        return Err(e);
    }
    frame::write(&mut stream, &Welcome::Accepted).await?;
    loop {
        let read = timeout(
            options.idle_timeout,
            frame::read::<_, M>(&mut stream, options.max_frame_bytes, &mut buf),
        )
        .await
        .map_err(|_| Error::Timeout)?;
        let message = match read {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(()),
            Err(e) => {
                bump(&counters.connections_closed_bad_frame);
                return Err(e);
            }
        };
        let claimed = sender_of(&message);
        if claimed != hello.from {
            bump(&counters.connections_closed_bad_frame);
            return Err(Error::ForgedSender {
                claimed,
                peer: hello.from,
            });
        }
        bump(&counters.frames_received);
        inbox.deliver(message);
    }
}
