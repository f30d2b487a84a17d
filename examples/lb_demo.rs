//! synod-lb in one screen: five servers behind a client-side balancer,
//! one request every millisecond, and server "c" turning ten times slower
//! halfway. Time is a manual clock, so the run is exact and instant.
//!
//! ```text
//! cargo run --release --example lb_demo
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use synod_lb::pick::least_request::LeastRequest;
use synod_lb::{Balancer, Guard, ManualClock, PeakEwma, Pick, Request, RoundRobin};

const SERVERS: [&str; 5] = ["a", "b", "c", "d", "e"];
const REQUESTS: u64 = 20_000;

/// Runs the fleet with `picker`; returns each server's share of the
/// second half and the mean latency then, in ms.
fn run<P: Pick<&'static str>>(picker: P) -> ([f64; 5], f64) {
    let clock = Arc::new(ManualClock::new());
    let mut lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(1)
        .build()
        .expect("valid config");
    lb.update(SERVERS.map(|s| (s, 1.0))).expect("valid weights");
    // Completions due: (time in µs, sequence) -> the request's guard.
    let mut due: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
    let mut guards: Vec<Option<(Guard<&'static str>, u64)>> = Vec::new();
    let (mut hits, mut latency_us, mut counted) = ([0u64; 5], 0u64, 0u64);
    for i in 0..REQUESTS {
        let now_us = i * 1_000;
        // Complete everything due by now, at its own time.
        while let Some(&Reverse((at, id))) = due.peek() {
            if at > now_us {
                break;
            }
            due.pop();
            clock.set_nanos(at * 1_000);
            if let Some((guard, started)) = guards[id as usize].take() {
                if i > REQUESTS / 2 {
                    latency_us += at - started;
                    counted += 1;
                }
                guard.success();
            }
        }
        clock.set_nanos(now_us * 1_000);
        let guard = lb.pick(&Request::new()).expect("servers");
        let s = SERVERS.iter().position(|k| k == guard.key()).unwrap_or(0);
        // 2 ms each, 20 ms for "c" in the second half; every request in
        // flight at the server adds 50 % (it shares the CPU).
        let slow = s == 2 && i > REQUESTS / 2;
        let base_us = if slow { 20_000 } else { 2_000 };
        let took = base_us + base_us * lb.endpoints()[s].in_flight() / 2;
        if i > REQUESTS / 2 {
            hits[s] += 1;
        }
        guards.push(Some((guard, now_us)));
        due.push(Reverse((now_us + took, guards.len() as u64 - 1)));
    }
    let total: u64 = hits.iter().sum();
    let shares = hits.map(|h| h as f64 / total as f64);
    (shares, latency_us as f64 / counted.max(1) as f64 / 1_000.0)
}

fn main() {
    println!(
        "server \"c\" turns 10x slower halfway; shares and mean latency of the second half:\n"
    );
    println!("| picker | a | b | c (slow) | d | e | mean latency |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let rows = [
        ("round robin", run(RoundRobin::new())),
        ("least request", run(LeastRequest::default())),
        ("peak-EWMA P2C", run(PeakEwma::default())),
    ];
    for (name, (shares, mean_ms)) in rows {
        let cells: Vec<String> = shares
            .iter()
            .map(|s| format!("{:.1} %", s * 100.0))
            .collect();
        println!("| {name} | {} | {mean_ms:.1} ms |", cells.join(" | "));
    }
}
