//! Weighted round robin by earliest deadline first (Envoy, gRPC): each
//! endpoint's next turn is due `1 / weight` after its last, and the pick
//! takes the earliest due. O(log n) per pick under a short lock.
//!
//! A weight change rescales the time left until the endpoint's next turn
//! (`left x old / new`) instead of restarting the schedule, and a new
//! endpoint starts at a random phase within its first interval, so an
//! update neither resets fairness nor sends a burst to anyone.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Mutex, PoisonError};

use rand::Rng;

use super::{Context, Endpoint, MAX_DRAWS, Pick};
use crate::endpoint::EndpointId;
use crate::error::Error;
use crate::rng::unit;

#[cfg(test)]
mod tests;

/// EDF weighted round robin (see the module docs).
#[derive(Debug, Default)]
pub struct EdfWrr {
    state: Mutex<Schedule>,
}

#[derive(Debug, Default)]
struct Schedule {
    /// (deadline as f64 bits, endpoint index): non-negative floats order
    /// like their bits.
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// Virtual time: the deadline of the last turn taken.
    now: f64,
    /// Per index: identity and weight, to carry deadlines over updates.
    endpoints: Vec<(EndpointId, f64)>,
}

impl EdfWrr {
    /// An EDF WRR picker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K> Pick<K> for EdfWrr {
    fn rebuild<R: Rng + ?Sized>(
        &mut self,
        endpoints: &[Endpoint<K>],
        rng: &mut R,
    ) -> Result<(), Error> {
        let old = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let now = old.now;
        let mut due: BTreeMap<EndpointId, (f64, f64)> = BTreeMap::new();
        for Reverse((bits, i)) in old.heap.drain() {
            if let Some(&(id, w)) = old.endpoints.get(i as usize) {
                due.insert(id, (f64::from_bits(bits), w));
            }
        }
        let mut heap = BinaryHeap::with_capacity(endpoints.len());
        for (i, e) in endpoints.iter().enumerate() {
            let deadline = match due.get(&e.id()) {
                Some(&(d, old_w)) => now + (d - now).max(0.0) * old_w / e.weight(),
                None => now + unit(rng).max(f64::MIN_POSITIVE) / e.weight(),
            };
            heap.push(Reverse((deadline.to_bits(), i as u32)));
        }
        *old = Schedule {
            heap,
            now,
            endpoints: endpoints.iter().map(|e| (e.id(), e.weight())).collect(),
        };
        Ok(())
    }

    fn pick<R: Rng + ?Sized>(&self, ctx: &Context<'_, K>, rng: &mut R) -> Option<usize> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.endpoints.len() != ctx.len() {
            drop(s);
            return ctx.uniform_eligible(rng);
        }
        for _ in 0..MAX_DRAWS.min(ctx.len()) {
            let Reverse((bits, i)) = s.heap.pop()?;
            let deadline = f64::from_bits(bits);
            let weight = s.endpoints[i as usize].1;
            s.now = deadline;
            s.heap
                .push(Reverse(((deadline + 1.0 / weight).to_bits(), i)));
            if ctx.eligible(i as usize, rng) {
                return Some(i as usize);
            }
        }
        drop(s);
        ctx.uniform_eligible(rng)
    }
}
