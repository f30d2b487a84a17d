//! A pick and its completion allocate nothing, for every picker: checked
//! with a counting global allocator in a single-threaded binary (harness
//! = false), so no other thread's allocations are counted.

use std::sync::Arc;
use std::time::Duration;

use peak_alloc::PeakAlloc;
use synod_lb::pick::least_request::LeastRequest;
use synod_lb::*;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

fn check<P: Pick<String>>(name: &str, picker: P) {
    let clock = Arc::new(ManualClock::new());
    let mut lb = Balancer::builder(picker)
        .clock(clock.clone())
        .seed(1)
        .build()
        .unwrap();
    lb.update((0..1_000).map(|i| {
        (
            format!("10.0.{}.{}:80", i / 256, i % 256),
            1.0 + (i % 3) as f64,
        )
    }))
    .unwrap();
    let tried = [lb.endpoints()[0].id()];
    // Warm up: first picks may touch lazily built state.
    for _ in 0..100 {
        lb.pick(&Request::new()).unwrap().success();
    }
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    for i in 0..10_000u64 {
        let request = Request::new()
            .with_hash(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .excluding(&tried);
        let guard = lb.pick(&request).unwrap();
        clock.advance(Duration::from_micros(10));
        if i % 10 == 0 {
            guard.failure();
        } else {
            guard.success();
        }
    }
    let peak = ALLOC.peak_usage();
    assert_eq!(peak, base, "{name}: picks allocated {} bytes", peak - base);
    println!("{name}: 10,000 picks and completions, 0 bytes allocated");
}

fn main() {
    check("round robin", RoundRobin::new());
    check("random", Random);
    check("weighted random", WeightedRandom::new());
    check("smooth WRR", SmoothWrr::new());
    check("EDF WRR", EdfWrr::new());
    check("least request", LeastRequest::default());
    check("peak-EWMA", PeakEwma::default());
    check("weighted P2C", WeightedP2c::new());
    check("ring hash", HashPick::ring());
    check(
        "Maglev + bounded loads",
        HashPick::maglev().bounded(1.25).unwrap(),
    );
}
