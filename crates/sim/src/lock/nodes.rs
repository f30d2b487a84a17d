//! The lock service's replicas: starting from disk (restoring the lock
//! machine from the snapshot there), crashing, stamping log time while
//! leading, serving client commands and applying committed entries.

use rand::Rng as _;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_lock::{Command, LockMachine, Query, QueryAnswer, Request, Response};

use super::{CLIENT_BASE, LockViolation, RESOURCE, Sim, Wire};
use crate::disk::mix;
use crate::replica::{Applied, Proposed, Replica};

impl<R: Replica> Sim<R> {
    /// A lock machine restored from `state` (a snapshot), with the run's
    /// planted bug.
    fn machine(&self, state: Option<&[u8]>) -> Result<LockMachine, String> {
        #[allow(unused_mut)]
        let mut m = match state {
            None => LockMachine::new(),
            Some(bytes) => LockMachine::decode(bytes)?,
        };
        #[cfg(feature = "mutations")]
        m.set_mutation(self.cfg.mutation);
        Ok(m)
    }

    /// Starts (or restarts) node `id` from its disk, with a clock at a
    /// random offset.
    pub(super) fn start(&mut self, id: u64) {
        let offset = self.rng.next_u64() % (self.cfg.clock_offset_ticks + 1);
        let s = &self.nodes[&id];
        let seed = mix(mix(self.cfg.cluster.seed, id), s.restarts);
        let started = R::start(
            id,
            &s.disk.durable,
            &self.cfg.cluster,
            StdRng::seed_from_u64(seed),
        )
        .and_then(|(node, state)| Ok((node, self.machine(state.as_deref())?)));
        match started {
            Ok((node, state)) => {
                if self.nodes[&id].restarts > 0 && state != LockMachine::new() {
                    self.summary.snapshots.1 += 1;
                }
                let s = self.nodes.get_mut(&id).expect("node");
                s.node = Some(node);
                s.state = state;
                s.clock = offset;
                s.serving.clear();
                self.trace = mix(self.trace, 0xBEEF ^ id);
                self.event(|| format!("node {id} starts, clock at {offset}"));
            }
            Err(error) => self.bad_write(id, error),
        }
    }

    /// Stops a node: unsynced writes are lost, except a torn prefix.
    pub(super) fn crash(&mut self, id: u64) {
        self.summary.crashes += 1;
        let s = self.nodes.get_mut(&id).expect("node");
        s.disk.crash(&mut self.rng, self.faults.torn_writes);
        s.node = None;
        let (lo, hi) = self.faults.down_ticks;
        s.down_until = self.now + lo + self.rng.next_u64() % (hi - lo + 1);
        self.trace = mix(self.trace, 0xDEAD ^ id);
        self.event(|| format!("node {id} crashes"));
    }

    /// A leading node proposes a stamp of its clock.
    pub(super) fn stamp(&mut self, id: u64) {
        if !self.is_running(id) {
            return;
        }
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        let Some(term) = n.leader_term() else { return };
        let command = Command::Clock {
            term,
            now_ms: s.clock,
        };
        let stamp = Request {
            client: 0,
            seq: 0,
            command,
        };
        let _ = n.propose(stamp.encode().to_vec());
        self.drive(id);
    }

    pub(super) fn deliver(&mut self, from: u64, to: u64, wire: Wire<R::Message>) {
        if to == RESOURCE {
            if let Wire::Access {
                op,
                lock,
                token,
                write,
            } = wire
            {
                self.resource_serves(from, op, lock, token, write);
            }
            return;
        }
        if to >= CLIENT_BASE {
            return self.client_receives(to - CLIENT_BASE, wire);
        }
        let now = self.now;
        let Some(s) = self.nodes.get(&to) else { return };
        if s.node.is_none() {
            return; // down: lost
        }
        if s.paused_until > now {
            self.net.defer(now, from, to, wire);
            return;
        }
        match wire {
            Wire::Protocol(msg) => {
                self.trace = mix(mix(self.trace, from), (to << 8) ^ R::message_term(&msg));
                let n = (self.nodes.get_mut(&to))
                    .and_then(|s| s.node.as_mut())
                    .expect("running");
                n.step(msg);
            }
            Wire::Request { request, watch } => self.serve(to, from, request, watch),
            _ => {}
        }
        self.drive(to);
    }

    /// A node takes a client's command: the leader appends it; others
    /// answer with the leader they know.
    fn serve(&mut self, id: u64, from: u64, request: Request, watch: Option<synod_lock::LockName>) {
        let key = (request.client, request.seq);
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        match n.propose(request.encode().to_vec()) {
            Proposed::Appended => {
                s.serving.insert(key, watch);
            }
            Proposed::Rejected { leader } => {
                let reply = Wire::Reply {
                    seq: request.seq,
                    result: Err(leader),
                };
                self.net
                    .send(self.now, id, from, reply, &mut self.rng, &self.faults);
            }
        }
    }

