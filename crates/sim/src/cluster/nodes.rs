//! Driving the nodes: delivering messages, running each node's ready
//! loop, applying committed entries and syncing disks.

use super::{CLIENT_BASE, Request, Sim, Wire, WireOf, Workload};
use crate::disk::mix;
use crate::replica::{Applied, Replica};
use crate::report::Violation;

impl<R: Replica, W: Workload> Sim<R, W> {
    pub(super) fn deliver(&mut self, from: u64, to: u64, wire: WireOf<R, W>) {
        if to >= CLIENT_BASE {
            return self.client_receives(to - CLIENT_BASE, from, wire);
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
                self.event(|| R::describe(&msg));
                let n = self
                    .nodes
                    .get_mut(&to)
                    .and_then(|s| s.node.as_mut())
                    .expect("running");
                n.step(msg);
            }
            Wire::Request(cmd) => self.serve(to, from, cmd),
            Wire::Reply { .. } => {}
        }
        self.drive(to);
    }

    /// Runs a node's ready loop: sends, writes to its disk (unsynced),
    /// applies committed entries and answers clients.
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
                // Installing a leader's snapshot replaces the state machine.
                let Some(state) = self.workload.restore(state) else {
                    return self.bad_write(id, "undecodable snapshot".to_string());
                };
                s.state = state;
                self.summary.snapshots.1 += 1;
            }
            s.disk.hand(ready.write, ready.after_sync, ready.receipt);
            let mut stale = None;
            for (read, index) in ready.reads {
                if let Some((cmd, floor)) = s.reads.remove(&read) {
                    if index < floor {
                        stale.get_or_insert(Violation::StaleRead {
                            node: id,
                            index,
                            applied_before: floor,
                        });
                    }
                    s.confirmed.push((index, cmd));
                }
            }
            if let Some(v) = stale {
                self.violation.get_or_insert(v);
            }
            self.send(id, ready.send);
            for e in ready.committed {
                self.apply(id, e);
            }
            self.serve_confirmed_reads(id);
        }
    }

    /// A node applies a committed entry: checked against what every other
    /// node applied at that index, then run on its state machine; the
    /// node that appended a client's command answers the client.
    fn apply(&mut self, id: u64, e: Applied<R::Payload>) {
        self.trace = mix(mix(self.trace, id), (e.index << 16) ^ e.term);
        self.summary.committed = self.summary.committed.max(e.index);
        match self.committed.get(&e.index) {
            Some((term, payload, _)) if *term != e.term || *payload != e.payload => {
                self.violation
                    .get_or_insert(Violation::CommittedEntryChanged {
                        index: e.index,
                        node: id,
                    });
            }
            Some(_) => {}
            None => {
                // The applying node's term bounds the term in which the
                // entry was committed from above.
                let seen_in = self.nodes[&id].node.as_ref().map_or(e.term, R::term);
                let seen_in = seen_in.max(e.term);
                let entry = (e.term, e.payload.clone(), seen_in);
                self.committed.insert(e.index, entry);
            }
        }
        let s = self.nodes.get_mut(&id).expect("node");
        s.applied_index = s.applied_index.max(e.index);
        if let Some(n) = s.node.as_mut() {
            n.on_applied(e.index);
        }
        let Some(cmd) = R::command(&e.payload).and_then(|b| self.workload.decode(b)) else {
            return;
        };
        let Some(output) = self.workload.apply(&mut s.state, &cmd) else {
            return;
        };
        if s.serving.remove(&(cmd.client, cmd.request)) {
            self.answer(id, &cmd, output);
        }
    }

    /// Node `id` answers the client that sent `cmd`.
    fn answer(&mut self, id: u64, cmd: &Request<W::Input>, output: W::Output) {
        let reply = Wire::Reply {
            request: cmd.request,
            result: Ok(output),
        };
        let to = CLIENT_BASE + cmd.client;
        self.net
            .send(self.now, id, to, reply, &mut self.rng, &self.faults);
    }

    /// Answers the confirmed reads whose index this node has applied, from
    /// its own state machine.
    fn serve_confirmed_reads(&mut self, id: u64) {
        let s = self.nodes.get_mut(&id).expect("node");
        let applied = s.applied_index;
        let (due, waiting) = std::mem::take(&mut s.confirmed)
            .into_iter()
            .partition::<Vec<_>, _>(|(index, _)| *index <= applied && applied > 0);
        s.confirmed = waiting;
        for (_, cmd) in due {
            let s = &self.nodes[&id];
            let Some(output) = self.workload.query(&s.state, &cmd.input) else {
                continue; // not a read after all: never answered
            };
            self.summary.reads_served += 1;
            self.answer(id, &cmd, output);
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

    /// Records an impossible disk write and stops the node (the
    /// application would have to stop too).
    pub(super) fn bad_write(&mut self, id: u64, error: String) {
        self.violation
            .get_or_insert(Violation::BadWrite { node: id, error });
        if let Some(s) = self.nodes.get_mut(&id) {
            s.node = None;
            s.down_until = u64::MAX;
        }
    }
}
