//! The simulated network: messages in flight with delivery times, lost,
//! duplicated and delayed per a [`FaultConfig`], and links cut by
//! partitions.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt};

use crate::fault::FaultConfig;

/// Messages keyed by (delivery tick, sequence number): delivery order is
/// deterministic for a seed.
#[derive(Debug)]
pub(crate) struct Network<M> {
    /// (delivery tick, sequence number, the message's slot), earliest
    /// first: the pair is unique, so the order is total. A heap of these
    /// small triples, not an ordered map holding the messages: shifting
    /// messages within the map's nodes on every insert and remove was a
    /// fifth of a Multi-Paxos simulation's time, and the map's own upkeep
    /// a tenth more.
    in_flight: BinaryHeap<Reverse<(u64, u64, usize)>>,
    /// (from, to, message) per slot; `None` once delivered.
    slots: Vec<Option<(u64, u64, M)>>,
    /// Slots free for reuse, so the slab is as large as the most messages
    /// ever in flight at once.
    free: Vec<usize>,
    next_seq: u64,
    /// Directed links that drop everything.
    pub(crate) cut: BTreeSet<(u64, u64)>,
    /// Extra maximum delay per directed link, fixed for the run.
    pub(crate) link_jitter: BTreeMap<(u64, u64), u64>,
    pub(crate) sent: u64,
    pub(crate) dropped: u64,
    pub(crate) duplicated: u64,
    /// Messages held up by the `slow` fault.
    pub(crate) slowed: u64,
}

impl<M: Clone> Network<M> {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            cut: BTreeSet::new(),
            link_jitter: BTreeMap::new(),
            sent: 0,
            dropped: 0,
            duplicated: 0,
            slowed: 0,
        }
    }

    /// Draws each directed link's extra latency once, for the run.
    pub(crate) fn set_link_jitter(
        &mut self,
        nodes: &[u64],
        rng: &mut StdRng,
        faults: &FaultConfig,
    ) {
        for &a in nodes {
            for &b in nodes {
                if a != b {
                    let extra = rng.next_u64() % (faults.link_jitter_ticks + 1);
                    self.link_jitter.insert((a, b), extra);
                }
            }
        }
    }

    fn delay(&mut self, from: u64, to: u64, rng: &mut StdRng, faults: &FaultConfig) -> u64 {
        let (lo, hi) = faults.delay_ticks;
        let hi = hi + self.link_jitter.get(&(from, to)).copied().unwrap_or(0);
        let normal = lo + rng.next_u64() % (hi - lo + 1);
        if faults.slow > 0.0 && rng.random_bool(faults.slow) {
            self.slowed += 1;
            let (lo, hi) = faults.slow_ticks;
            return normal + lo + rng.next_u64() % (hi - lo + 1);
        }
        normal
    }

    /// Sends `msg` from `from` to `to` at tick `now`.
    pub(crate) fn send(
        &mut self,
        now: u64,
        from: u64,
        to: u64,
        msg: M,
        rng: &mut StdRng,
        faults: &FaultConfig,
    ) {
        self.sent += 1;
        if rng.random_bool(faults.drop) {
            self.dropped += 1;
            return;
        }
        if rng.random_bool(faults.duplicate) {
            self.duplicated += 1;
            let at = now + self.delay(from, to, rng, faults);
            self.enqueue(at, from, to, msg.clone());
        }
        let at = now + self.delay(from, to, rng, faults);
        self.enqueue(at, from, to, msg);
    }

    /// Puts a message in flight, due at tick `at`, after every message
    /// already due then.
    fn enqueue(&mut self, at: u64, from: u64, to: u64, msg: M) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some((from, to, msg));
                slot
            }
            None => {
                self.slots.push(Some((from, to, msg)));
                self.slots.len() - 1
            }
        };
        self.in_flight.push(Reverse((at, self.next_seq, slot)));
        self.next_seq += 1;
    }

    /// Holds up every message in flight to `node` by `extra` ticks (a
    /// network that buffers them while the node restarts).
    pub(crate) fn hold_up_to(&mut self, node: u64, extra: u64) {
        let mut queued = std::mem::take(&mut self.in_flight).into_vec();
        for Reverse((at, _, slot)) in &mut queued {
            if matches!(self.slots[*slot], Some((_, to, _)) if to == node) {
                *at += extra;
                self.slowed += 1;
            }
        }
        self.in_flight = BinaryHeap::from(queued);
    }

    /// Takes the next message due by `now`, skipping (and counting) those
    /// on cut links.
    pub(crate) fn next_due(&mut self, now: u64) -> Option<(u64, u64, M)> {
        loop {
            let &Reverse((at, _, slot)) = self.in_flight.peek()?;
            if at > now {
                return None;
            }
            self.in_flight.pop();
            let (from, to, msg) = self.slots[slot]
                .take()
                .expect("a queued slot holds its message");
            self.free.push(slot);
            if self.cut.contains(&(from, to)) {
                self.dropped += 1;
                continue;
            }
            return Some((from, to, msg));
        }
    }

    /// Puts a message back for the next tick (its addressee is paused).
    pub(crate) fn defer(&mut self, now: u64, from: u64, to: u64, msg: M) {
        self.enqueue(now + 1, from, to, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// With link jitter, links differ in their slowest delivery.
    #[test]
    fn links_get_their_own_latency() {
        let faults = FaultConfig {
            delay_ticks: (1, 2),
            link_jitter_ticks: 10,
            ..FaultConfig::none()
        };
        let mut rng = StdRng::seed_from_u64(3);
        let mut net: Network<u8> = Network::new();
        net.set_link_jitter(&[1, 2, 3], &mut rng, &faults);
        let extras: std::collections::BTreeSet<u64> = net.link_jitter.values().copied().collect();
        assert!(extras.len() > 1, "{:?}", net.link_jitter);
        for _ in 0..200 {
            net.send(0, 1, 2, 0, &mut rng, &faults);
        }
        let max_delay = net.in_flight.iter().map(|Reverse(k)| k.0).max().unwrap();
        assert!(max_delay <= 2 + net.link_jitter[&(1, 2)]);
    }
}
