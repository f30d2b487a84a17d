//! `free_loopback_addr`, the port picker every demo and test node uses:
//! its ports are distinct, bindable, and below the kernel's ephemeral
//! range, where no outgoing connection can take one between the pick and
//! the node's bind (the "address in use" CI once failed with).

use std::collections::BTreeSet;

use synod_examples::free_loopback_addr;

#[test]
fn picked_ports_are_distinct_bindable_and_below_the_ephemeral_range() {
    let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("Linux's ephemeral port range")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a number");
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let addr = free_loopback_addr().expect("a port");
        let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
        assert!(port < low, "{addr} is in the ephemeral range (from {low})");
        assert!(seen.insert(port), "{addr} picked twice");
        std::net::TcpListener::bind(&addr).expect("still free");
    }
}
