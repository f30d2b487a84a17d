//! The sockets the transport runs over, as two small traits, so the same
//! code runs on tokio's TCP and on turmoil's simulated TCP.

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::AbortHandle;

/// Dials and listens: one implementation per network stack.
pub trait Net: Clone + Send + Sync + 'static {
    /// A connected stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A bound listener.
    type Listener: Send + 'static;

    /// Connects to `addr` ("host:port").
    fn connect(&self, addr: String) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Binds a listener at `addr`.
    fn bind(&self, addr: String) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// Accepts the next connection.
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Starts one of the transport's background tasks (a dialer per peer,
    /// the accept loop, a reader per accepted connection). tokio's
    /// `spawn` unless a network stack needs otherwise.
    fn spawn<F>(task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(task).abort_handle()
    }
}

/// tokio's TCP.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioNet;

impl Net for TokioNet {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;

    async fn connect(&self, addr: String) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        // Small messages (votes, acknowledgements) must not wait for Nagle.
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn bind(&self, addr: String) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::bind(addr).await
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// turmoil's simulated TCP: run a service built on this transport inside
/// a turmoil simulation, unchanged (docs/testing.md).
#[cfg(feature = "turmoil")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TurmoilNet;

#[cfg(feature = "turmoil")]
impl Net for TurmoilNet {
    type Stream = turmoil::net::TcpStream;
    type Listener = turmoil::net::TcpListener;

    async fn connect(&self, addr: String) -> io::Result<Self::Stream> {
        turmoil::net::TcpStream::connect(addr.as_str()).await
    }

    async fn bind(&self, addr: String) -> io::Result<Self::Listener> {
        turmoil::net::TcpListener::bind(addr.as_str()).await
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        let (stream, _) = listener.accept().await?;
        Ok(stream)
    }

    /// On the host's `LocalSet` (turmoil runs every host in one), not on
    /// the runtime: when a host is bounced, tokio ends the runtime's tasks
    /// in an order that its process-wide task ids decide, so a dialer's or
    /// reader's socket closed earlier or later depending on how many tasks
    /// other threads (parallel tests) had started, and one seed could give
    /// two histories. A `LocalSet` ends its tasks in the order they began.
    ///
    /// # Panics
    /// Outside a `LocalSet`, as `tokio::task::spawn_local` does; every
    /// turmoil host and client runs in one.
    fn spawn<F>(task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::task::spawn_local(task).abort_handle()
    }
}
