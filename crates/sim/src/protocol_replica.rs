//! Any synod-protocol `Protocol` over `MemStorage` as a simulated
//! [`Replica`]: the simulator drives it through the trait alone and reads
//! the inspection views the checkers need from its log.

use std::fmt::Debug;

use rand::rngs::StdRng;
use synod_protocol::{
    Bytes, ConfChange, ConfChangeKind, ConfChangeSingle, Entry, MemStorage, Payload,
    Proposed as Taken, Protocol, Refusal, Role, StopSign, Storage, Write,
};

use crate::config::SimConfig;
use crate::replica::{Applied, MembershipChange, Proposed, ReadStarted, Ready, Replica};

/// Entries a snapshot keeps after its index, for nearly caught-up peers
/// (the same tail raft-core's own replica keeps).
const COMPACT_TAIL: u64 = 5;

/// A protocol behind [`Protocol`], simulated: `ProtocolReplica<RaftNode<
/// MemStorage, StdRng>>` runs raft-core, and Multi-Paxos will run the same
/// way.
#[derive(Debug)]
pub struct ProtocolReplica<P>(pub P);

/// The node's view and the simulated disk each take their own copy of a
/// write (payloads are shared buffers: the copy is of the entry list).
fn write_to(disk: &mut MemStorage, write: &Write) -> Result<(), String> {
    disk.apply_write(write.clone()).map_err(|e| e.to_string())
}

/// The pending writes a torn write can keep entries of: those before the
/// first that installs a snapshot. Entries written after a snapshot follow
/// it, not the log it replaced: keeping them without it (the snapshot lost
/// in the crash) would build a log no node ever held, with an entry of one
/// leader after an entry another leader had replaced (found by CI's seed
/// window: Multi-Paxos safety seed 78137145615842, a log-matching
/// violation).
fn tearable(pending: &[Write]) -> impl Iterator<Item = &Write> {
    pending.iter().take_while(|w| w.installs().is_none())
}

fn rejected(refusal: &Refusal) -> Option<u64> {
    match refusal {
        Refusal::NotLeader { leader } => *leader,
        _ => None,
    }
}

