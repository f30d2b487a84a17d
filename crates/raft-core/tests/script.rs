//! Script tests: each file in `tests/testdata/` is a scenario of commands
//! and the output each must print (in the style of etcd raft's
//! `testdata/*.txt`). Adding a regression test is adding a file.
//!
//! Format: a command line, a line `----`, then the expected output up to a
//! blank line. Lines starting with `#` are comments. Run with
//! `UPDATE_EXPECT=1` to rewrite the expected output from what the driver
//! prints (then read the diff).
//!
//! Commands:
//! `cluster n=3 [seed=S] [pre-vote=false] [check-quorum=false] [bootstrap]`,
//! `tick [n=N]`, `campaign ID`, `propose ID DATA`, `stabilize`,
//! `messages`, `isolate ID`, `partition A B | C D`, `cut FROM TO`, `heal`,
//! `status`, `log ID`, `applied ID`, `compact ID [tail=N]`,
//! `transfer FROM TO`, `read ID`, `reads ID`, `add-node ID`,
//! `conf-change ID (add-voter|add-learner|remove) NODE ...`.

use crate::common;
mod scripting {
    pub(crate) mod format;
}

use std::fmt::Write as _;
use std::path::Path;

use common::Cluster;
use scripting::format::{id, kv};
use synod_raft_core::*;

#[test]
fn scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    scripting::format::run_dir(&dir, || {
        let mut driver = Driver { cluster: None };
        move |command: &str| driver.run(command)
    });
}

struct Driver {
    cluster: Option<Cluster>,
}

impl Driver {
    fn c(&mut self) -> &mut Cluster {
        self.cluster.as_mut().expect("`cluster` first")
    }

    fn run(&mut self, command: &str) -> String {
        let words: Vec<&str> = command.split_whitespace().collect();
        let (name, args) = (words[0], &words[1..]);
        let mut out = String::new();
        match name {
            "cluster" => {
                let n: u64 = kv(args, "n").map_or(3, |v| v.parse().unwrap());
                let seed: u64 = kv(args, "seed").map_or(1, |v| v.parse().unwrap());
                let pre_vote = kv(args, "pre-vote").is_none_or(|v| v == "true");
                let check_quorum = kv(args, "check-quorum").is_none_or(|v| v == "true");
                let read_mode = match kv(args, "read-mode") {
                    Some("lease") => ReadMode::Lease,
                    _ => ReadMode::Safe,
                };
                let mut c = if args.contains(&"bootstrap") {
                    Cluster::bootstrapped(n, seed)
                } else {
                    Cluster::with_config(n, seed, |id| Config {
                        pre_vote,
                        check_quorum,
                        read_mode,
                        ..Config::new(id)
                    })
                };
                c.process_all();
                self.cluster = Some(c);
            }
            "tick" => {
                let n: usize = kv(args, "n").map_or(1, |v| v.parse().unwrap());
                self.c().run_ticks(n);
            }
            "campaign" => {
                let who = id(args[0]);
                self.c().node_mut(who).campaign();
                self.c().process(who);
            }
            "propose" => {
                let who = id(args[0]);
                let data = args[1..].join(" ").into_bytes();
                let r = self.c().node_mut(who).propose(data);
                self.c().process(who);
                let _ = writeln!(
                    out,
                    "{}",
                    match r {
                        Ok(Proposal::Appended { index, term }) =>
                            format!("appended index={index} term={term}"),
                        Ok(Proposal::Forwarded { leader }) => format!("forwarded to {leader}"),
                        Err(e) => format!("error: {e}"),
                    }
                );
            }
            "stabilize" => self.c().deliver(100_000),
            "messages" => {
                for m in &self.c().network {
                    let _ = writeln!(out, "{}", fmt_message(m));
                }
            }
            "isolate" => {
                let who = id(args[0]);
                self.c().isolate(who);
            }
            "partition" => {
                let group: Vec<NodeId> = args
                    .iter()
                    .take_while(|a| **a != "|")
                    .map(|a| id(a))
                    .collect();
                self.c().partition(&group);
            }
            "cut" => {
                let (a, b) = (id(args[0]), id(args[1]));
                self.c().cut.insert((a, b));
            }
            "heal" => self.c().heal(),
            "status" => {
                let c = self.c();
                for (nid, n) in &c.nodes {
                    let s = n.status();
                    let cs = n.conf_state();
                    let _ = write!(
                        out,
                        "{nid}: {:?} term={} leader={} commit={} applied={} last={} voters={:?}",
                        s.role,
                        s.term,
                        s.leader.map_or("-".to_string(), |l| l.to_string()),
                        s.committed,
                        s.applied,
                        s.last_index,
                        cs.voters
                    );
                    if !cs.voters_outgoing.is_empty() {
                        let _ = write!(out, " outgoing={:?}", cs.voters_outgoing);
                    }
                    if !cs.learners.is_empty() {
                        let _ = write!(out, " learners={:?}", cs.learners);
                    }
                    out.push('\n');
                }
            }
            "log" => {
                let who = id(args[0]);
                let log = self.c().node(who).log();
                let (first, last) = (log.first_index().unwrap(), log.last_index().unwrap());
                for e in log.slice(first, last + 1, u64::MAX).unwrap() {
                    let _ = writeln!(out, "{}/{} {}", e.index, e.term, fmt_payload(&e.payload));
                }
            }
            "applied" => {
                let who = id(args[0]);
                for (index, data) in &self.c().applied[&who] {
                    let _ = writeln!(out, "{index}: {}", String::from_utf8_lossy(data));
                }
            }
            "compact" => {
                let who = id(args[0]);
                let tail: u64 = kv(args, "tail").map_or(0, |v| v.parse().unwrap());
                self.c().compact(who, tail);
                let first = self.c().node(who).log().first_index().unwrap();
                let _ = writeln!(out, "first index {first}");
            }
            "transfer" => {
                let (from, to) = (id(args[0]), id(args[1]));
                if let Err(e) = self.c().node_mut(from).transfer_leader(to) {
                    let _ = writeln!(out, "error: {e}");
                }
                self.c().process(from);
            }
            "read" => {
                let who = id(args[0]);
                match self.c().node_mut(who).read_index() {
                    Ok(rid) => {
                        let _ = writeln!(out, "read id={rid}");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "error: {e}");
                    }
                }
                self.c().process(who);
            }
            "reads" => {
                let who = id(args[0]);
                for r in self.c().reads.get(&who).cloned().unwrap_or_default() {
                    let _ = writeln!(out, "id={} index={}", r.id, r.index);
                }
            }
            "add-node" => {
                let who = id(args[0]);
                self.c().add_joining_node(who);
            }
            "conf-change" => {
                let who = id(args[0]);
                let changes = args[1..]
                    .chunks(2)
                    .map(|pair| {
                        let kind = match pair[0] {
                            "add-voter" => ConfChangeKind::AddVoter,
                            "add-learner" => ConfChangeKind::AddLearner,
                            "remove" => ConfChangeKind::Remove,
                            other => panic!("unknown change {other}"),
                        };
                        ConfChangeSingle {
                            kind,
                            node: id(pair[1]),
                        }
                    })
                    .collect();
                match self
                    .c()
                    .node_mut(who)
                    .propose_conf_change(ConfChange { changes })
                {
                    Ok(index) => {
                        let _ = writeln!(out, "appended index={index}");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "error: {e}");
                    }
                }
                self.c().process(who);
            }
            other => panic!("unknown command `{other}`"),
        }
        out
    }
}

