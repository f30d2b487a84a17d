//! Script tests: each file in `tests/testdata/` is a scenario of commands
//! and the output each must print (the format of raft-core's scripts, in
//! the style of etcd raft's `testdata/*.txt`). Adding a regression test is
//! adding a file.
//!
//! Format: a command line, a line `----`, then the expected output up to a
//! blank line. Lines starting with `#` are comments. Run with
//! `UPDATE_EXPECT=1` to rewrite the expected output from what the driver
//! prints (then read the diff).
//!
//! Commands: `cluster n=3 [seed=S] [voters=1,2,3] [lease] [priority=ID:P]`,
//! `tick [n=N]`, `campaign ID`, `propose ID DATA`, `deliver`, `stabilize`,
//! `messages`, `isolate ID`, `cut FROM TO`, `heal`, `status`, `log ID`,
//! `members`, `read ID`, `transfer FROM TO`, `restart ID`,
//! `conf-change ID (add-voter|add-learner|remove) NODE`,
//! `stop-sign ID voters=A,B,C [learners=D,E] [meta=TEXT]`.

use crate::support;

// The script format is raft-core's, shared by path.
#[path = "../../raft-core/tests/scripting/format.rs"]
mod format;

use std::fmt::Write as _;
use std::path::Path;

use bytes::Bytes;
use format::{id, kv};
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::Cluster;
use synod_paxos_core::*;

#[test]
fn scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    format::run_dir(&dir, || {
        let mut driver = Driver {
            cluster: None,
            configs: std::collections::BTreeMap::new(),
        };
        move |command: &str| driver.run(command)
    });
}

struct Driver {
    cluster: Option<Cluster>,
    /// Each node's configuration, for restarts.
    configs: std::collections::BTreeMap<NodeId, Config>,
}

fn ids(list: &str) -> Vec<NodeId> {
    list.split(',').map(id).collect()
}

/// One message, briefly.
fn brief(m: &Message) -> String {
    let body = match &m.body {
        Body::Beat {
            leader,
            connected,
            leader_alive,
            priority,
        } => format!(
            "Beat leader={leader} connected={connected} alive={leader_alive} priority={priority}"
        ),
        Body::Prepare {
            decided,
            last_term,
            last_index,
        } => format!(
            "Prepare decided={decided} last={last_index}/{}",
            Ballot(*last_term)
        ),
        Body::Promise {
            decided,
            last_term,
            last_index,
            suffix,
            pieces,
        } => format!(
            "Promise decided={decided} last={last_index}/{} suffix={}{}",
            Ballot(*last_term),
            suffix_brief(suffix),
            pieces
                .as_ref()
                .map_or(String::new(), |m| format!(" pieces-of={}", m.index))
        ),
        Body::AcceptSync { suffix, decided } => {
            format!(
                "AcceptSync suffix={} decided={decided}",
                suffix_brief(suffix)
            )
        }
        Body::Accept {
            prev_index,
            entries,
            decided,
        } => format!(
            "Accept prev={prev_index} entries={} decided={decided}",
            entries.len()
        ),
        Body::Accepted { last_index } => format!("Accepted last={last_index}"),
        Body::Read { seq } => format!("Read seq={seq}"),
        Body::ReadAck { seq } => format!("ReadAck seq={seq}"),
        other => format!("{other:?}"),
    };
    format!("{}->{} {} {body}", m.from, m.to, m.ballot)
}

fn suffix_brief(s: &Suffix) -> String {
    let snap = s
        .snapshot
        .as_ref()
        .map_or(String::new(), |x| format!("snapshot@{}+", x.meta.index));
    format!("{snap}{}..+{}", s.after, s.entries.len())
}

/// What a membership change or stop-sign proposal answered.
fn report_index(out: &mut String, r: Result<(Index, u64), ProposeError>) {
    let _ = match r {
        Ok((index, _)) => writeln!(out, "index={index}"),
        Err(e) => writeln!(out, "refused: {e}"),
    };
}

