//! The replica loop: inputs in, the protocol's work done, answers out.

use std::sync::Arc;

use futures::Stream;
use futures::channel::oneshot;
use synod_protocol::{Entry, Index, Payload, Protocol, Refusal, Snapshot, Storage, Write};

use crate::snapshot_reader::SnapshotReader;

use crate::blocking::Blocking;
use crate::client::{Client, Consistency, Request, Shutdown};
use crate::error::Error;
use crate::inbox::{DropCount, Inbox, InboxReceiver, inbox};
use crate::inputs::{Input, Inputs};
use crate::log_storage::LogStorage;
use crate::options::NodeOptions;
use crate::pending::{Pending, PendingRead};
use crate::reply;
use crate::state_machine::StateMachine;
use crate::status::NodeStatus;
use crate::transport::Transport;

/// Returns `Pending` once after waking itself: lets the executor run the
/// other ready tasks before this one continues, on any runtime.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Why the loop ends.
enum Stop {
    Shutdown(reply::Sender<Shutdown>),
    TicksEnded,
}

/// A replica, ready to run: the future returned by [`Driver::run`] is the
/// whole node. Built with [`Driver::new`], which also returns the
/// [`Client`] and [`Inbox`] handles.
pub struct Driver<P: Protocol, S: StateMachine, T> {
    /// Always `Some` except while a write is on the blocking executor.
    protocol: Option<P>,
    state: S,
    transport: T,
    blocking: Arc<dyn Blocking>,
    options: NodeOptions,
    requests: InboxReceiver<Request<S>>,
    inbox: InboxReceiver<P::Message>,
    pending: Pending<S>,
    /// The last index applied to `state`.
    applied: Index,
    /// The index of the latest snapshot taken or restored.
    snapshot_index: Index,
    last_leader: Option<u64>,
    counters: NodeStatus,
    /// The inbox's drop counter, once the loop holds the receiver.
    dropped: Option<DropCount>,
}

impl<P: Protocol, S: StateMachine, T> std::fmt::Debug for Driver<P, S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("protocol", &self.protocol)
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

