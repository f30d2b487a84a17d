use synod_raft_core_bench::{Harness, SynodCluster, Workload};
fn main() {
    let n: usize = std::env::var("P").unwrap().parse().unwrap();
    let k: usize = std::env::var("K").map(|k| k.parse().unwrap()).unwrap_or(1);
    let w = Workload { nodes: 3, proposals_per_cycle: n, commands_per_entry: k, command_bytes: 16 };
    let mut c = Harness::<SynodCluster>::start(3);
    let t = std::time::Instant::now();
    let r = c.run(w, 2_560_000 / n as u64);
    eprintln!("{:.2} M/s", r.commands as f64 / t.elapsed().as_secs_f64() / 1e6);
}
