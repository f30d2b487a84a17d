//! Runnable demos of the Synod crates; see the `examples` in this package.
//! Run one with `cargo run --release --example <name>` from the workspace
//! root.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bank;
pub mod etcd;
pub mod kvstore;
pub mod load;
pub mod lockservice;
pub mod seeds;

/// A loopback address with a port nobody listens on right now, below the
/// kernel's ephemeral range: a replica killed and restarted must find its
/// ports free again, and a port from the ephemeral range can meanwhile
/// become the source port of some outgoing connection (seen: a restart
/// failing with "address in use", and a test's node failing to bind a port
/// it had just found free while other tests' clusters were connecting).
/// Every demo and test that picks ports for a node takes them here.
///
/// # Errors
/// No port could be bound at all.
pub fn free_loopback_addr() -> std::io::Result<String> {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    // Start somewhere different in each process, then walk up.
    let span = low.saturating_sub(10_000).max(1);
    if NEXT.load(Ordering::Relaxed) == 0 {
        let start = 10_000 + (std::process::id() % u32::from(span)) as u16;
        let _ = NEXT.compare_exchange(0, start, Ordering::Relaxed, Ordering::Relaxed);
    }
    for _ in 0..span {
        let port = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = if port >= low {
            10_000 + port % span
        } else {
            port
        };
        if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            return Ok(l.local_addr()?.to_string());
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.to_string())
}
