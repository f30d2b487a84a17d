//! The nemesis: crashes and restarts, pauses, partitions of every shape,
//! membership changes and compaction, all drawn from the run's generator.

use std::collections::BTreeSet;

use rand::{Rng as _, RngExt};

use super::{Sim, Workload};
use crate::disk::mix;
use crate::fault::FaultConfig;
use crate::partition::{self, PartitionKind};
use crate::replica::{MembershipChange, Replica};
use crate::report::Violation;

/// A node holding an unsynced vote is this many times likelier to crash:
/// the nemesis aims at fsync windows.
const VOTE_WINDOW_CRASH_FACTOR: f64 = 25.0;

/// A node with reads in flight is this many times likelier to crash, and
/// then comes back at once, so answers to its old reads can reach its new
/// incarnation.
const READ_BOUNCE_FACTOR: f64 = 10.0;

impl<R: Replica, W: Workload> Sim<R, W> {
    pub(super) fn inject_faults(&mut self) {
        self.step_swizzle();
        if self.partition_until > 0 && self.now >= self.partition_until {
            self.net.cut.clear();
            self.partition_until = 0;
        }
        if self.partition_until == 0 && self.rng.random_bool(self.faults.partition) {
            self.partition();
        }
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            self.crash_restart_or_pause(id);
        }
    }

    /// Restarts a node that is down and due, or maybe crashes or pauses a
    /// running one.
    fn crash_restart_or_pause(&mut self, id: u64) {
        let now = self.now;
        let crash_roll = self.rng.next_u64() as f64 / u64::MAX as f64;
        let pause = self.rng.random_bool(self.faults.pause);
        let s = self.nodes.get_mut(&id).expect("node");
        let disk = &s.disk;
        let unsynced_vote = (disk.pending.iter()).any(|w| R::changes_vote(&disk.durable, w));
        let reads_in_flight = !s.reads.is_empty();
        let p = if unsynced_vote {
            (self.faults.crash * VOTE_WINDOW_CRASH_FACTOR).min(1.0)
        } else {
            self.faults.crash
        };
        let bounce = reads_in_flight && crash_roll < (self.faults.crash * READ_BOUNCE_FACTOR);
        if s.node.is_none() {
            if now >= s.down_until {
                self.restart(id);
            }
        } else if bounce {
            // Back at once; answers to its old reads reach the new
            // incarnation (held up by the network meanwhile).
            self.crash(id);
            if let Some(s) = self.nodes.get_mut(&id) {
                s.down_until = now + 1;
            }
            let (lo, hi) = self.faults.slow_ticks;
            let extra = lo + self.rng.next_u64() % (hi - lo + 1);
            self.net.hold_up_to(id, extra);
        } else if crash_roll < p {
            self.crash(id);
        } else if pause && s.paused_until <= now {
            self.summary.pauses += 1;
            let (lo, hi) = self.faults.pause_ticks;
            s.paused_until = now + lo + self.rng.next_u64() % (hi - lo + 1);
        }
    }

    fn restart(&mut self, id: u64) {
        let s = self.nodes.get_mut(&id).expect("node");
        s.restarts += 1;
        match Self::start(&self.workload, id, &s.disk.durable, &self.cfg, s.restarts) {
            Ok((node, state)) => {
                s.node = Some(node);
                s.state = state;
                s.serving.clear();
                s.reads.clear();
                s.confirmed.clear();
                s.applied_index = 0;
            }
            Err(error) => return self.bad_write(id, error),
        }
        self.trace = mix(self.trace, 0xBEEF ^ id);
        self.event(|| format!("node {id} restarts from its disk"));
    }

    /// Stops a node: everything not synced is lost, except that a torn
    /// write may leave a prefix of the unsynced entries on disk.
    fn crash(&mut self, id: u64) {
        self.summary.crashes += 1;
        let s = self.nodes.get_mut(&id).expect("node");
        let crashed = s.disk.crash(&mut self.rng, self.faults.torn_writes);
        self.summary.lost_writes += u64::from(crashed.lost);
        self.summary.torn_writes += u64::from(crashed.torn);
        s.node = None;
        let (lo, hi) = self.faults.down_ticks;
        s.down_until = self.now + lo + self.rng.next_u64() % (hi - lo + 1);
        self.trace = mix(self.trace, 0xDEAD ^ id);
        self.event(|| format!("node {id} crashes"));
    }

    /// Starts a partition of a shape drawn from the fault config.
    fn partition(&mut self) {
        let kinds = &self.faults.partition_kinds;
        if kinds.is_empty() {
            return;
        }
        let kind = kinds[(self.rng.next_u64() % kinds.len() as u64) as usize];
        self.summary.partitions += 1;
        *self.summary.partition_kinds.entry(kind).or_default() += 1;
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        self.trace = mix(self.trace, 0xCAFE ^ kind as u64);
        if kind == PartitionKind::Swizzle {
            self.event(|| format!("partition {kind:?}"));
            let mut order = ids.clone();
            for i in (1..order.len()).rev() {
                order.swap(i, (self.rng.next_u64() % (i as u64 + 1)) as usize);
            }
            self.swizzle = Some((order, 0, true, self.now));
            self.partition_until = u64::MAX; // ended by the swizzle itself
            return;
        }
        self.net.cut = partition::cuts(kind, &ids, self.last_leader, &mut self.rng);
        let (lo, hi) = self.faults.partition_ticks;
        self.partition_until = self.now + lo + self.rng.next_u64() % (hi - lo + 1);
        let (cut, until) = (&self.net.cut, self.partition_until);
        let line = format!("partition {kind:?} until {until}: cut {cut:?}");
        self.event(|| line);
    }

    /// Moves a swizzle one step: clog one more node every 5 ticks until a
    /// majority is clogged, then unclog them in reverse order.
    fn step_swizzle(&mut self) {
        let Some((order, clogged, growing, next_at)) = self.swizzle.as_mut() else {
            return;
        };
        if self.now < *next_at {
            return;
        }
        *next_at = self.now + 5;
        if *growing && *clogged < order.len() / 2 + 1 {
            *clogged += 1;
        } else {
            *growing = false;
            *clogged -= 1;
        }
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        let mut cut = BTreeSet::new();
        for &node in &order[..*clogged] {
            partition::clog(node, &ids, &mut cut);
        }
        self.net.cut = cut;
        if !*growing && *clogged == 0 {
            self.swizzle = None;
            self.partition_until = 0;
        }
    }

    /// Ends every fault for the liveness phase.
    pub(super) fn heal(&mut self) {
        // Clients keep working while healed, so each one can show progress
        // (a shared budget could be used up by the others).
        self.cfg.ops = self.invoked + self.cfg.heal_ops;
        self.faults = FaultConfig::none();
        self.net.cut.clear();
        self.partition_until = 0;
        self.swizzle = None;
        let now = self.now;
        for s in self.nodes.values_mut() {
            s.down_until = s.down_until.min(now);
            s.paused_until = s.paused_until.min(now);
        }
        self.event(|| "every fault heals".to_string());
    }

    /// What an operator does once faults heal
    /// ([`SimConfig::retire_removed`](crate::SimConfig::retire_removed)):
    /// a node the leader's settled configuration leaves out is stopped,
    /// and one it counts again is started from its disk. With no settled
    /// leader, the configuration applied furthest along among the running
    /// nodes stands in: a committed one, the latest any node applied. (A
    /// removed node that keeps campaigning can depose every leader before
    /// it commits an entry of its own term, so no leader ever settles:
    /// liveness seed 252338430880787, where a voter stuck behind a
    /// snapshot adopted each of its terms and took it to the leader.)
    pub(super) fn retire_removed(&mut self) {
        let settled = (self.last_leader)
            .and_then(|id| self.nodes.get(&id))
            .and_then(|s| s.node.as_ref())
            .and_then(R::settled_members);
        let Some(members) = settled.or_else(|| {
            (self.nodes.values())
                .filter(|s| !s.retired)
                .filter_map(|s| s.node.as_ref())
                .filter_map(R::applied_members)
                .max_by_key(|(applied, _)| *applied)
                .map(|(_, members)| members)
        }) else {
            return;
        };
        let now = self.now;
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            let member = members.binary_search(&id).is_ok();
            let retired = self.nodes.get(&id).is_some_and(|s| s.retired);
            if !member && !retired {
                // A clean stop: the disk syncs first.
                self.sync(id);
                let s = self.nodes.get_mut(&id).expect("node");
                s.retired = true;
                s.node = None;
                s.down_until = u64::MAX;
                self.summary.retired += 1;
                self.trace = mix(self.trace, 0x5709 ^ id);
                self.event(|| format!("node {id} stops: its removal is committed"));
            } else if member && retired {
                let s = self.nodes.get_mut(&id).expect("node");
                s.retired = false;
                s.down_until = now;
                self.event(|| format!("node {id} is a member again and will restart"));
            }
        }
    }

    /// Membership changes happen only while faults are on (the liveness
    /// phase runs with a stable configuration).
    pub(super) fn faults_reconfigure(&self) -> f64 {
        if self.now > self.cfg.ticks {
            0.0
        } else {
            self.cfg.reconfigure
        }
    }

    /// The leader removes a voter (keeping at least 4), adds a removed
    /// node back, or (a share `joint_changes` of the time, when a node is
    /// outside) does both in one change.
    pub(super) fn reconfigure(&mut self) {
        let Some(leader) = self.last_leader else {
            return;
        };
        let roll = self.rng.next_u64();
        let Some(n) = self.nodes.get_mut(&leader).and_then(|s| s.node.as_mut()) else {
            return;
        };
        if n.leader_term().is_none() {
            return;
        }
        let voters = n.voters();
        let outside: Vec<u64> = (1..=self.cfg.nodes)
            .filter(|id| !voters.contains(id))
            .collect();
        // The roll's high bits pick a joint change, so profiles without
        // them draw exactly what they drew before.
        let joint = ((roll >> 40) as f64 / (1u64 << 24) as f64) < self.cfg.joint_changes;
        // Stop-signs from the middle bits, and only for protocols that take
        // them: the others draw what they drew before.
        let stop = R::STOP_SIGNS
            && (((roll >> 16) & 0xFF_FFFF) as f64 / (1u64 << 24) as f64) < self.cfg.stop_signs;
        let change = if stop {
            // Any set of at least three nodes (all of them when fewer): it
            // may keep every voter, or share none with the voters now.
            let all = u64::MAX >> (64 - self.cfg.nodes.clamp(1, 64));
            let mut next = roll & all;
            if next.count_ones() < 3 {
                next |= voters.iter().fold(0, |m, v| m | 1 << (v - 1)) & all;
            }
            MembershipChange::StopSign { voters: next }
        } else if joint && !outside.is_empty() && !voters.is_empty() {
            MembershipChange::Replace {
                remove: voters[(roll / 2 % voters.len() as u64) as usize],
                add: outside[(roll / 2 % outside.len() as u64) as usize],
            }
        } else if !outside.is_empty() && (voters.len() < 4 || roll.is_multiple_of(2)) {
            MembershipChange::Add(outside[(roll / 2 % outside.len() as u64) as usize])
        } else if voters.len() >= 4 {
            MembershipChange::Remove(voters[(roll / 2 % voters.len() as u64) as usize])
        } else {
            return;
        };
        if n.propose_membership(change) {
            self.summary.conf_changes += 1;
            if matches!(change, MembershipChange::Replace { .. }) {
                self.summary.joint_changes += 1;
            }
            if matches!(change, MembershipChange::StopSign { .. }) {
                self.summary.stop_signs += 1;
            }
            self.event(|| format!("node {leader} proposes {change:?}"));
            self.drive(leader);
        }
    }

    /// A node snapshots its state machine and compacts its log.
    pub(super) fn compact(&mut self, id: u64) {
        let s = self.nodes.get_mut(&id).expect("node");
        let Some(n) = s.node.as_mut() else { return };
        let (workload, state) = (&self.workload, &s.state);
        let mut refused = None;
        let taken = n.compact(&mut s.disk.durable, || {
            workload.snapshot(state).unwrap_or_else(|e| {
                refused = Some(e);
                Vec::new()
            })
        });
        if let Some(error) = refused {
            self.violation
                .get_or_insert(Violation::Codec { node: id, error });
        } else if taken {
            self.summary.snapshots.0 += 1;
        }
    }
}
