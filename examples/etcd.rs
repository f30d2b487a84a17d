//! etcd beside Synod: three etcd members as child processes on loopback
//! (Debian's `etcd-server`), for the benchmarks that compare the two in
//! one run. Dropping the cluster kills its members, on failure too.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

/// A loopback port nobody listens on right now.
///
/// # Panics
/// If the machine has no free port.
#[must_use]
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    l.local_addr().expect("an address").port()
}

/// Base64, as etcd's JSON gateway takes keys and values.
#[must_use]
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Three etcd members on loopback.
#[derive(Debug)]
pub struct EtcdCluster {
    children: Vec<Child>,
    /// Each member's client URL (`http://127.0.0.1:PORT`).
    pub endpoints: Vec<String>,
}

impl EtcdCluster {
    /// Starts three members of `bin` (etcd 3.4's flags), their data under
    /// `dir` (fsync on, as etcd always does).
    ///
    /// # Errors
    /// The binary could not be started (install Debian's `etcd-server`).
    pub fn start(bin: &str, dir: &Path) -> std::io::Result<Self> {
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let cluster: Vec<String> = (0..3)
            .map(|i| format!("e{i}=http://127.0.0.1:{}", ports[i].1))
            .collect();
        let cluster = cluster.join(",");
        let mut me = Self {
            children: Vec::new(),
            endpoints: Vec::new(),
        };
        for (i, (client_port, peer_port)) in ports.iter().enumerate() {
            let client_url = format!("http://127.0.0.1:{client_port}");
            let peer_url = format!("http://127.0.0.1:{peer_port}");
            let child = Command::new(bin)
                .args(["--name", &format!("e{i}")])
                .args(["--data-dir", &dir.join(format!("e{i}")).to_string_lossy()])
                .args(["--listen-client-urls", &client_url])
                .args(["--advertise-client-urls", &client_url])
                .args(["--listen-peer-urls", &peer_url])
                .args(["--initial-advertise-peer-urls", &peer_url])
                .args(["--initial-cluster", &cluster])
                .args(["--initial-cluster-state", "new"])
                .args(["--initial-cluster-token", "synod-bench"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            me.children.push(child);
            me.endpoints.push(client_url);
        }
        Ok(me)
    }

    /// Waits until every member reports healthy.
    ///
    /// # Errors
    /// Not healthy within 20 seconds.
    pub async fn ready(&self, http: &reqwest::Client) -> Result<(), String> {
        for _ in 0..200 {
            let mut healthy = 0;
            for e in &self.endpoints {
                if let Ok(r) = http.get(format!("{e}/health")).send().await
                    && let Ok(v) = r.json::<Value>().await
                    && v["health"] == "true"
                {
                    healthy += 1;
                }
            }
            if healthy == self.endpoints.len() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("etcd did not become healthy within 20 s".to_string())
    }

    /// The leader's client URL, from each member's status.
    ///
    /// # Errors
    /// No member names a leader that answers.
    pub async fn leader(&self, http: &reqwest::Client) -> Result<String, String> {
        for _ in 0..100 {
            for e in &self.endpoints {
                let Ok(r) = (http.post(format!("{e}/v3/maintenance/status")))
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                else {
                    continue;
                };
                let Ok(v) = r.json::<Value>().await else {
                    continue;
                };
                if v["leader"].is_string() && v["leader"] == v["header"]["member_id"] {
                    return Ok(e.clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("no etcd member says it leads".to_string())
    }

    /// Kills every member and waits for it.
    pub fn stop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.clear();
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
