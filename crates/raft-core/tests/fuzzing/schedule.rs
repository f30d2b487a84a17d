//! What the cluster interpreters share (raft-core's here, paxos-core's by
//! path): how the input's bytes become steps, the network faults done
//! here, log matching over any logs, and snapshot bytes that name their
//! index. The byte layout is the committed corpora's: change it and they
//! mean other runs.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use arbitrary::Unstructured;

/// A node's id, a log index, a term or ballot: all `u64` in both crates.
type Id = u64;

/// One step of a cluster run, decided by the input. Drops and duplicates
/// are done on the network here; the rest is for the interpreter.
pub enum Step<M> {
    /// `node` ticks (every node, with lease reads).
    Tick(Id),
    /// Deliver this message, taken off the network.
    Deliver(M),
    /// This message, taken off the network, is replaced by a stale one.
    Replace(M),
    /// `node`'s disk syncs.
    Sync(Id),
    /// `node` crashes; `torn` entries of its unsynced writes may land.
    Crash(Id, usize),
    /// `node` gets a proposal (and maybe a read).
    Propose(Id),
    /// One of the rarer inputs on `node`, which the interpreter draws.
    Other(Id),
    /// A drop or a duplicate, done.
    Done,
}

/// The next step: a node, then what happens (ops 3 to 9 touch the network
/// and, when it is empty, fall to the rarer inputs).
pub fn next<M: Clone>(
    u: &mut Unstructured<'_>,
    ids: &[Id],
    net: &mut Vec<M>,
) -> arbitrary::Result<Step<M>> {
    let id = ids[u.choose_index(ids.len()).unwrap_or(0)];
    Ok(match u.int_in_range(0..=13u8)? {
        0..=2 => Step::Tick(id),
        3..=6 if !net.is_empty() => {
            let k = u.choose_index(net.len())?;
            Step::Deliver(net.swap_remove(k))
        }
        7 if !net.is_empty() => {
            let k = u.choose_index(net.len())?;
            let _ = net.swap_remove(k);
            Step::Done
        }
        8 if !net.is_empty() => {
            let k = u.choose_index(net.len())?;
            let copy = net[k].clone();
            net.push(copy);
            Step::Done
        }
        9 if !net.is_empty() => {
            let k = u.choose_index(net.len())?;
            Step::Replace(net.swap_remove(k))
        }
        10 => Step::Sync(id),
        11 => Step::Crash(id, u.int_in_range(0..=3usize)?),
        12 => Step::Propose(id),
        _ => Step::Other(id),
    })
}

/// Runs `step` until the input ends (or 2,000 steps, or a step runs out of
/// bytes), checking `after` after each.
pub fn run<C>(
    u: &mut Unstructured<'_>,
    cluster: &mut C,
    mut step: impl FnMut(&mut C, &mut Unstructured<'_>) -> arbitrary::Result<()>,
    mut after: impl FnMut(&C),
) {
    let mut steps = 0;
    while !u.is_empty() && steps < 2_000 {
        steps += 1;
        if step(cluster, u).is_err() {
            break;
        }
        after(cluster);
    }
}

/// The voters a decision counted: `q2` of `voters` (a phase-2 quorum, a
/// majority in Raft), and a majority of `outgoing` while a joint
/// configuration is in force.
#[derive(Clone, Debug)]
pub struct Quorum {
    /// The voters.
    pub voters: Vec<Id>,
    /// The outgoing voters of a joint configuration; empty otherwise.
    pub outgoing: Vec<Id>,
    /// How many of `voters` make a quorum.
    pub q2: usize,
}

impl Quorum {
    /// Whether the voters `holds` picks make the quorum.
    pub fn met(&self, holds: impl Fn(&Id) -> bool) -> bool {
        self.voters.iter().filter(|n| holds(n)).count() >= self.q2
            && (self.outgoing.is_empty()
                || self.outgoing.iter().filter(|n| holds(n)).count() > self.outgoing.len() / 2)
    }
}

/// Entries a leader was seen committing (deciding, in Multi-Paxos), each
/// with its term or ballot and the quorum that counted it: no node ever
/// cuts such an entry (a later election could miss it), so each stays on
/// its quorum's disks.
#[derive(Default)]
pub struct Counted(BTreeMap<Id, (Id, Quorum)>);

impl Counted {
    /// A leader counted entry `index` of `term` on `quorum`.
    pub fn insert(&mut self, index: Id, term: Id, quorum: Quorum) {
        self.0.insert(index, (term, quorum));
    }

    /// Every entry is still held by its quorum; `holds(node, index, term)`
    /// says whether a node's disk holds that entry (or a snapshot past it).
    pub fn check_held(&self, holds: impl Fn(Id, Id, Id) -> bool) {
        for (&index, (term, quorum)) in &self.0 {
            assert!(
                quorum.met(|&n| holds(n, index, *term)),
                "committed entry {index} of term or ballot {term} is no longer durable on \
                 a quorum of {quorum:?}"
            );
        }
    }
}

/// Log matching (Raft §5.3, and Multi-Paxos's logs named by ballots):
/// where two logs hold an entry with the same index and term, they agree
/// on every entry before it. `logs` maps each node to its (index, term)s.
pub fn check_log_matching(logs: &[(Id, BTreeMap<Id, Id>)]) {
    for (i, (a, la)) in logs.iter().enumerate() {
        for (b, lb) in &logs[i + 1..] {
            let top = la
                .iter()
                .rev()
                .find(|(idx, t)| lb.get(idx) == Some(t))
                .map(|(&idx, _)| idx);
            let Some(top) = top else { continue };
            for (idx, t) in la.range(..=top) {
                if let Some(tb) = lb.get(idx) {
                    assert_eq!(t, tb, "logs of {a} and {b} differ at {idx} below {top}");
                }
            }
        }
    }
}

/// A snapshot's data: 40 bytes that name its index, so a piece out of
/// place or missing changes them.
pub fn snapshot_data(index: Id) -> Vec<u8> {
    index
        .to_le_bytes()
        .iter()
        .enumerate()
        .flat_map(|(i, b)| (0..5u8).map(move |k| b ^ (k * 37) ^ i as u8))
        .collect()
}
