//! Several key-value replicas as separate processes on loopback, driven
//! over HTTP: what `cluster_demo` shows and the kill -9 test checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// A replica's `/status`, as far as the cluster runner reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The node.
    pub id: u64,
    /// Its term.
    pub term: u64,
    /// The leader it knows.
    pub leader: Option<u64>,
    /// Its role.
    pub role: String,
    /// Its applied index.
    pub applied: u64,
    /// Its commit index.
    pub committed: u64,
}

/// Replicas running as child processes. Dropping it kills them all.
#[derive(Debug)]
pub struct Cluster {
    exe: PathBuf,
    prefix: Vec<String>,
    dir: PathBuf,
    peers: Vec<String>,
    /// Per replica, the peer list it gets instead of `peers` (the others'
    /// peer addresses through a proxy).
    peers_of: BTreeMap<u64, Vec<String>>,
    /// Per replica, arguments added after the prefix from its next start.
    args_of: BTreeMap<u64, Vec<String>>,
    http: BTreeMap<u64, String>,
    children: BTreeMap<u64, Child>,
    client: reqwest::Client,
    /// Replicas get `--disk-fault-file` (see [`Cluster::set_disk_fault`]).
    disk_faults: bool,
}

impl Cluster {
    /// Starts `n` replicas: each runs `exe` with `prefix` and the replica's
    /// own arguments; logs go under `dir`.
    ///
    /// # Errors
    /// A port or a process could not be had.
    pub fn start(exe: &Path, prefix: &[&str], dir: &Path, n: u64) -> std::io::Result<Self> {
        let mut peers = Vec::new();
        let mut http = BTreeMap::new();
        for id in 1..=n {
            let (raft, web) = (crate::free_loopback_addr()?, crate::free_loopback_addr()?);
            peers.push(format!("{id}={raft},{web}"));
            http.insert(id, web);
        }
        Self::launch(exe, prefix, dir, peers, BTreeMap::new(), http)
    }

