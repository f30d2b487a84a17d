//! A fault-injecting TCP proxy for the nemesis: one listener per ordered
//! pair of replicas, in front of the peer port each one dials, that the
//! test can cut (every connection through it closes, mid-frame or not, and
//! new ones are closed at once), slow down (each chunk held for a delay
//! with jitter, in order), throttle (a bandwidth limit), stall (bytes
//! held, connections left open) and heal. Needs no privileges and touches only
//! loopback.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What a link does to its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Passes everything at once.
    Open,
    /// Closes every connection and refuses new ones.
    Cut,
    /// Holds each chunk `delay` plus up to `jitter` more, in order.
    Slow {
        /// The least added delay.
        delay: Duration,
        /// The most extra delay on top.
        jitter: Duration,
    },
    /// Passes at most this many bytes a second, each way.
    Throttle {
        /// The bandwidth.
        bytes_per_sec: u64,
    },
    /// Holds every byte (the connections stay open, the senders' buffers
    /// fill) until the mode changes.
    Stall,
}

/// The links between replicas: `(from, to)` is what `from` dials to reach
/// `to`.
#[derive(Debug)]
pub struct Proxy {
    links: BTreeMap<(u64, u64), Link>,
}

#[derive(Debug)]
struct Link {
    addr: String,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listeners for every ordered pair of `targets` (id -> the peer
    /// address it listens on), each forwarding to its `to`.
    ///
    /// # Errors
    /// A listener could not be bound.
    pub async fn start(targets: &BTreeMap<u64, String>) -> std::io::Result<Self> {
        let mut links = BTreeMap::new();
        for &from in targets.keys() {
            for (&to, target) in targets {
                if from == to {
                    continue;
                }
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?.to_string();
                let (mode, watch) = watch::channel(Mode::Open);
                let seed = from.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ to;
                let task = tokio::spawn(serve(listener, target.clone(), watch, seed));
                links.insert((from, to), Link { addr, mode, task });
            }
        }
        Ok(Self { links })
    }

    /// The address `from` must dial to reach `to` through the proxy.
    #[must_use]
    pub fn addr(&self, from: u64, to: u64) -> Option<&str> {
        self.links.get(&(from, to)).map(|l| l.addr.as_str())
    }

    /// Sets both directions between `a` and `b`.
    pub fn set(&self, a: u64, b: u64, mode: Mode) {
        for key in [(a, b), (b, a)] {
            if let Some(l) = self.links.get(&key) {
                l.mode.send_replace(mode);
            }
        }
    }

    /// Sets the one direction `from` dials `to` on (what `from` sends
    /// `to` over its own connections): a one-way partition when cut.
    pub fn set_one_way(&self, from: u64, to: u64, mode: Mode) {
        if let Some(l) = self.links.get(&(from, to)) {
            l.mode.send_replace(mode);
        }
    }

    /// Sets every link of `node` to and from the others.
    pub fn set_node(&self, node: u64, mode: Mode) {
        let others: Vec<u64> = (self.links.keys())
            .filter(|(f, _)| *f == node)
            .map(|(_, t)| *t)
            .collect();
        for other in others {
            self.set(node, other, mode);
        }
    }

    /// Cuts `node` off from every other replica (or heals it).
    pub fn isolate(&self, node: u64, cut: bool) {
        self.set_node(node, if cut { Mode::Cut } else { Mode::Open });
    }

    /// Opens every link.
    pub fn heal(&self) {
        for l in self.links.values() {
            l.mode.send_replace(Mode::Open);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for l in self.links.values() {
            l.task.abort();
        }
    }
}

async fn serve(listener: TcpListener, target: String, mode: watch::Receiver<Mode>, seed: u64) {
    let target = Arc::new(target);
    let mut n = 0u64;
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        if *mode.borrow() == Mode::Cut {
            drop(inbound); // refused while cut
            continue;
        }
        n += 1;
        let (target, mode) = (target.clone(), mode.clone());
        let seed = seed ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03);
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(target.as_str()).await else {
                return;
            };
            let (ri, wi) = inbound.into_split();
            let (ro, wo) = outbound.into_split();
            // Either direction ending (a close, a cut) ends both.
            tokio::select! {
                () = pump(ri, wo, mode.clone(), seed) => {}
                () = pump(ro, wi, mode, seed ^ 1) => {}
            }
        });
    }
}

/// Copies `from` to `to` chunk by chunk, as the link's mode says.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    mut seed: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Under a bandwidth limit, read at most a tenth of a second's
        // worth at a time, so the limit holds at a fine grain.
        let limit = match *mode.borrow() {
            Mode::Throttle { bytes_per_sec } => {
                usize::try_from(bytes_per_sec / 10).map_or(buf.len(), |b| b.clamp(1, buf.len()))
            }
            _ => buf.len(),
        };
        let n = tokio::select! {
            r = from.read(&mut buf[..limit]) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = mode.wait_for(|m| *m == Mode::Cut) => return,
        };
        let now = *mode.borrow();
        match now {
            Mode::Cut => return,
            Mode::Open => {}
            Mode::Slow { delay, jitter } => {
                // xorshift: jitter without a shared generator.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let extra = u64::try_from(jitter.as_micros()).unwrap_or(0);
                let extra = Duration::from_micros(if extra == 0 { 0 } else { seed % extra });
                tokio::time::sleep(delay + extra).await;
            }
            Mode::Throttle { bytes_per_sec } => {
                let secs = n as f64 / bytes_per_sec.max(1) as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            Mode::Stall => {
                // Hold the chunk until the link is healed (or cut).
                let Ok(m) = mode.wait_for(|m| *m != Mode::Stall).await else {
                    return;
                };
                if *m == Mode::Cut {
                    return;
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
