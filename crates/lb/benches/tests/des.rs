//! The discrete-event simulation's claims, checked on a shorter run of
//! the standard scenario: load-aware pickers cut p99 far below round
//! robin's once a server slows down, outlier ejection cuts the errors of
//! the failing server, and a seed replays exactly.

use std::time::Duration;

use synod_lb::pick::least_request::LeastRequest;
use synod_lb::*;
use synod_lb_bench::{Scenario, simulate};

fn short(seed: u64) -> Scenario {
    Scenario {
        duration: Duration::from_secs(20),
        slow_from: Duration::from_secs(5),
        ..Scenario::standard(seed)
    }
}

fn no_ejection() -> HealthConfig {
    HealthConfig {
        outlier: OutlierConfig::disabled(),
        ..HealthConfig::default()
    }
}

#[test]
fn load_aware_pickers_cut_the_tail() {
    let s = short(3);
    let rr = simulate("rr", RoundRobin::new(), HealthConfig::default(), &s);
    let lr = simulate("lr", LeastRequest::default(), HealthConfig::default(), &s);
    let ewma = simulate("ewma", PeakEwma::default(), HealthConfig::default(), &s);
    let (p_rr, p_lr, p_ewma) = (
        rr.quantile_ms(0.99),
        lr.quantile_ms(0.99),
        ewma.quantile_ms(0.99),
    );
    eprintln!(
        "p99: round robin {p_rr:.1} ms, least request {p_lr:.1} ms, peak-EWMA {p_ewma:.1} ms"
    );
    assert!(
        p_lr * 10.0 < p_rr,
        "least request {p_lr} vs round robin {p_rr}"
    );
    assert!(
        p_ewma * 10.0 < p_rr,
        "peak-EWMA {p_ewma} vs round robin {p_rr}"
    );
    // Round robin keeps the slowed server at its twentieth.
    assert!((rr.share_after_slowdown(0) - 0.05).abs() < 0.01);
    assert!(ewma.share_after_slowdown(0) < 0.025);
}

#[test]
fn ejection_cuts_the_failing_servers_errors() {
    let s = short(4);
    let with = simulate("rr", RoundRobin::new(), HealthConfig::default(), &s);
    let without = simulate("rr", RoundRobin::new(), no_ejection(), &s);
    eprintln!(
        "errors: {:.3} % with ejection, {:.3} % without",
        with.error_rate() * 100.0,
        without.error_rate() * 100.0
    );
    // Without ejection: 30 % of a twentieth.
    assert!((without.error_rate() - 0.015).abs() < 0.003);
    assert!(with.error_rate() * 3.0 < without.error_rate());
    assert!(
        with.share(1) < 0.02,
        "the failing server was ejected most of the time"
    );
}

#[test]
fn a_seed_replays_exactly() {
    let a = simulate("a", PeakEwma::default(), HealthConfig::default(), &short(5));
    let b = simulate("b", PeakEwma::default(), HealthConfig::default(), &short(5));
    assert_eq!(a.latencies_ns, b.latencies_ns);
    assert_eq!(a.load, b.load);
    let c = simulate("c", PeakEwma::default(), HealthConfig::default(), &short(6));
    assert_ne!(a.latencies_ns, c.latencies_ns);
}
