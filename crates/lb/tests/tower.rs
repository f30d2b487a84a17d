//! The `tower` feature: a `tower::Service` balancer over any picker.
#![cfg(feature = "tower")]

use std::convert::Infallible;

use synod_lb::tower::Balance;
use synod_lb::{Balancer, LeastRequest, RoundRobin};
use tower::{Service, ServiceExt, service_fn};

#[tokio::test]
async fn requests_spread_and_outcomes_are_recorded() {
    let backends = ["a", "b", "c"].map(|name| {
        let svc = service_fn(move |req: u32| async move {
            if name == "c" {
                Err::<u32, _>("c is down")
            } else {
                Ok(req)
            }
        });
        (name, 1.0, svc)
    });
    let lb = Balancer::builder(RoundRobin::new())
        .seed(1)
        .build()
        .unwrap();
    let mut balance = Balance::new(lb, backends).unwrap();
    let (mut ok, mut failed) = (0, 0);
    for i in 0..30 {
        match balance.ready().await.unwrap().call(i).await {
            Ok(v) => {
                assert_eq!(v, i);
                ok += 1;
            }
            Err(e) => {
                assert_eq!(e.to_string(), "c is down");
                failed += 1;
            }
        }
    }
    assert_eq!(ok + failed, 30);
    let stats = balance.balancer();
    assert_eq!(stats.endpoint(&"c").unwrap().failures(), failed);
    // Five failures in a row ejected c; the rest went elsewhere.
    assert!(stats.endpoint(&"c").unwrap().is_ejected());
    assert_eq!(failed, 5);
}

#[tokio::test]
async fn call_without_ready_is_an_error_not_a_panic() {
    let svc = service_fn(|req: u32| async move { Ok::<_, Infallible>(req) });
    let lb = Balancer::builder(LeastRequest::default()).build().unwrap();
    let mut balance = Balance::new(lb, [("a", 1.0, svc)]).unwrap();
    assert!(balance.call(1).await.is_err());
}

#[tokio::test]
async fn endpoints_come_and_go() {
    let make = |n: u32| service_fn(move |_: ()| async move { Ok::<_, Infallible>(n) });
    let lb = Balancer::builder(RoundRobin::new()).build().unwrap();
    let mut balance = Balance::new(lb, [(1u32, 1.0, make(1))]).unwrap();
    balance.insert(2, 1.0, make(2)).unwrap();
    balance.remove(&1).unwrap();
    for _ in 0..5 {
        assert_eq!(balance.ready().await.unwrap().call(()).await.unwrap(), 2);
    }
    balance.remove(&2).unwrap();
    assert!(balance.ready().await.is_err(), "no endpoints");
}