    /// Runs a node's ready loop: sends, writes (unsynced), applies.
    pub(super) fn drive(&mut self, id: u64) {
        if !self.is_running(id) {
            return;
        }
        loop {
            let s = self.nodes.get_mut(&id).expect("node");
            let n = s.node.as_mut().expect("running");
            if !n.has_ready() {
                break;
            }
            let ready = match n.ready() {
                Ok(r) => r,
                Err(e) => return self.bad_write(id, e),
            };
            if let Some(state) = &ready.restored {
                match self.machine(Some(state)) {
                    Ok(m) => {
                        self.nodes.get_mut(&id).expect("node").state = m;
                        self.summary.snapshots.1 += 1;
                    }
                    Err(e) => return self.bad_write(id, e),
                }
            }
            let s = self.nodes.get_mut(&id).expect("node");
            s.disk.hand(ready.write, ready.after_sync, ready.receipt);
            self.send(id, ready.send);
            for e in ready.committed {
                self.apply(id, e);
                if self.violation.is_some() {
                    return;
                }
            }
        }
    }

    /// A node applies a committed entry to its lock machine; the answer
    /// and events are compared with every other replica's at that index
    /// and checked in log order; the node that appended a client's
    /// command answers it.
    fn apply(&mut self, id: u64, e: Applied<R::Payload>) {
        self.trace = mix(mix(self.trace, id), (e.index << 16) ^ e.term);
        self.summary.committed = self.summary.committed.max(e.index);
        let s = self.nodes.get_mut(&id).expect("node");
        if let Some(n) = s.node.as_mut() {
            n.on_applied(e.index);
        }
        let Some(bytes) = R::command(&e.payload) else {
            return;
        };
        let Ok(request) = Request::decode(bytes) else {
            return;
        };
        let response = s.state.apply(e.index, request.clone());
        let after = e.index.saturating_sub(1);
        let events = match s.state.answer(&Query::Events {
            after,
            max: usize::MAX,
        }) {
            QueryAnswer::Events { events, .. } => events.into_iter().map(|(_, ev)| ev).collect(),
            _ => Vec::new(),
        };
        if let Err(error) = s.state.check_invariants() {
            self.violation.get_or_insert(LockViolation::Invariant {
                node: id,
                index: e.index,
                error,
            });
            return;
        }
        let watch = s.serving.remove(&(request.client, request.seq));
        let served = watch.is_some();
        let hold = watch.flatten().and_then(|lock| {
            let session = session_of(&request.command)?;
            match s.state.answer(&Query::Holders(lock)) {
                QueryAnswer::Holders(h) => h
                    .into_iter()
                    .find(|&(sess, _, _)| sess == session)
                    .map(|(_, _, t)| t),
                _ => None,
            }
        });
        if let Some(v) = self
            .log
            .applied(id, e.index, e.term, &e.payload, &response, events)
        {
            self.violation.get_or_insert(v);
            return;
        }
        self.summary.expired = self.log.expired;
        if served {
            let reply = Wire::Reply {
                seq: request.seq,
                result: Ok((response, hold)),
            };
            let to = CLIENT_BASE + request.client;
            self.net
                .send(self.now, id, to, reply, &mut self.rng, &self.faults);
        }
    }

    /// The disk syncs: pending writes become durable, and the messages
    /// that waited for them go out.
    pub(super) fn sync(&mut self, id: u64) {
        if !self.is_running(id) {
            return;
        }
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        match s.disk.sync(n) {
            Ok(held) => self.send(id, held),
            Err(e) => return self.bad_write(id, e),
        }
        self.drive(id);
    }

    fn send(&mut self, from: u64, msgs: Vec<R::Message>) {
        for msg in msgs {
            let to = R::addressee(&msg);
            let wire = Wire::Protocol(msg);
            self.net
                .send(self.now, from, to, wire, &mut self.rng, &self.faults);
        }
    }

    /// A node snapshots its lock machine and compacts its log.
    pub(super) fn compact(&mut self, id: u64) {
        let s = self.nodes.get_mut(&id).expect("node");
        let Some(n) = s.node.as_mut() else { return };
        let state = &s.state;
        if n.compact(&mut s.disk.durable, || state.encode().to_vec()) {
            self.summary.snapshots.0 += 1;
        }
    }

    /// Records an impossible disk write and stops the node.
    pub(super) fn bad_write(&mut self, id: u64, error: String) {
        self.violation
            .get_or_insert(LockViolation::BadWrite { node: id, error });
        if let Some(s) = self.nodes.get_mut(&id) {
            s.node = None;
            s.down_until = u64::MAX;
        }
    }
}

/// The session a client command acts for.
fn session_of(command: &Command) -> Option<u64> {
    match command {
        Command::KeepAlive { session }
        | Command::Acquire { session, .. }
        | Command::Release { session, .. }
        | Command::Cancel { session, .. }
        | Command::CloseSession { session }
        | Command::SetLockDelay { session, .. }
        | Command::Downgrade { session, .. } => Some(*session),
        _ => None,
    }
}

/// Whether an answer says the session is gone.
pub(super) fn session_gone(response: &Response) -> bool {
    matches!(
        response,
        Response::Refused(synod_lock::LockError::NoSession(_))
    )
}