fn payload(p: &Payload) -> String {
    match p {
        Payload::Noop => "noop".to_string(),
        Payload::Command(b) => String::from_utf8_lossy(b).into_owned(),
        Payload::ConfChange(cc) => format!("conf {:?}", cc.changes),
        Payload::StopSign(ss) => format!(
            "stop-sign voters={:?} learners={:?} meta={}",
            ss.voters,
            ss.learners,
            String::from_utf8_lossy(&ss.metadata)
        ),
        other => format!("{other:?}"),
    }
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
                let voters = kv(args, "voters").map_or_else(|| (1..=n).collect(), ids);
                let lease = args.contains(&"lease");
                let priorities: Vec<(NodeId, u32)> = kv(args, "priority")
                    .map(|p| {
                        p.split(',')
                            .map(|x| {
                                let (a, b) = x.split_once(':').unwrap();
                                (id(a), b.parse().unwrap())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let config = |i| Config {
                    lease_reads: lease,
                    priority: priorities
                        .iter()
                        .find(|(n, _)| *n == i)
                        .map_or(0, |(_, p)| *p),
                    ..Config::new(i)
                };
                self.configs = (1..=n).map(|i| (i, config(i))).collect();
                self.cluster = Some(Cluster::with_voters(n, &voters, seed, config));
            }
            "tick" => {
                let n: u64 = kv(args, "n").map_or(1, |v| v.parse().unwrap());
                self.c().ticks(n);
            }
            "campaign" => {
                let i = id(args[0]);
                self.c().nodes.get_mut(&i).unwrap().campaign();
                self.c().drive(i);
            }
            "propose" => {
                let i = id(args[0]);
                let data = Bytes::from(args[1].to_string());
                let r = self.c().nodes.get_mut(&i).unwrap().propose(data);
                self.c().drive(i);
                match r {
                    Ok((index, term)) => {
                        let _ = writeln!(out, "index={index} ballot={}", Ballot(term));
                    }
                    Err(e) => {
                        let _ = writeln!(out, "refused: {e}");
                    }
                }
            }
            "deliver" => self.c().deliver(),
            "stabilize" => self.c().stabilize(),
            "messages" => {
                let c = self.c();
                for m in &c.in_flight {
                    let cut = if c.cut.contains(&(m.from, m.to)) {
                        " (cut)"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "{}{cut}", brief(m));
                }
            }
            "isolate" => self.c().isolate(id(args[0])),
            "cut" => {
                let (a, b) = (id(args[0]), id(args[1]));
                self.c().cut.insert((a, b));
            }
            "heal" => self.c().heal(),
            "status" => {
                for n in self.c().nodes.values() {
                    let _ = writeln!(
                        out,
                        "{}: {:?} promised={} leader={} decided={} last={} voters={:?} learners={:?}",
                        n.id(),
                        n.role(),
                        n.promised(),
                        n.leader_ballot(),
                        n.decided(),
                        n.storage().last_index().unwrap(),
                        n.voters(),
                        n.learners(),
                    );
                }
            }
            "members" => {
                for n in self.c().nodes.values() {
                    let _ = writeln!(
                        out,
                        "{}: voters={:?} outgoing={:?} learners={:?}{}",
                        n.id(),
                        n.voters(),
                        n.voters_outgoing(),
                        n.learners(),
                        if n.stopping() { " stopping" } else { "" },
                    );
                }
            }
            "log" => {
                let n = &self.c().nodes[&id(args[0])];
                let (first, last) = (
                    n.storage().first_index().unwrap(),
                    n.storage().last_index().unwrap(),
                );
                for e in n.storage().entries(first, last + 1, u64::MAX).unwrap() {
                    let _ = writeln!(
                        out,
                        "{}/{} {}",
                        e.index,
                        Ballot(e.term),
                        payload(&e.payload)
                    );
                }
            }
            "read" => {
                let i = id(args[0]);
                let r = self.c().read_at_once(i);
                let _ = writeln!(
                    out,
                    "{}",
                    match r {
                        None => "refused: not the leader",
                        Some(true) => "answered at once (lease)",
                        Some(false) => "waits for a quorum round",
                    }
                );
            }
            "transfer" => {
                let (from, to) = (id(args[0]), id(args[1]));
                let r = self
                    .c()
                    .nodes
                    .get_mut(&from)
                    .unwrap()
                    .transfer_leadership(to);
                self.c().drive(from);
                if let Err(e) = r {
                    let _ = writeln!(out, "refused: {e}");
                }
            }
            "restart" => {
                let i = id(args[0]);
                let config = self.configs[&i].clone();
                let c = self.c();
                let storage = c.nodes[&i].storage().clone();
                let n = PaxosNode::new(config, storage, StdRng::seed_from_u64(77 + i)).unwrap();
                c.nodes.insert(i, n);
            }
            "conf-change" => {
                let i = id(args[0]);
                let kind = match args[1] {
                    "add-voter" => ConfChangeKind::AddVoter,
                    "add-learner" => ConfChangeKind::AddLearner,
                    "remove" => ConfChangeKind::Remove,
                    other => panic!("unknown change {other}"),
                };
                let cc = ConfChange::single(kind, id(args[2]));
                let r = self.c().nodes.get_mut(&i).unwrap().change_membership(cc);
                self.c().drive(i);
                report_index(&mut out, r);
            }
            "stop-sign" => {
                let i = id(args[0]);
                let ss = StopSign {
                    voters: kv(args, "voters").map_or_else(Vec::new, ids),
                    learners: kv(args, "learners").map_or_else(Vec::new, ids),
                    metadata: Bytes::from(kv(args, "meta").unwrap_or("").to_string()),
                };
                let r = self.c().nodes.get_mut(&i).unwrap().propose_stop_sign(ss);
                self.c().drive(i);
                report_index(&mut out, r);
            }
            other => panic!("unknown command {other}"),
        }
        out
    }
}