    /// Spawns every replica of `http`'s ids, each with its peer list
    /// (`peers_of`, else `peers`).
    fn launch(
        exe: &Path,
        prefix: &[&str],
        dir: &Path,
        peers: Vec<String>,
        peers_of: BTreeMap<u64, Vec<String>>,
        http: BTreeMap<u64, String>,
    ) -> std::io::Result<Self> {
        let ids: Vec<u64> = http.keys().copied().collect();
        // The proxied clusters are the nemesis's: they get a disk switch.
        let disk_faults = !peers_of.is_empty();
        let mut cluster = Self {
            exe: exe.to_path_buf(),
            prefix: prefix.iter().map(|s| (*s).to_string()).collect(),
            dir: dir.to_path_buf(),
            peers,
            peers_of,
            args_of: BTreeMap::new(),
            http,
            children: BTreeMap::new(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .map_err(std::io::Error::other)?,
            disk_faults,
        };
        for id in ids {
            cluster.spawn(id)?;
        }
        Ok(cluster)
    }

    fn spawn(&mut self, id: u64) -> std::io::Result<()> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.prefix)
            .args(self.args_of.get(&id).into_iter().flatten())
            .arg("--id")
            .arg(id.to_string())
            .arg("--data-dir")
            .arg(self.dir.join(format!("node-{id}")));
        for p in self.peers_of.get(&id).unwrap_or(&self.peers) {
            cmd.arg("--peer").arg(p);
        }
        if self.disk_faults {
            cmd.arg("--disk-fault-file").arg(self.fault_file(id));
        }
        let log = std::fs::File::create(self.dir.join(format!("node-{id}.log")))?;
        cmd.stdout(Stdio::null()).stderr(log);
        self.children.insert(id, cmd.spawn()?);
        Ok(())
    }

    /// Starts `n` replicas whose peer traffic goes through a [`Proxy`]
    /// the caller can cut: replica `i` dials `j` at the proxy's `(i, j)`
    /// listener. Client HTTP traffic is direct.
    ///
    /// # Errors
    /// A port, a listener or a process could not be had.
    ///
    /// [`Proxy`]: super::proxy::Proxy
    pub async fn start_proxied(
        exe: &Path,
        prefix: &[&str],
        dir: &Path,
        n: u64,
    ) -> std::io::Result<(Self, super::proxy::Proxy)> {
        let mut raft = BTreeMap::new();
        let mut http = BTreeMap::new();
        for id in 1..=n {
            raft.insert(id, crate::free_loopback_addr()?);
            http.insert(id, crate::free_loopback_addr()?);
        }
        let proxy = super::proxy::Proxy::start(&raft).await?;
        let mut peers_of = BTreeMap::new();
        for me in 1..=n {
            let list = (1..=n)
                .map(|j| {
                    let addr = if j == me {
                        raft[&j].as_str()
                    } else {
                        proxy.addr(me, j).unwrap_or(raft[&j].as_str())
                    };
                    format!("{j}={addr},{}", http[&j])
                })
                .collect();
            peers_of.insert(me, list);
        }
        let cluster = Self::launch(exe, prefix, dir, Vec::new(), peers_of, http)?;
        Ok((cluster, proxy))
    }

    fn fault_file(&self, id: u64) -> PathBuf {
        self.dir.join(format!("node-{id}.disk-fault"))
    }

    /// Makes replica `id`'s log disk fail (`Some("eio")`, `Some("enospc")`)
    /// or heals it (`None`); the replica sees it within a few
    /// milliseconds. Only for clusters started with
    /// [`Cluster::start_proxied`].
    ///
    /// # Errors
    /// The switch file could not be written.
    pub fn set_disk_fault(&self, id: u64, fault: Option<&str>) -> std::io::Result<()> {
        std::fs::write(self.fault_file(id), fault.unwrap_or(""))
    }

    /// Whether replica `id`'s process has exited (it was started and is
    /// no longer running).
    pub fn exited(&mut self, id: u64) -> bool {
        self.children
            .get_mut(&id)
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Replica `id`'s HTTP address (`127.0.0.1:PORT`).
    #[must_use]
    pub fn http_addr(&self, id: u64) -> Option<&str> {
        self.http.get(&id).map(String::as_str)
    }

    /// The ids of the replicas.
    pub fn ids(&self) -> Vec<u64> {
        self.http.keys().copied().collect()
    }

    /// Kills replica `id` with SIGKILL: no shutdown, no flush.
    ///
    /// # Errors
    /// The process could not be signalled.
    pub fn kill(&mut self, id: u64) -> std::io::Result<()> {
        if let Some(mut child) = self.children.remove(&id) {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Sends replica `id` a signal by name (`STOP`, `CONT`): false if it
    /// is not running.
    ///
    /// # Errors
    /// `kill(1)` could not be run.
    pub fn signal(&self, id: u64, signal: &str) -> std::io::Result<bool> {
        let Some(child) = self.children.get(&id) else {
            return Ok(false);
        };
        let status = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()?;
        Ok(status.success())
    }

    /// The process ids of the running replicas.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.children.values().map(Child::id).collect()
    }

    /// Arguments replica `id` gets (after the prefix) from its next start,
    /// such as `--tick-ms 25` for a slow clock.
    pub fn set_args(&mut self, id: u64, args: Vec<String>) {
        self.args_of.insert(id, args);
    }

    /// Starts replica `id` again over its data directory.
    ///
    /// # Errors
    /// The process could not be started.
    pub fn restart(&mut self, id: u64) -> std::io::Result<()> {
        self.kill(id)?;
        self.spawn(id)
    }

    /// Replica `id`'s status, if it answers.
    pub async fn status(&self, id: u64) -> Option<Status> {
        let url = format!("http://{}/status", self.http.get(&id)?);
        self.client.get(url).send().await.ok()?.json().await.ok()
    }

    /// Waits for a leader that the running replicas agree on, excluding
    /// `except`; returns it.
    pub async fn leader(&self, except: Option<u64>, within: Duration) -> Option<u64> {
        let start = Instant::now();
        while start.elapsed() < within {
            for id in self.children.keys() {
                if Some(*id) == except {
                    continue;
                }
                if let Some(s) = self.status(*id).await
                    && s.role == "leader"
                {
                    return Some(s.id);
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Writes `key` = `value` through replica `via` (following redirects
    /// to the leader); true once the write is acknowledged (applied).
    pub async fn put(&self, via: u64, key: &str, value: &str) -> bool {
        let Some(addr) = self.http.get(&via) else {
            return false;
        };
        let url = format!("http://{addr}/kv/{key}");
        let sent = self
            .client
            .put(url)
            .json(&serde_json::json!({ "value": value }))
            .send()
            .await;
        matches!(sent, Ok(r) if r.status().is_success())
    }

    /// Adds (`add`) or removes replica `id` as a voter through whichever
    /// replica leads, retrying for up to `within`; true once the leader
    /// has applied the change.
    pub async fn change_member(&self, id: u64, add: bool, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            let left = within.saturating_sub(start.elapsed());
            let Some(leader) = self
                .leader(None, left.min(Duration::from_millis(500)))
                .await
            else {
                continue;
            };
            let Some(addr) = self.http.get(&leader) else {
                return false;
            };
            let url = format!("http://{addr}/members/{id}");
            let request = if add {
                self.client.put(url)
            } else {
                self.client.delete(url)
            };
            if matches!(request.send().await, Ok(r) if r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Writes through whichever replica leads, retrying for up to
    /// `within`; true once acknowledged.
    pub async fn put_retrying(&self, key: &str, value: &str, within: Duration) -> bool {
        let start = Instant::now();
        let ids: Vec<u64> = self.children.keys().copied().collect();
        let mut at = 0;
        while start.elapsed() < within {
            if let Some(&id) = ids.get(at % ids.len().max(1))
                && self.put(id, key, value).await
            {
                return true;
            }
            at += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// What replica `id` holds for `key` right now (a stale read: its own
    /// applied state).
    pub async fn local_value(&self, id: u64, key: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Read {
            value: String,
        }
        let url = format!("http://{}/kv/{key}?consistency=stale", self.http.get(&id)?);
        let r = self.client.get(url).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<Read>().await.ok().map(|r| r.value)
    }

    /// Waits until replica `id` has applied at least `index`.
    pub async fn caught_up(&self, id: u64, index: u64, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.status(id).await.is_some_and(|s| s.applied >= index) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Kills every replica.
    pub fn stop_all(&mut self) {
        for (_, mut child) in std::mem::take(&mut self.children) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}
