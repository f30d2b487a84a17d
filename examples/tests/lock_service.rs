//! The lock service example end to end: three nodes over loopback TCP
//! with their logs on disk, clients over the JSON API. The demo asserts
//! its own story (a stalled holder loses the lock to the waiter, whose
//! token is larger, and the fenced resource refuses the stale one).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_fencing_refuses_the_stalled_holder() {
    let run = synod_examples::lockservice::demo::run();
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the demo finished")
        .expect("the demo succeeded");
}
