//! Fuzz interpreter: one Multi-Paxos node fed arbitrary, structurally
//! valid messages (forged promises, acceptances, leaders and reads
//! included) between ticks, proposals, reads, campaigns and restarts, plus
//! arbitrary bytes decoded as messages. Nothing may panic and the node's
//! own invariants must hold after every step. Shared by
//! `fuzz/fuzz_targets/paxos_step.rs` and the crate's `fuzz_inputs` test.
#![allow(dead_code, unreachable_pub)]

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::{Config, MemStorage, Message, PaxosNode, Storage};

type Node = PaxosNode<MemStorage, StdRng>;

const ME: u64 = 1;

#[derive(Debug, Arbitrary)]
enum Op {
    Tick,
    Step(Message),
    /// A message from a peer, addressed to this node.
    StepFromPeer(u8, Message),
    Propose(Vec<u8>),
    Read,
    Campaign,
    Restart,
    Decode(Vec<u8>),
}

/// Writes and applies everything handed out; committed entries come in
/// increasing index order, each once.
fn drain(n: &mut Node, handed: &mut u64) {
    let mut rounds = 0;
    while n.has_ready() {
        rounds += 1;
        assert!(rounds < 10_000, "has_ready never settles");
        let ready = n.ready().expect("ready with in-memory storage");
        n.storage_mut()
            .apply_write(ready.write.clone())
            .expect("a write handed out applies to the log");
        let written = ready.after_write.written();
        n.on_written(written.receipt);
        for e in ready.committed {
            assert!(
                e.index > *handed,
                "entry {} handed out after {handed}",
                e.index
            );
            *handed = e.index;
            n.on_applied(e.index);
        }
    }
}

fn check(n: &Node, promised_before: u64, decided_before: u64) {
    assert!(n.promised().0 >= promised_before, "the promise went back");
    assert!(n.decided() >= decided_before, "the decided index went back");
    let last = n.storage().last_index().unwrap();
    assert!(
        n.decided() <= last,
        "decided {} past the log {last}",
        n.decided()
    );
}

pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut config = Config::new(ME);
    config.max_size_per_msg_bytes = u.int_in_range(1..=4096).unwrap_or(64);
    config.max_inflight_entries = u.int_in_range(1..=16).unwrap_or(4);
    let mut n = Node::new(
        config.clone(),
        MemStorage::bootstrap(&[1, 2, 3]),
        StdRng::seed_from_u64(1),
    )
    .expect("a valid start");
    // A state machine rebuilt from scratch: everything decided is handed
    // out again from the start (or the snapshot).
    let mut handed = 0;
    let mut restarts = 0u64;
    for _ in 0..256 {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        let (promised, decided) = (n.promised().0, n.decided());
        match op {
            Op::Tick => n.tick(),
            Op::Step(m) => {
                let _ = n.step(m);
            }
            Op::StepFromPeer(p, mut m) => {
                m.from = u64::from(p % 4);
                m.to = ME;
                let _ = n.step(m);
            }
            Op::Propose(data) => {
                let _ = n.propose(Bytes::from(data));
            }
            Op::Read => {
                let _ = n.read_index();
            }
            Op::Campaign => n.campaign(),
            Op::Restart => {
                drain(&mut n, &mut handed);
                restarts += 1;
                let disk = n.storage().clone();
                n = Node::new(config.clone(), disk, StdRng::seed_from_u64(restarts))
                    .expect("a node restarts from its disk");
                handed = n.storage().snapshot(0).map_or(0, |s| s.meta.index);
            }
            Op::Decode(bytes) => {
                let _ = postcard::from_bytes::<Message>(&bytes);
            }
        }
        drain(&mut n, &mut handed);
        check(&n, promised, decided);
    }
}
