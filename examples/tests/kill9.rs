//! Real processes, real disks: three kv replicas on loopback (raft, then
//! Multi-Paxos), the leader
//! killed with SIGKILL mid-run, restarted, then all three restarted; every
//! acknowledged write must be readable from every node each time. The
//! test binary is also the replica (`kill9 node ...`), so it needs no
//! other build.

use synod_examples::kvstore::{cli, demo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(done) = cli::replica_or_filtered("kill9") {
        return done;
    }
    let exe = std::env::current_exe()?;
    let runtime = tokio::runtime::Runtime::new()?;
    // The same test on each protocol: only the replicas' flag differs.
    for protocol in ["raft", "paxos"] {
        let dir = tempfile::tempdir()?;
        let prefix = ["node", "--protocol", protocol];
        let s = runtime.block_on(demo::run(&exe, &prefix, dir.path(), 200, false))?;
        println!("kill9 ({protocol}): {s:?}");
        assert!(
            s.acked_before >= 150,
            "{protocol}: too few writes before the kill: {s:?}"
        );
        assert!(
            s.acked_after >= 150,
            "{protocol}: too few writes after the kill: {s:?}"
        );
        assert_ne!(s.first_leader, s.second_leader);
        assert!(
            s.missing.is_empty(),
            "{protocol}: acknowledged writes lost: {:?}",
            s.missing
        );
        assert!(
            s.missing_after_full_restart.is_empty(),
            "{protocol}: acknowledged writes lost in the full restart: {:?}",
            s.missing_after_full_restart
        );
    }
    println!("test kill9 ... ok");
    Ok(())
}