fn fmt_payload(p: &Payload) -> String {
    match p {
        Payload::Noop => "noop".to_string(),
        Payload::Command(d) => format!("cmd {}", String::from_utf8_lossy(d)),
        Payload::ConfChange(cc) if cc.changes.is_empty() => "conf leave-joint".to_string(),
        Payload::ConfChange(cc) => {
            let parts: Vec<String> = cc
                .changes
                .iter()
                .map(|c| format!("{:?} {}", c.kind, c.node))
                .collect();
            format!("conf {}", parts.join(", "))
        }
        _ => format!("{p:?}"),
    }
}

fn fmt_message(m: &Message) -> String {
    let body = match &m.body {
        MessageBody::VoteRequest {
            pre_vote,
            last_index,
            last_term,
            transfer,
        } => {
            let kind = if *pre_vote { "PreVote" } else { "Vote" };
            let t = if *transfer { " transfer" } else { "" };
            format!("{kind} last={last_index}/{last_term}{t}")
        }
        MessageBody::VoteResponse { pre_vote, granted } => {
            let kind = if *pre_vote { "PreVoteResp" } else { "VoteResp" };
            format!("{kind} {}", if *granted { "granted" } else { "rejected" })
        }
        MessageBody::Append {
            prev_index,
            prev_term,
            entries,
            commit,
        } => {
            let es: Vec<String> = entries
                .iter()
                .map(|e| format!("{}/{}", e.index, e.term))
                .collect();
            format!(
                "App prev={prev_index}/{prev_term} entries=[{}] commit={commit}",
                es.join(" ")
            )
        }
        MessageBody::AppendResponse(AppendResult::Accepted { match_index }) => {
            format!("AppResp match={match_index}")
        }
        MessageBody::AppendResponse(AppendResult::Rejected {
            rejected_index,
            hint_index,
            hint_term,
        }) => {
            format!("AppResp rejected={rejected_index} hint={hint_index}/{hint_term}")
        }
        MessageBody::Heartbeat {
            commit,
            read_round,
            sent_at_tick,
        } => {
            format!("Heartbeat commit={commit} round={read_round} sent={sent_at_tick}")
        }
        MessageBody::HeartbeatResponse {
            read_round,
            sent_at_tick,
        } => {
            format!("HeartbeatResp round={read_round} sent={sent_at_tick}")
        }
        MessageBody::InstallSnapshot(s) => format!("Snapshot {}/{}", s.meta.index, s.meta.term),
        other => format!("{other:?}"),
    };
    format!("{}->{} term={} {body}", m.from, m.to, m.term)
}
