//! [`TcpTransport`]: synod-node's `Transport` over TCP.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use synod_node::{Inbox, Transport};
use synod_protocol::NodeId;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::error::Error;
use crate::net::Net;
use crate::options::TcpOptions;
use crate::stats::{Counters, TcpStats, bump};
use crate::{dial, listen};

/// Sends a node's messages to its peers over TCP, one connection per peer
/// and direction, and (through [`TcpTransport::acceptor`]) hands the messages
/// peers send to the node's [`Inbox`].
///
/// `send` never blocks: each peer has a bounded queue
/// (`queue_capacity`); when it is full, the message is dropped and
/// counted (the protocol resends what matters). Dropping the transport
/// stops its tasks.
pub struct TcpTransport<M> {
    options: Arc<TcpOptions>,
    queues: BTreeMap<NodeId, mpsc::Sender<M>>,
    counters: Arc<Counters>,
    tasks: Vec<AbortHandle>,
    sender_of: fn(&M) -> NodeId,
}

impl<M> std::fmt::Debug for TcpTransport<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("id", &self.options.id)
            .field("peers", &self.options.peers)
            .finish_non_exhaustive()
    }
}

impl<M> TcpTransport<M>
where
    M: Serialize + DeserializeOwned + Send + 'static,
{
    /// Starts dialing every peer over `net`; inbound connections are
    /// accepted by [`TcpTransport::acceptor`]. Must be called inside a tokio
    /// runtime (or a turmoil host). `sender_of` names a message's sender
    /// (`Protocol::sender`): an inbound message whose sender is not the
    /// node that opened its connection is forged, and closes it.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`].
    pub fn start<N: Net>(
        net: N,
        options: TcpOptions,
        sender_of: fn(&M) -> NodeId,
    ) -> Result<Self, Error> {
        options.validate()?;
        let options = Arc::new(options);
        let counters = Arc::new(Counters::default());
        let mut queues = BTreeMap::new();
        let mut tasks = Vec::new();
        for (&peer, addr) in &options.peers {
            if peer == options.id {
                continue;
            }
            let (tx, rx) = mpsc::channel(options.queue_capacity);
            queues.insert(peer, tx);
            let task = N::spawn(dial::run(
                net.clone(),
                addr.clone(),
                peer,
                Arc::clone(&options),
                rx,
                Arc::clone(&counters),
            ));
            tasks.push(task);
        }
        Ok(Self {
            options,
            queues,
            counters,
            tasks,
            sender_of,
        })
    }

    /// The inbound side, to start once the node's [`Inbox`] exists (the
    /// transport moves into `synod_node::Driver::new`, which returns it).
    #[must_use]
    pub fn acceptor(&self) -> Acceptor<M> {
        Acceptor {
            options: Arc::clone(&self.options),
            counters: Arc::clone(&self.counters),
            sender_of: self.sender_of,
        }
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> TcpStats {
        self.counters.snapshot()
    }

    /// A handle on the counters that outlives moving the transport into
    /// the driver.
    #[must_use]
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }
}

/// Accepts a node's inbound connections: see [`TcpTransport::acceptor`].
pub struct Acceptor<M> {
    options: Arc<TcpOptions>,
    counters: Arc<Counters>,
    sender_of: fn(&M) -> NodeId,
}

impl<M> std::fmt::Debug for Acceptor<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("id", &self.options.id)
            .finish_non_exhaustive()
    }
}

impl<M> Acceptor<M>
where
    M: Serialize + DeserializeOwned + Send + 'static,
{
    /// Accepts peers' connections on `listener` and hands their messages
    /// to `inbox`, until the returned guard is dropped.
    #[must_use = "dropping the guard stops accepting"]
    pub fn listen<N: Net>(self, listener: N::Listener, inbox: Inbox<M>) -> Listening {
        let task = N::spawn(listen::accept_loop::<M, N>(
            listener,
            self.options,
            inbox,
            self.sender_of,
            self.counters,
        ));
        Listening(task)
    }
}

/// Stops accepting (and closes the accepted connections' readers) when
/// dropped.
#[derive(Debug)]
pub struct Listening(AbortHandle);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads a transport's counters after it moved into a driver.
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> TcpStats {
        self.0.snapshot()
    }
}

impl<M: Send + 'static> Transport<M> for TcpTransport<M> {
    fn send(&self, to: NodeId, message: M) {
        match self.queues.get(&to) {
            Some(queue) => {
                if queue.try_send(message).is_err() {
                    bump(&self.counters.dropped_queue_full);
                }
            }
            None => bump(&self.counters.dropped_unknown_peer),
        }
    }
}

impl<M> Drop for TcpTransport<M> {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
