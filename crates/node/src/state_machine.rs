//! The application's side: what committed commands do.

use bytes::Bytes;
use synod_protocol::{Index, StopSign};

/// The replicated application. Every replica applies the same commands in
/// the same order, so `apply` must be deterministic: no clocks, no
/// randomness, no iteration over hash maps with random seeds.
pub trait StateMachine: Send + 'static {
    /// What a command returns to the client that proposed it.
    type Response: Send + 'static;
    /// A read-only question about the state.
    type Query: Send + 'static;
    /// Its answer.
    type Answer: Send + 'static;

    /// Applies the committed command at `index`. Commands the application
    /// cannot decode must still be handled deterministically (answer an
    /// error value); a panic here stops the replica.
    fn apply(&mut self, index: Index, command: &Bytes) -> Self::Response;

    /// A stop-sign was decided at `index` (Multi-Paxos): the configuration
    /// that proposed it ended there, and the one it names continues the
    /// log from the next entry. Its `metadata` is the application's (what
    /// to do at the boundary). Every replica sees it in the same place
    /// among the commands. The default ignores it.
    fn stop_sign(&mut self, index: Index, stop: &StopSign) {
        let _ = (index, stop);
    }

    /// Answers `query` from the current state.
    fn query(&self, query: &Self::Query) -> Self::Answer;

    /// The whole state, to snapshot the log at the applied index.
    fn snapshot(&self) -> Bytes;

    /// The whole state as a stream, which the driver writes into the log
    /// on its disk executor: what the driver calls to take a snapshot. The
    /// reader must hold a consistent copy of the state as of now (later
    /// commands are applied while it is read). The default is
    /// [`StateMachine::snapshot`] in memory; a state machine that keeps
    /// its state on disk returns a reader over a checkpoint, so a snapshot
    /// is never held whole in memory.
    fn snapshot_stream(&self) -> Box<dyn std::io::Read + Send> {
        Box::new(std::io::Cursor::new(self.snapshot()))
    }

    /// Replaces the state with a snapshot's.
    ///
    /// # Errors
    /// A description when the bytes are not a snapshot of this state
    /// machine; the replica stops rather than run on a wrong state.
    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String>;

    /// Replaces the state with a snapshot's, read as a stream of `len`
    /// bytes: how the driver restores a snapshot that storage staged
    /// piece by piece (see
    /// [`Storage::stages_snapshots`](synod_protocol::Storage::stages_snapshots)).
    /// A state machine that keeps its state on disk overrides this to
    /// restore without holding the snapshot in memory; the default reads
    /// it whole and calls [`StateMachine::restore`].
    ///
    /// # Errors
    /// As [`StateMachine::restore`], or a read failure.
    fn restore_from(&mut self, snapshot: &mut dyn std::io::Read, len: u64) -> Result<(), String> {
        // Reserve at most 64 MiB up front whatever the size claims.
        let mut buf = Vec::with_capacity(len.min(64 << 20) as usize);
        snapshot
            .read_to_end(&mut buf)
            .map_err(|e| format!("reading the snapshot: {e}"))?;
        self.restore(&Bytes::from(buf))
    }
}
