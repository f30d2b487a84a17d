//! Fuzz interpreter: one node fed arbitrary, structurally valid messages
//! (forged votes, acknowledgements and leaders included) between ticks,
//! proposals, reads, compactions, transfers, membership changes and
//! restarts. Nothing may panic and the node's own invariants must hold
//! after every step. Shared by `fuzz/fuzz_targets/raft_step.rs` and the
//! crate's `fuzz_inputs` test.
#![allow(dead_code, unreachable_pub)]

use arbitrary::{Arbitrary, Unstructured};
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::{
    ConfChange, ConfChangeKind, Config, MemStorage, Message, NodeId, RaftNode, ReadMode, Role,
    Storage,
};

type Node = RaftNode<MemStorage, StdRng>;

const ME: NodeId = 1;

fn config(u: &mut Unstructured<'_>) -> arbitrary::Result<Config> {
    let mut c = Config::new(ME);
    c.pre_vote = u.arbitrary()?;
    c.check_quorum = u.arbitrary()?;
    if c.check_quorum && u.arbitrary()? {
        c.read_mode = ReadMode::Lease;
    }
    c.max_size_per_msg_bytes = u.int_in_range(1..=4096)?;
    c.max_inflight_msgs = u.int_in_range(1..=8)?;
    c.forward_proposals = u.arbitrary()?;
    Ok(c)
}

/// Persists and applies everything the node hands out; committed entries
/// must come in increasing index order, each once (`handed` is the last
/// index handed out).
fn drain(n: &mut Node, handed: &mut u64) {
    let mut rounds = 0;
    while n.has_ready() {
        rounds += 1;
        assert!(rounds < 10_000, "has_ready never settles");
        let ready = n.ready().expect("ready with in-memory storage");
        let persist = ready.persist;
        if let Some(s) = &persist.snapshot {
            n.storage_mut()
                .apply_snapshot(s.clone())
                .expect("a snapshot handed out is newer than storage's");
        }
        n.storage_mut()
            .append(&*persist.entries)
            .expect("entries handed out continue the log");
        if let Some(hs) = persist.hard_state {
            n.storage_mut().set_hard_state(hs);
        }
        let done = persist.persisted();
        n.on_persisted(done.receipt);
        for e in ready.committed_entries {
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

fn check(n: &Node, term_before: u64, commit_before: u64) {
    let log = n.log();
    assert!(
        log.committed() >= commit_before,
        "commit index went back from {commit_before} to {}",
        log.committed()
    );
    let (first, last) = (log.first_index().unwrap(), log.last_index().unwrap());
    assert!(first <= last + 1, "first {first} > last {last} + 1");
    assert!(log.applied() <= log.committed(), "applied past committed");
    assert!(
        log.committed() <= last,
        "committed {} past last {last}",
        log.committed()
    );
    assert!(n.term() >= term_before, "term went back");
    assert!(n.term() < u64::MAX, "term reached u64::MAX");
    if n.role() == Role::Leader {
        assert_eq!(n.leader(), Some(ME));
        for (id, pr) in n.progress() {
            assert!(pr.match_index < pr.next_index, "node {id}: match >= next");
            assert!(pr.match_index <= last, "node {id}: match past the log");
        }
    }
    if let Some(l) = n.leader() {
        assert_ne!(l, 0, "node 0 taken as leader");
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(cfg) = config(&mut u) else { return };
    let bootstrap = u.arbitrary().unwrap_or(false);
    let voters = [1, 2, 3];
    let storage = if bootstrap {
        MemStorage::bootstrap(&voters)
    } else {
        MemStorage::with_voters(&voters)
    };
    let mut n = RaftNode::new(cfg.clone(), storage, StdRng::seed_from_u64(1)).unwrap();
    let mut restarts = 0u64;
    let mut handed = n.log().applied();
    while !u.is_empty() {
        let term_before = n.term();
        let commit_before = n.log().committed();
        let Ok(op) = u.int_in_range(0..=9u8) else {
            break;
        };
        match op {
            0 => n.tick(),
            1..=3 => {
                let Ok(mut msg) = Message::arbitrary(&mut u) else {
                    break;
                };
                // Mostly addressed to us, from a member, so the handlers
                // past the first checks run.
                if u.arbitrary().unwrap_or(true) {
                    msg.to = ME;
                    msg.from = 1 + msg.from % 4;
                }
                let _ = n.step(msg);
            }
            4 => {
                let _ = n.propose(vec![op; 1 + (n.term() % 7) as usize]);
            }
            5 => {
                let _ = n.read_index();
            }
            6 => {
                let applied = n.log().applied();
                let conf = n.conf_state();
                let snapshotted = n.log().storage().snapshot(0).map_or(0, |s| s.meta.index);
                if applied > snapshotted
                    && n.storage_mut()
                        .create_snapshot(applied, conf, vec![1])
                        .is_ok()
                {
                    let _ = n.storage_mut().compact(applied);
                }
            }
            7 => {
                let to = u.int_in_range(0..=4).unwrap_or(1);
                let _ = n.transfer_leader(to);
            }
            8 => {
                let node = u.int_in_range(0..=5).unwrap_or(2);
                let kind = match u.int_in_range(0..=2).unwrap_or(0) {
                    0 => ConfChangeKind::AddVoter,
                    1 => ConfChangeKind::AddLearner,
                    _ => ConfChangeKind::Remove,
                };
                let _ = n.propose_conf_change(ConfChange::single(kind, node));
            }
            _ => {
                drain(&mut n, &mut handed);
                restarts += 1;
                let storage = n.log().storage().clone();
                let applied = storage.snapshot(0).map_or(0, |s| s.meta.index);
                let cfg = Config {
                    applied,
                    ..cfg.clone()
                };
                n = RaftNode::new(cfg, storage, StdRng::seed_from_u64(restarts))
                    .expect("a node restarts from what it persisted");
                // A new incarnation hands out from what it applied, and may
                // know a lower commit index (it is not persisted eagerly).
                handed = n.log().applied();
                drain(&mut n, &mut handed);
                check(&n, term_before, 0);
                continue;
            }
        }
        drain(&mut n, &mut handed);
        check(&n, term_before, commit_before);
    }
}
