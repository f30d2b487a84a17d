//! The clients: they invoke the workload's operations, time out, and
//! retry a refused request at the leader they were told of.

use rand::Rng as _;

use super::{CLIENT_BASE, Request, Sim, Wire, WireOf, Workload};
use crate::model::{ModelOp, Outcome};
use crate::replica::{Proposed, ReadStarted, Replica};
use crate::report::Violation;

impl<R: Replica, W: Workload> Sim<R, W> {
    /// Every idle client invokes its next operation; clients whose answer
    /// is overdue give up on it (its outcome stays unknown), or send it
    /// again elsewhere with `retry_until_answered`.
    pub(super) fn clients_act(&mut self) {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for c in ids {
            let now = self.now;
            let client = self.clients.get_mut(&c).expect("client");
            if let Some((op, request, until)) = client.current
                && now >= until
            {
                let target = self.random_target();
                let client = self.clients.get_mut(&c).expect("client");
                client.target = target;
                if self.cfg.retry_until_answered {
                    let until = now + self.cfg.client_timeout_ticks;
                    client.current = Some((op, request, until));
                    let to = client.target;
                    self.event(|| format!("client {c} sends #{op} again, to {to}"));
                    let cmd = Request {
                        client: c,
                        request,
                        input: self.history[op].input.clone(),
                    };
                    self.send_request(c, to, cmd);
                    continue;
                }
                client.current = None;
                self.history[op].outcome = Outcome::Unknown { gave_up: Some(now) };
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
        let input = self.workload.next_input(c, &mut self.rng);
        self.invoked += 1;
        let op = self.history.len();
        self.history.push(ModelOp {
            client: c,
            input: input.clone(),
            invoked: now,
            outcome: Outcome::UNKNOWN,
        });
        self.event(|| format!("client {c} invokes #{op}: {input:?}"));
        let client = self.clients.get_mut(&c).expect("client");
        client.next_request += 1;
        let request = client.next_request;
        client.current = Some((op, request, now + self.cfg.client_timeout_ticks));
        let to = client.target;
        let request = Request {
            client: c,
            request,
            input,
        };
        self.send_request(c, to, request);
    }

    /// A node receives a client request: the leader appends it; others
    /// answer with the leader they know.
    pub(super) fn serve(&mut self, id: u64, from: u64, cmd: Request<W::Input>) {
        let s = self.nodes.get_mut(&id).expect("node");
        let n = s.node.as_mut().expect("running");
        if self.cfg.read_index && self.workload.is_read(&cmd.input) {
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
        let bytes = match self.workload.encode(&cmd) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.violation
                    .get_or_insert(Violation::Codec { node: id, error });
                return;
            }
        };
        let leader = match n.propose(bytes) {
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
    pub(super) fn client_receives(&mut self, c: u64, from: u64, wire: WireOf<R, W>) {
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
                self.event(|| format!("client {c} completes #{op}: {output:?}"));
                self.history[op].outcome = Outcome::Returned { time: now, output };
                if self.cfg.heal_ticks > 0 && now > self.cfg.ticks {
                    self.completed_after_heal += 1;
                    self.clients_done_after_heal.insert(c);
                }
            }
            Err(hint) => {
                // Not appended anywhere: retry the same request elsewhere.
                // Drawn even with a hint: the run's draws stay as they were.
                let drawn = self.random_target();
                let to = hint.unwrap_or(drawn);
                let client = self.clients.get_mut(&c).expect("client");
                client.target = to;
                client.current = Some((op, request, until));
                let cmd = Request {
                    client: c,
                    request,
                    input: self.history[op].input.clone(),
                };
                self.send_request(c, to, cmd);
            }
        }
    }

    /// A node drawn at random for a client, among those not stopped for
    /// good by [`SimConfig::retire_removed`](crate::SimConfig::retire_removed):
    /// clients learn of removals as an operator's clients do. With none
    /// stopped it is the draw it always was.
    fn random_target(&mut self) -> u64 {
        let roll = self.rng.next_u64();
        let mut live = self.nodes.iter().filter(|(_, s)| !s.retired);
        let count = live.clone().count() as u64;
        if count == 0 {
            return 1 + roll % self.cfg.nodes;
        }
        live.nth((roll % count) as usize)
            .map_or(1 + roll % self.cfg.nodes, |(&id, _)| id)
    }

    /// A client sends a request to node `to`.
    fn send_request(&mut self, client: u64, to: u64, cmd: Request<W::Input>) {
        let from = CLIENT_BASE + client;
        let wire = Wire::Request(cmd);
        self.net
            .send(self.now, from, to, wire, &mut self.rng, &self.faults);
    }
}