impl<P> Replica for ProtocolReplica<P>
where
    P: Protocol<Storage = MemStorage, Rng = StdRng>,
{
    const NAME: &'static str = P::NAME;
    const STOP_SIGNS: bool = P::STOP_SIGNS;
    type Message = P::Message;
    type Disk = MemStorage;
    type Write = Write;
    type Receipt = P::Receipt;
    type Payload = Payload;
    type Options = P::Options;

    fn bootstrap(voters: &[u64]) -> MemStorage {
        MemStorage::bootstrap(voters)
    }

    fn start(
        id: u64,
        disk: &MemStorage,
        cfg: &SimConfig<P::Options>,
        rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String> {
        let snapshot = disk.snapshot(0).map_err(|e| e.to_string())?;
        // Odd-numbered nodes stage a leader's snapshot piece by piece, as
        // disk-backed storage does; even-numbered ones take it whole: every
        // run exercises both paths.
        let mut view = disk.clone();
        view.set_stages_snapshots(id % 2 == 1);
        let node = P::start(id, &cfg.protocol, view, rng).map_err(|e| e.to_string())?;
        let state = (!snapshot.is_empty()).then_some(snapshot.data.to_vec());
        Ok((Self(node), state))
    }

    fn tick(&mut self) {
        self.0.tick();
    }

    fn step(&mut self, msg: P::Message) {
        // Stale or malformed messages are the protocol's to refuse.
        let _ = self.0.step(msg);
    }

    fn addressee(msg: &P::Message) -> u64 {
        P::addressee(msg)
    }

    fn message_term(msg: &P::Message) -> u64 {
        P::message_term(msg)
    }

    fn describe(msg: &P::Message) -> String {
        format!("{msg:?}")
    }

    fn propose(&mut self, command: Vec<u8>) -> Proposed {
        match self.0.propose(command.into()) {
            Ok(Taken::Appended { .. }) => Proposed::Appended,
            Ok(Taken::Forwarded { leader }) => Proposed::Rejected {
                leader: Some(leader),
            },
            Err(r) => Proposed::Rejected {
                leader: rejected(&r),
            },
        }
    }

    fn read(&mut self) -> ReadStarted {
        match self.0.read() {
            Ok(id) => ReadStarted::Started(id),
            Err(Refusal::Unsupported) => ReadStarted::Unsupported,
            Err(r) => ReadStarted::Rejected {
                leader: rejected(&r),
            },
        }
    }

    fn has_ready(&self) -> bool {
        self.0.has_ready()
    }

    fn ready(&mut self) -> Result<Ready<Self>, String> {
        let ready = self.0.ready().map_err(|e| e.to_string())?;
        let write = ready.write;
        // The node's own view of its disk takes the write at once; the
        // simulated disk takes it when it syncs.
        write_to(self.0.storage_mut(), &write)?;
        let restored = match (&write.snapshot, &write.staged_snapshot) {
            (Some(s), _) => Some(s.data.to_vec()),
            // Installed from the staged pieces: read it back, as a driver
            // restores its state machine from storage.
            (None, Some(meta)) => {
                let s = self
                    .0
                    .storage()
                    .snapshot(meta.index)
                    .map_err(|e| e.to_string())?;
                if s.meta != *meta {
                    return Err(format!(
                        "staged snapshot {meta:?} installed as {:?}",
                        s.meta
                    ));
                }
                Some(s.data.to_vec())
            }
            (None, None) => None,
        };
        // The simulator holds these until the disk syncs: it models the
        // durability the type otherwise enforces.
        let written = ready.after_write.written();
        let mut buffer = ready.committed;
        let committed = buffer
            .drain(..)
            .map(|e| Applied {
                index: e.index,
                term: e.term,
                payload: e.payload,
            })
            .collect();
        // Handed back, as a driver does: every simulated run goes through
        // the node's buffer reuse too.
        self.0.reuse_entries(buffer);
        Ok(Ready {
            send: ready.messages,
            write,
            after_sync: written.messages,
            receipt: written.receipt,
            restored,
            committed,
            reads: ready.reads.iter().map(|r| (r.id, r.index)).collect(),
        })
    }

    fn on_synced(&mut self, receipt: P::Receipt) {
        self.0.on_written(receipt);
    }

    fn on_applied(&mut self, index: u64) {
        self.0.on_applied(index);
    }

    fn write(disk: &mut MemStorage, write: &Write) -> Result<(), String> {
        write_to(disk, write)
    }

    fn changes_vote(disk: &MemStorage, write: &Write) -> bool {
        let durable_vote = disk.hard_state().vote;
        write.hard_state.is_some_and(|hs| hs.vote != durable_vote)
    }

    fn torn_units(pending: &[Write]) -> usize {
        tearable(pending).map(|w| w.entries.len()).sum()
    }

    fn tear(disk: &mut MemStorage, pending: &[Write], keep: usize) -> bool {
        let entries: Vec<Entry> = tearable(pending)
            .flat_map(|w| w.entries.iter().cloned())
            .take(keep)
            .collect();
        disk.append(entries).is_ok()
    }

    fn leader_term(&self) -> Option<u64> {
        let s = self.0.status();
        (s.role == Role::Leader).then_some(s.term)
    }

    fn term(&self) -> u64 {
        self.0.status().term
    }

    fn log_terms(&self) -> Vec<(u64, u64)> {
        let log = self.0.storage();
        let (Ok(first), Ok(last)) = (log.first_index(), log.last_index()) else {
            return Vec::new();
        };
        (first..=last)
            .filter_map(|i| Some((i, log.term(i).ok()?)))
            .collect()
    }

    fn first_index(&self) -> u64 {
        self.0.storage().first_index().unwrap_or(1)
    }

    fn holds(&self, index: u64, term: u64) -> bool {
        self.0.storage().term(index) == Ok(term)
    }

    fn command(payload: &Payload) -> Option<&[u8]> {
        match payload {
            Payload::Command(bytes) => Some(bytes),
            _ => None,
        }
    }

    fn voters(&self) -> Vec<u64> {
        self.0.conf_state().voters
    }

    fn settled_members(&self) -> Option<Vec<u64>> {
        let s = self.0.status();
        // An entry of its own term committed: every entry committed
        // before is known committed, so the applied configuration is the
        // latest committed one.
        let settled =
            s.role == Role::Leader && s.applied == s.committed && self.holds(s.committed, s.term);
        settled.then(|| self.0.conf_state().members())
    }

    fn applied_members(&self) -> Option<(u64, Vec<u64>)> {
        Some((self.0.status().applied, self.0.conf_state().members()))
    }

    fn propose_membership(&mut self, change: MembershipChange) -> bool {
        let change = match change {
            MembershipChange::StopSign { voters: mask } => {
                let voters: Vec<u64> = (1..=64).filter(|i| mask >> (i - 1) & 1 == 1).collect();
                let learners = (self.0.conf_state().learners.into_iter())
                    .filter(|l| !voters.contains(l))
                    .collect();
                let stop = StopSign {
                    voters,
                    learners,
                    metadata: Bytes::from_static(b"sim"),
                };
                return self.0.propose_stop_sign(stop).is_ok();
            }
            MembershipChange::Add(id) => ConfChange::single(ConfChangeKind::AddVoter, id),
            MembershipChange::Remove(id) => ConfChange::single(ConfChangeKind::Remove, id),
            MembershipChange::Replace { remove, add } => ConfChange {
                changes: vec![
                    ConfChangeSingle {
                        kind: ConfChangeKind::AddVoter,
                        node: add,
                    },
                    ConfChangeSingle {
                        kind: ConfChangeKind::Remove,
                        node: remove,
                    },
                ],
            },
        };
        self.0.change_membership(change).is_ok()
    }

    fn compact(&mut self, durable: &mut MemStorage, state: impl FnOnce() -> Vec<u8>) -> bool {
        let applied = self.0.status().applied;
        let taken = durable.snapshot(0).map_or(0, |snap| snap.meta.index);
        if applied <= taken + COMPACT_TAIL {
            return false;
        }
        // A leader's snapshot handed over but not yet durable is in the
        // state machine already (restored with the hand-off) but not yet
        // counted applied: a snapshot taken now would label that state
        // with an older index, and a restart from it would apply entries
        // a second time (lock seed 186381451100188: a client's request
        // refused as a repeat on one replica only).
        let installed = self
            .0
            .storage()
            .snapshot(0)
            .map_or(0, |snap| snap.meta.index);
        if installed > applied {
            return false;
        }
        let (conf, data) = (self.0.conf_state(), state());
        // Applied entries are synced (the node applies only persisted
        // entries, and the simulator persists at sync), so both disks
        // hold them.
        for disk in [durable, self.0.storage_mut()] {
            if disk
                .create_snapshot(applied, conf.clone(), data.clone())
                .is_ok()
            {
                let first = disk.first_index().unwrap_or(1);
                if applied - COMPACT_TAIL >= first {
                    let _ = disk.compact(applied - COMPACT_TAIL);
                }
            }
        }
        true
    }
}

impl<P: Protocol> ProtocolReplica<P> {
    /// The protocol inside.
    #[must_use]
    pub fn protocol(&self) -> &P {
        &self.0
    }
}
