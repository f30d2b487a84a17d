//! The workload: key-value clients that invoke operations, time out, and
//! retry a refused request at the leader they were told of.

use rand::Rng as _;

use super::{CLIENT_BASE, Sim, Wire};
use crate::history::Input;
use crate::kv::Command;
use crate::replica::{Proposed, ReadStarted, Replica};

impl<R: Replica> Sim<R> {
    /// Every idle client invokes its next operation; clients whose answer
    /// is overdue give up on it (its outcome stays unknown).
    pub(super) fn clients_act(&mut self) {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for c in ids {
            let now = self.now;
            let client = self.clients.get_mut(&c).expect("client");
            if let Some((op, _, until)) = client.current
                && now >= until
            {
                client.current = None;
                client.target = 1 + self.rng.next_u64() % self.cfg.nodes;
                self.event(|| format!("client {c} gives up on #{op}"));
            }
            if self.clients[&c].current.is_some() || self.invoked >= self.cfg.ops {
                continue;
            }
            self.invoke(c);
        }
    }

    fn invoke(&mut self, c: u64) {
        let now = self.now;
        let key = self.rng.next_u64() % self.cfg.keys;
        let input = match self.rng.next_u64() % 3 {
            0 => Input::Put(self.rng.next_u64() % 5),
            1 => Input::Get,
            _ => {
                let expect = self
                    .rng
                    .next_u64()
                    .is_multiple_of(2)
                    .then(|| self.rng.next_u64() % 5);
                Input::Cas {
                    expect,
                    new: self.rng.next_u64() % 5,
                }
            }
        };
        self.invoked += 1;
        let op = self.history.invoke(c, key, input, now);
        self.event(|| format!("client {c} invokes #{op}: key {key} {input:?}"));
        let client = self.clients.get_mut(&c).expect("client");
        client.next_request += 1;
        let request = client.next_request;
        client.current = Some((op, request, now + self.cfg.client_timeout_ticks));
        let cmd = Command {
            client: c,
            request,
            key,
            input,
        };
        let to = client.target;
        self.send_request(c, to, cmd);
    }

    /// A node receives a client request: the leader appends it; others
    /// answer with the leader they know.
    pub(super) fn serve(&mut self, id: u64, from: u64, cmd: Command) {
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        if self.cfg.read_index && cmd.input == Input::Get {
            match n.read() {
                ReadStarted::Started(read) => {
                    // Every write acknowledged so far is applied at or
                    // below this index somewhere: the read must reach it.
                    let floor = self.summary.committed;
                    s.reads.insert(read, (cmd, floor));
                    return;
                }
                ReadStarted::Rejected { leader } => {
                    let reply = Wire::Reply {
                        request: cmd.request,
                        result: Err(leader),
                    };
                    self.net
                        .send(self.now, id, from, reply, &mut self.rng, &self.faults);
                    return;
                }
                ReadStarted::Unsupported => {}
            }
        }
        let leader = match n.propose(cmd.encode()) {
            Proposed::Appended => {
                s.serving.insert((cmd.client, cmd.request));
                return;
            }
            Proposed::Rejected { leader } => leader,
        };
        let reply = Wire::Reply {
            request: cmd.request,
            result: Err(leader),
        };
        self.net
            .send(self.now, id, from, reply, &mut self.rng, &self.faults);
    }

    /// A client receives an answer: a result completes its operation; a
    /// refusal sends the same request to the leader it names.
    pub(super) fn client_receives(&mut self, c: u64, from: u64, wire: Wire<R::Message>) {
        let Wire::Reply { request, result } = wire else {
            return;
        };
        let now = self.now;
        let Some(client) = self.clients.get_mut(&c) else {
            return;
        };
        let Some((op, current, until)) = client.current else {
            return;
        };
        if current != request {
            return; // an answer to an operation given up on
        }
        match result {
            Ok(output) => {
                client.current = None;
                client.target = from;
                self.history
                    .complete(op, now, output)
                    .expect("well-formed completion");
                self.event(|| format!("client {c} completes #{op}: {output:?}"));
                if self.cfg.heal_ticks > 0 && now > self.cfg.ticks {
                    self.completed_after_heal += 1;
                    self.clients_done_after_heal.insert(c);
                }
            }
            Err(hint) => {
                // Not appended anywhere: retry the same request elsewhere.
                client.target = hint.unwrap_or(1 + self.rng.next_u64() % self.cfg.nodes);
                let to = client.target;
                let operation = &self.history.operations()[op];
                let (key, input) = (operation.key, operation.input);
                client.current = Some((op, request, until));
                let cmd = Command {
                    client: c,
                    request,
                    key,
                    input,
                };
                self.send_request(c, to, cmd);
            }
        }
    }

    /// A client sends a request to node `to`.
    fn send_request(&mut self, client: u64, to: u64, cmd: Command) {
        let from = CLIENT_BASE + client;
        let wire = Wire::Request(cmd);
        self.net
            .send(self.now, from, to, wire, &mut self.rng, &self.faults);
    }
}