impl<P, S, T> Driver<P, S, T>
where
    P: Protocol + Send + 'static,
    P::Storage: LogStorage,
    P::Message: Send + 'static,
    P::Receipt: Send,
    S: StateMachine,
    T: Transport<P::Message>,
{
    /// A node running `protocol` (started over its log, see
    /// [`Protocol::start`]) with the application `state`, sending through
    /// `transport` and doing disk work on `blocking`.
    ///
    /// `state` must be empty: it is restored from the log's snapshot, if
    /// any, and the committed entries after it are replayed into it.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`]; [`Error::Storage`] when the snapshot
    /// cannot be read; [`Error::StateMachine`] when `state` refuses it.
    #[allow(clippy::type_complexity)]
    pub fn new(
        mut protocol: P,
        mut state: S,
        transport: T,
        blocking: impl Blocking,
        options: NodeOptions,
    ) -> Result<(Client<S>, Inbox<P::Message>, Self), Error> {
        options.validate()?;
        // The driver handles snapshots handed over in pieces.
        protocol.storage_mut().enable_staging();
        let (snapshot, len) = protocol
            .storage()
            .snapshot_meta(0)
            .map_err(|e| Error::Storage(e.to_string()))?;
        if snapshot.index != 0 {
            // Streamed from storage: a snapshot on disk is never read
            // into memory whole here (unless the state machine does).
            let mut reader = SnapshotReader::new(protocol.storage(), snapshot.index, len);
            state
                .restore_from(&mut reader, len)
                .map_err(Error::StateMachine)?;
        }
        let (requests_tx, requests) = inbox(options.client_queue);
        let (inbox_tx, inbox_rx) = inbox(options.inbox_capacity);
        let status = protocol.status();
        let driver = Self {
            protocol: Some(protocol),
            state,
            transport,
            blocking: Arc::new(blocking),
            requests,
            inbox: inbox_rx,
            pending: Pending::default(),
            applied: snapshot.index.max(status.applied),
            snapshot_index: snapshot.index,
            last_leader: status.leader,
            dropped: None,
            counters: NodeStatus {
                protocol: status,
                proposals_in_flight: 0,
                reads_in_flight: 0,
                ticks: 0,
                leader_changes: 0,
                writes: 0,
                syncs: 0,
                sync_latency: crate::latency::LatencyHistogram::default(),
                snapshots_taken: 0,
                snapshots_restored: 0,
                messages_refused: 0,
                messages_dropped: 0,
            },
            options,
        };
        Ok((Client::new(requests_tx), inbox_tx, driver))
    }

    /// Runs the node until [`Client::shutdown`] or the end of `ticks`,
    /// then returns the replica (its log inside, for a restart). Each item
    /// of `ticks` is one unit of the protocol's logical time (the caller's
    /// clock: a tokio interval, a simulator's step).
    ///
    /// # Errors
    /// [`Error::Storage`] when the log failed (the node stopped: reopen the
    /// log and start again), [`Error::StateMachine`] when a snapshot could
    /// not be restored. Waiting proposals fail with [`Error::Unknown`]
    /// then (they may commit under another leader), other calls with
    /// [`Error::Stopped`].
    pub async fn run(mut self, ticks: impl Stream<Item = ()> + Unpin) -> Result<P, Error> {
        let result = self.serve(ticks).await;
        self.pending.stop();
        let id = self.counters.protocol.id;
        match &result {
            Ok(()) => crate::observe::stopped(id, "shut down"),
            Err(e) => crate::observe::stopped(id, &e.to_string()),
        }
        result?;
        self.protocol.take().ok_or(Error::Stopped)
    }

    async fn serve(&mut self, ticks: impl Stream<Item = ()> + Unpin) -> Result<(), Error> {
        let requests = std::mem::replace(&mut self.requests, inbox(1).1);
        let messages = std::mem::replace(&mut self.inbox, inbox(1).1);
        self.dropped = Some(messages.drop_count());
        let mut inputs = Inputs::new(ticks, messages, requests);
        let mut stopping = None;
        // Callers answered by the last round of work: when several were,
        // their next calls are about to arrive.
        let mut answered_last = 0;
        while let Some(input) = inputs.next().await {
            let mut taken = 0;
            let mut next = Some(input);
            let mut yielded = false;
            // Take what is already waiting, up to the batch bound: all of
            // it joins the next write (group commit).
            loop {
                let Some(input) = next else {
                    // Nothing waits. If the last round answered several
                    // callers, let them run once: their next calls join
                    // this batch instead of each costing a write and an
                    // append of its own. (A lone caller is not made to wait.)
                    if yielded || taken == 0 || answered_last < 2 {
                        break;
                    }
                    yielded = true;
                    YieldNow(false).await;
                    next = inputs.try_next();
                    continue;
                };
                if let Some(reply) = self.take(input)? {
                    stopping = Some(reply);
                    break;
                }
                taken += 1;
                if taken >= self.options.max_batch_inputs {
                    break;
                }
                next = inputs.try_next();
            }
            let answered_before = self.pending.answered;
            self.work().await?;
            answered_last = self.pending.answered - answered_before;
            match stopping.take() {
                Some(Stop::Shutdown(reply)) => {
                    let (proposals_abandoned, reads_failed) = self.pending.stop();
                    let _ = reply.send(Shutdown {
                        proposals_abandoned,
                        reads_failed,
                    });
                    return Ok(());
                }
                Some(Stop::TicksEnded) => return Ok(()),
                None => {}
            }
        }
        Ok(())
    }

    fn protocol(&mut self) -> Result<&mut P, Error> {
        // `None` only while a write is away, and no input is taken then.
        self.protocol.as_mut().ok_or(Error::Stopped)
    }

    /// Feeds one input to the protocol. Returns how the node is to stop,
    /// if it is.
    fn take(&mut self, input: Input<P::Message, S>) -> Result<Option<Stop>, Error> {
        match input {
            Input::TicksEnded => return Ok(Some(Stop::TicksEnded)),
            Input::Tick => {
                self.protocol()?.tick();
                self.counters.ticks += 1;
                self.pending.expire(self.counters.ticks);
                #[cfg(feature = "metrics")]
                crate::observe::publish(&self.status()?);
            }
            Input::Message(message) => {
                if self.protocol()?.step(message).is_err() {
                    self.counters.messages_refused += 1;
                }
            }
            Input::Request(request) => return Ok(self.take_request(request)?.map(Stop::Shutdown)),
            Input::ClientsGone => {}
        }
        Ok(None)
    }

    fn take_request(
        &mut self,
        request: Request<S>,
    ) -> Result<Option<reply::Sender<Shutdown>>, Error> {
        match request {
            Request::Propose { command, reply } => match self.protocol()?.propose(command) {
                Ok(synod_protocol::Proposed::Appended { index, term }) => {
                    self.pending.add_proposal(index, term, reply);
                }
                // Forwarded: the leader's answer does not come back here.
                Ok(synod_protocol::Proposed::Forwarded { .. }) => {
                    let _ = reply.send(Err(Error::Unknown));
                }
                Err(refusal) => {
                    let _ = reply.send(Err(refusal.into()));
                }
            },
            Request::Read {
                query,
                consistency,
                reply,
            } => self.take_read(query, consistency, reply)?,
            Request::ChangeMembership { change, reply } => {
                let taken = self.protocol()?.change_membership(change);
                self.take_change(taken, reply);
            }
            Request::StopSign { stop, reply } => {
                let taken = self.protocol()?.propose_stop_sign(*stop);
                self.take_change(taken, reply);
            }
            Request::TransferLeadership { to, reply } => {
                let result = self.protocol()?.transfer_leadership(to);
                let _ = reply.send(result.map_err(Error::from));
            }
            Request::Status { reply } => {
                let _ = reply.send(self.status()?);
            }
            Request::Shutdown { reply } => return Ok(Some(reply)),
        }
        Ok(None)
    }

    /// Waits for a membership change or stop-sign the protocol took to be
    /// applied, or answers its refusal.
    fn take_change(
        &mut self,
        taken: Result<synod_protocol::Proposed, Refusal>,
        reply: reply::Sender<Result<Index, Error>>,
    ) {
        match taken {
            Ok(synod_protocol::Proposed::Appended { index, term }) => {
                self.pending.add_change(index, term, reply);
            }
            Ok(synod_protocol::Proposed::Forwarded { .. }) => {
                let _ = reply.send(Err(Error::Unknown));
            }
            Err(refusal) => {
                let _ = reply.send(Err(refusal.into()));
            }
        }
    }

    fn take_read(
        &mut self,
        query: S::Query,
        consistency: Consistency,
        reply: reply::Sender<Result<S::Answer, Error>>,
    ) -> Result<(), Error> {
        if consistency == Consistency::Stale {
            let _ = reply.send(Ok(self.state.query(&query)));
            return Ok(());
        }
        match self.protocol()?.read() {
            Ok(id) => {
                let deadline_tick = self
                    .counters
                    .ticks
                    .saturating_add(self.options.read_timeout_ticks);
                self.pending.add_read(
                    id,
                    PendingRead {
                        query,
                        reply,
                        deadline_tick,
                    },
                );
            }
            Err(refusal @ Refusal::Unsupported) => {
                let _ = reply.send(Err(Error::Refused(refusal)));
            }
            Err(refusal) => {
                let _ = reply.send(Err(refusal.into()));
            }
        }
        Ok(())
    }

    fn status(&mut self) -> Result<NodeStatus, Error> {
        let protocol = self.protocol()?.status();
        Ok(NodeStatus {
            protocol,
            proposals_in_flight: self.pending.proposals(),
            reads_in_flight: self.pending.reads(),
            messages_dropped: self.dropped.as_ref().map_or(0, DropCount::get),
            ..self.counters
        })
    }

    /// Does everything the protocol hands out until it has nothing more.
    async fn work(&mut self) -> Result<(), Error> {
        while self.protocol()?.has_ready() {
            let ready = self
                .protocol()?
                .ready()
                .map_err(|e| Error::Storage(e.to_string()))?;
            // Sent in parallel with the write: the protocol put here only
            // what vouches for nothing undurable (a leader's appends). But
            // when the write stages snapshot pieces, they go after it: the
            // acknowledgements among them would have the leader send more
            // pieces before the disk took these, and a slow disk would
            // queue a snapshot's worth of them in memory.
            let stages = !ready.write.snapshot_pieces.is_empty();
            let mut early = ready.messages;
            if !stages {
                self.send_all(&mut early);
            }
            let whole = ready.write.snapshot.clone();
            let staged = ready.write.staged_snapshot.clone();
            self.write(ready.write).await?;
            self.send_all(&mut early);
            if let Some(snapshot) = whole {
                self.restore(&snapshot)?;
            } else if let Some(meta) = staged {
                self.restore_staged(meta.index)?;
            }
            // Persist-before-send: these leave only now that the write is
            // durable.
            let mut written = ready.after_write.written();
            self.send_all(&mut written.messages);
            let protocol = self.protocol()?;
            protocol.reuse_messages(early);
            protocol.reuse_messages(written.messages);
            protocol.on_written(written.receipt);
            self.apply(ready.committed)?;
            for read in ready.reads {
                self.pending.confirm(read.id, read.index);
            }
            self.pending.serve(self.applied, &self.state);
            self.note_leader()?;
            self.maybe_snapshot().await?;
        }
        Ok(())
    }

    /// Makes `write` durable on the blocking executor. The protocol (which
    /// owns its log) travels with the job and comes back with the result.
    async fn write(&mut self, write: Write) -> Result<(), Error> {
        if write.is_empty() && !write.must_sync {
            return Ok(());
        }
        let must_sync = write.must_sync;
        self.counters.writes += 1;
        if !must_sync && self.protocol()?.storage().writes_in_memory(&write) {
            // A memory copy (a commit index, typically): done here, the
            // committed entries are answered without a trip to the disk
            // thread and back.
            return (self.protocol()?.storage_mut().write(write))
                .map_err(|e| Error::Storage(e.to_string()));
        }
        if must_sync {
            self.counters.syncs += 1;
        }
        let took = self
            .on_log(move |log| {
                // Wall-clock time for the latency histogram only: nothing
                // the protocol decides depends on it.
                let start = std::time::Instant::now();
                log.write(write)?;
                if must_sync {
                    log.sync()?;
                }
                Ok(start.elapsed())
            })
            .await?;
        if must_sync {
            self.counters.sync_latency.record(took);
            crate::observe::synced(self.counters.protocol.id, took);
        }
        Ok(())
    }

    /// Runs `job` against the log on the blocking executor.
    async fn on_log<O: Send + 'static>(
        &mut self,
        job: impl FnOnce(&mut P::Storage) -> Result<O, synod_protocol::StorageError> + Send + 'static,
    ) -> Result<O, Error> {
        if self.blocking.runs_inline() {
            return job(self.protocol()?.storage_mut()).map_err(|e| Error::Storage(e.to_string()));
        }
        let mut protocol = self.protocol.take().ok_or(Error::Stopped)?;
        let (tx, rx) = oneshot::channel();
        self.blocking.run(Box::new(move || {
            let result = job(protocol.storage_mut());
            let _ = tx.send((protocol, result));
        }));
        let (protocol, result) = rx
            .await
            .map_err(|_| Error::Storage("the blocking executor dropped a log write".into()))?;
        self.protocol = Some(protocol);
        result.map_err(|e| Error::Storage(e.to_string()))
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), Error> {
        self.state
            .restore(&snapshot.data)
            .map_err(Error::StateMachine)?;
        self.restored(snapshot.meta.index);
        Ok(())
    }

    /// Loads the snapshot at `index` that storage staged and has just
    /// installed, streaming it from storage.
    fn restore_staged(&mut self, index: Index) -> Result<(), Error> {
        let Some(protocol) = self.protocol.as_ref() else {
            return Err(Error::Stopped);
        };
        let storage = protocol.storage();
        let (meta, len) = storage
            .snapshot_meta(index)
            .map_err(|e| Error::Storage(e.to_string()))?;
        if meta.index != index {
            return Err(Error::Storage(format!(
                "storage installed the snapshot at {} instead of {index}",
                meta.index
            )));
        }
        let mut reader = SnapshotReader::new(storage, index, len);
        self.state
            .restore_from(&mut reader, len)
            .map_err(Error::StateMachine)?;
        self.restored(index);
        Ok(())
    }

    /// Bookkeeping after the state machine loaded the snapshot at `index`.
    fn restored(&mut self, index: Index) {
        self.pending.restored(index);
        self.applied = self.applied.max(index);
        self.snapshot_index = self.snapshot_index.max(index);
        self.counters.snapshots_restored += 1;
        crate::observe::snapshot(self.counters.protocol.id, index, true);
    }

    /// Sends `messages`, leaving the buffer empty for reuse.
    fn send_all(&mut self, messages: &mut Vec<P::Message>) {
        for message in messages.drain(..) {
            self.transport.send(P::addressee(&message), message);
        }
    }

    fn apply(&mut self, mut committed: Vec<Entry>) -> Result<(), Error> {
        let Some(last) = committed.last().map(|e| e.index) else {
            return Ok(());
        };
        for entry in committed.drain(..) {
            if entry.index <= self.applied {
                // Covered by a snapshot restored in this same round.
                continue;
            }
            let response = match &entry.payload {
                Payload::Command(command) => Some(self.state.apply(entry.index, command)),
                Payload::StopSign(stop) => {
                    self.state.stop_sign(entry.index, stop);
                    None
                }
                _ => None,
            };
            self.pending.applied(entry.index, entry.term, response);
            self.applied = entry.index;
        }
        let protocol = self.protocol()?;
        protocol.on_applied(last);
        protocol.reuse_entries(committed);
        Ok(())
    }

    fn note_leader(&mut self) -> Result<(), Error> {
        let status = self.protocol()?.status();
        if status.leader != self.last_leader {
            self.last_leader = status.leader;
            self.counters.leader_changes += 1;
            crate::observe::leader_changed(status.id, status.term, status.leader);
        }
        Ok(())
    }

    /// Snapshots the state machine and compacts the log every
    /// `snapshot_every_entries` applied entries.
    async fn maybe_snapshot(&mut self) -> Result<(), Error> {
        let every = self.options.snapshot_every_entries;
        if every == 0 || self.applied.saturating_sub(self.snapshot_index) < every {
            return Ok(());
        }
        let index = self.applied;
        // A stream, read on the disk executor: a state machine that
        // streams its snapshot is never held whole in memory here.
        let mut data = self.state.snapshot_stream();
        let conf_state = self.protocol()?.conf_state();
        let through = index.saturating_sub(self.options.compaction_tail_entries);
        self.on_log(move |log| {
            log.snapshot_and_compact_from(index, conf_state, &mut *data, through)
        })
        .await?;
        self.snapshot_index = index;
        self.counters.snapshots_taken += 1;
        crate::observe::snapshot(self.counters.protocol.id, index, false);
        Ok(())
    }
}
