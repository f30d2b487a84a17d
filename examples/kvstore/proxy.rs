//! A fault-injecting TCP proxy for the nemesis: one listener per ordered
//! pair of replicas, in front of the peer port each one dials, that the
//! test can cut (every connection through it closes, new ones are closed
//! at once) and heal. Needs no privileges and touches only loopback.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The links between replicas: `(from, to)` is what `from` dials to reach
/// `to`.
#[derive(Debug)]
pub struct Proxy {
    links: BTreeMap<(u64, u64), Link>,
}

#[derive(Debug)]
struct Link {
    addr: String,
    cut: watch::Sender<bool>,
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
                let (cut, watch) = watch::channel(false);
                let task = tokio::spawn(serve(listener, target.clone(), watch));
                links.insert((from, to), Link { addr, cut, task });
            }
        }
        Ok(Self { links })
    }

    /// The address `from` must dial to reach `to` through the proxy.
    #[must_use]
    pub fn addr(&self, from: u64, to: u64) -> Option<&str> {
        self.links.get(&(from, to)).map(|l| l.addr.as_str())
    }

    /// Cuts (or heals) both directions between `a` and `b`.
    pub fn set_cut(&self, a: u64, b: u64, cut: bool) {
        for key in [(a, b), (b, a)] {
            if let Some(l) = self.links.get(&key) {
                l.cut.send_replace(cut);
            }
        }
    }

    /// Cuts `node` off from every other replica (or heals it).
    pub fn isolate(&self, node: u64, cut: bool) {
        let others: Vec<u64> = (self.links.keys())
            .filter(|(f, _)| *f == node)
            .map(|(_, t)| *t)
            .collect();
        for other in others {
            self.set_cut(node, other, cut);
        }
    }

    /// Heals every link.
    pub fn heal(&self) {
        for l in self.links.values() {
            l.cut.send_replace(false);
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

async fn serve(listener: TcpListener, target: String, cut: watch::Receiver<bool>) {
    let target = Arc::new(target);
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        if *cut.borrow() {
            drop(inbound); // refused while cut
            continue;
        }
        let (target, mut cut) = (target.clone(), cut.clone());
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(target.as_str()).await else {
                return;
            };
            let (mut a, mut b) = (inbound, outbound);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                _ = cut.wait_for(|c| *c) => {} // cut: both sockets close
            }
        });
    }
}
