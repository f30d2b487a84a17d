//! The `tower` feature: a `tower::Service` balancer over any picker.
#![cfg(feature = "tower")]

use std::convert::Infallible;

use synod_lb::tower::Balance;
use synod_lb::{Balancer, LeastRequest, Outcome, RoundRobin};
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

type Echo = tower::util::BoxService<(), u32, &'static str>;

/// Answers `n`, but only to a call after its own `poll_ready` said
/// ready (tower's contract; a balancer that calls a service it did not
/// poll gets an error, not `n`).
struct Strict {
    n: u32,
    polled: bool,
}

impl Service<()> for Strict {
    type Response = u32;
    type Error = &'static str;
    type Future = std::future::Ready<Result<u32, &'static str>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.polled = true;
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: ()) -> Self::Future {
        let polled = std::mem::replace(&mut self.polled, false);
        std::future::ready(if polled {
            Ok(self.n)
        } else {
            Err("called without poll_ready")
        })
    }
}

fn echo(n: u32) -> Echo {
    tower::util::BoxService::new(Strict { n, polled: false })
}

/// Polls `balance.ready()` once: whether it is ready now.
fn ready_now<S: Service<()>>(balance: &mut S) -> Option<Result<(), S::Error>> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    match balance.poll_ready(&mut cx) {
        std::task::Poll::Ready(r) => Some(r),
        std::task::Poll::Pending => None,
    }
}

#[tokio::test]
async fn endpoints_follow_a_discover_stream() {
    use futures::channel::mpsc;
    use synod_lb::tower::Change;
    let (tx, rx) = mpsc::unbounded::<Result<Change<u32, Echo>, &'static str>>();
    let lb = Balancer::builder(RoundRobin::new()).build().unwrap();
    let mut balance = Balance::from_discover(lb, rx).unwrap();
    // Empty while the stream is open: wait, do not fail.
    assert!(ready_now(&mut balance).is_none());
    tx.unbounded_send(Ok(Change::Insert(1, echo(1)))).unwrap();
    assert_eq!(balance.ready().await.unwrap().call(()).await.unwrap(), 1);
    tx.unbounded_send(Ok(Change::Insert(2, echo(2)))).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..10 {
        seen.insert(balance.ready().await.unwrap().call(()).await.unwrap());
    }
    assert_eq!(seen, [1, 2].into());
    // Removal (twice: the second is ignored), then a replacement service
    // under a known key.
    tx.unbounded_send(Ok(Change::Remove(1))).unwrap();
    tx.unbounded_send(Ok(Change::Remove(1))).unwrap();
    tx.unbounded_send(Ok(Change::Insert(2, echo(20)))).unwrap();
    for _ in 0..5 {
        assert_eq!(balance.ready().await.unwrap().call(()).await.unwrap(), 20);
    }
    assert_eq!(balance.balancer().len(), 1);
    // The stream ends: the set stays and is served.
    drop(tx);
    assert_eq!(balance.ready().await.unwrap().call(()).await.unwrap(), 20);
    assert!(balance.discover_ended());
    balance.remove(&2).unwrap();
    assert!(balance.ready().await.is_err(), "ended and empty: an error");
}

#[tokio::test]
async fn a_ready_endpoint_replaced_by_discovery_is_not_called() {
    use futures::channel::mpsc;
    use synod_lb::tower::Change;
    let (tx, rx) = mpsc::unbounded::<Result<Change<u32, Echo>, &'static str>>();
    let lb = Balancer::builder(RoundRobin::new()).build().unwrap();
    let mut balance = Balance::from_discover(lb, rx).unwrap();
    tx.unbounded_send(Ok(Change::Insert(1, echo(1)))).unwrap();
    assert!(matches!(ready_now(&mut balance), Some(Ok(()))));
    // Between poll_ready and call the endpoint is replaced; the next
    // poll_ready re-polls the new service instead of trusting the old one.
    tx.unbounded_send(Ok(Change::Insert(1, echo(10)))).unwrap();
    assert_eq!(balance.ready().await.unwrap().call(()).await.unwrap(), 10);
    assert_eq!(balance.balancer().endpoint(&1).unwrap().in_flight(), 0);
}

#[tokio::test]
async fn a_discover_error_reaches_the_caller() {
    #[derive(Debug)]
    struct Lost;
    impl std::fmt::Display for Lost {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("registry lost")
        }
    }
    impl std::error::Error for Lost {}
    use synod_lb::tower::Change;
    let changes: Vec<Result<Change<u32, Echo>, Lost>> =
        vec![Ok(Change::Insert(1, echo(1))), Err(Lost)];
    let lb = Balancer::builder(RoundRobin::new()).build().unwrap();
    let mut balance = Balance::from_discover(lb, futures::stream::iter(changes)).unwrap();
    let err = balance.ready().await.unwrap_err();
    assert_eq!(err.to_string(), "registry lost");
}

#[tokio::test]
async fn the_classifier_decides_what_a_failure_is() {
    // Status codes inside Ok: 5xx blames the endpoint, a 404 does not,
    // and an Err the classifier calls a success is not blamed either.
    let backends = [("ok", 200u16), ("missing", 404), ("broken", 503)].map(|(name, status)| {
        let svc = service_fn(move |fail: bool| async move {
            if fail {
                Err("cancelled by client")
            } else {
                Ok(status)
            }
        });
        (name, 1.0, svc)
    });
    let lb = Balancer::builder(RoundRobin::new())
        .seed(3)
        .build()
        .unwrap();
    let mut balance = Balance::new(lb, backends).unwrap().with_classifier(
        |r: &Result<u16, &'static str>| match r {
            Ok(status) if *status >= 500 => Outcome::Failure,
            Ok(_) | Err(_) => Outcome::Success,
        },
    );
    for _ in 0..12 {
        let _ = balance.ready().await.unwrap().call(false).await;
    }
    let stats = balance.balancer();
    assert_eq!(stats.endpoint(&"missing").unwrap().failures(), 0);
    assert!(stats.endpoint(&"missing").unwrap().successes() >= 4);
    assert!(stats.endpoint(&"broken").unwrap().failures() >= 4);
    assert_eq!(stats.endpoint(&"ok").unwrap().failures(), 0);
    for _ in 0..6 {
        assert!(balance.ready().await.unwrap().call(true).await.is_err());
    }
    assert_eq!(balance.balancer().endpoint(&"ok").unwrap().failures(), 0);
}
