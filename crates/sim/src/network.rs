//! The simulated network: messages in flight with delivery times, lost,
//! duplicated and delayed per a [`FaultConfig`], and links cut by
//! partitions.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt};

use crate::fault::FaultConfig;

/// Messages keyed by (delivery tick, sequence number): delivery order is
/// deterministic for a seed.
#[derive(Debug)]
pub(crate) struct Network<M> {
    in_flight: BTreeMap<(u64, u64), (u64, u64, M)>,
    next_seq: u64,
    /// Directed links that drop everything.
    pub(crate) cut: BTreeSet<(u64, u64)>,
    pub(crate) sent: u64,
    pub(crate) dropped: u64,
    pub(crate) duplicated: u64,
}

impl<M: Clone> Network<M> {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: BTreeMap::new(),
            next_seq: 0,
            cut: BTreeSet::new(),
            sent: 0,
            dropped: 0,
            duplicated: 0,
        }
    }

    fn delay(rng: &mut StdRng, faults: &FaultConfig) -> u64 {
        let (lo, hi) = faults.delay_ticks;
        lo + rng.next_u64() % (hi - lo + 1)
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
        let copies = if rng.random_bool(faults.duplicate) {
            self.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = now + Self::delay(rng, faults);
            self.in_flight
                .insert((at, self.next_seq), (from, to, msg.clone()));
            self.next_seq += 1;
        }
    }

    /// Takes the next message due by `now`, skipping (and counting) those
    /// on cut links.
    pub(crate) fn next_due(&mut self, now: u64) -> Option<(u64, u64, M)> {
        loop {
            let (&key, _) = self.in_flight.iter().next()?;
            if key.0 > now {
                return None;
            }
            let (from, to, msg) = self.in_flight.remove(&key).expect("present");
            if self.cut.contains(&(from, to)) {
                self.dropped += 1;
                continue;
            }
            return Some((from, to, msg));
        }
    }

    /// Puts a message back for the next tick (its addressee is paused).
    pub(crate) fn defer(&mut self, now: u64, from: u64, to: u64, msg: M) {
        self.in_flight
            .insert((now + 1, self.next_seq), (from, to, msg));
        self.next_seq += 1;
    }
}
