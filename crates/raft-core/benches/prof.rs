#[path = "peers.rs"]
mod peers;
use synod_raft_core_bench::{Cluster, Harness, SynodCluster, Workload};
fn go<C: Cluster>(w: Workload, cycles: u64) {
    let mut c = Harness::<C>::start(3);
    c.run(w, 2048);
    let t = std::time::Instant::now();
    let r = c.run(w, cycles);
    eprintln!("{} {:.2} M/s", C::NAME, r.commands as f64 / t.elapsed().as_secs_f64() / 1e6);
}
fn main() {
    let n: usize = std::env::var("P").unwrap().parse().unwrap();
    let k: usize = std::env::var("K").map(|k| k.parse().unwrap()).unwrap_or(1);
    let cycles: u64 = std::env::var("C").map(|k| k.parse().unwrap()).unwrap_or(2_560_000 / n as u64);
    let w = Workload { nodes: 3, proposals_per_cycle: n, commands_per_entry: k, command_bytes: 16 };
    match std::env::var("L").as_deref() {
        Ok("op") => go::<peers::OmniPaxosCluster>(w, cycles),
        Ok("rs") => go::<peers::RaftRsCluster>(w, cycles),
        _ => go::<SynodCluster>(w, cycles),
    }
}
