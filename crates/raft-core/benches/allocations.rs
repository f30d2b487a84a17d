use synod_raft_core_bench::{Harness, SynodCluster, Workload};
fn main() {
    let w = Workload { nodes: 3, proposals_per_cycle: 64, commands_per_entry: 1, command_bytes: 16 };
    let mut c = Harness::<SynodCluster>::start(3);
    let t = std::time::Instant::now();
    let r = c.run(w, 40000);
    eprintln!("{:.2} M/s", r.commands as f64 / t.elapsed().as_secs_f64() / 1e6);
}
