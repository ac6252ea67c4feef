//! Acceptance 4b: with the simulator enforcing 10 requests/s per token, a burst of 50 calls
//! on one token is paced so that none is refused, and every request carries X-Api-Version.

use std::time::{Duration, Instant};

use atombot::App;
use atombot::testing::Simulator;

#[tokio::test]
async fn a_burst_is_paced_to_the_platform_limit() {
    let sim = Simulator::builder()
        .rate_limit_per_second(10)
        .start()
        .await
        .unwrap();
    let app = App::new(sim.app_config()).unwrap();
    let client = app.installation_client(14);
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap(); // mint outside the burst
    sim.clear_requests();

    let start = Instant::now();
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.repos().get("atomgit-demo", "hello-world").await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().expect("no call is refused");
    }
    let took = start.elapsed();
    assert_eq!(
        sim.rate_limited_count(),
        0,
        "the simulator refused a request"
    );
    // 51 requests at 10/s on one token cannot finish in under 4 s without refusals.
    assert!(took >= Duration::from_secs(4), "took only {took:?}");

    let requests = sim.requests();
    assert_eq!(requests.len(), 50);
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-api-version") == Some("2023-02-21"))
    );
    assert!(requests.iter().all(|r| {
        r.header("user-agent")
            .is_some_and(|ua| ua.starts_with("atombot/"))
    }));

    let status = client.rate_limit().expect("the budget is exported");
    assert!(
        status.limit.is_some() && status.remaining.is_some(),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_refusal_is_waited_out_and_retried() {
    let sim = Simulator::builder()
        .rate_limit_per_second(3)
        .start()
        .await
        .unwrap();
    // The client believes the budget is larger than the server's: the server refuses, the
    // client waits for `x-ratelimit-reset` and tries again.
    let app = App::with_client(
        sim.app_config(),
        atombot::Client::builder()
            .rate_limit(atombot::client::layers::RateLimitConfig::default().per_second(20)),
    )
    .unwrap();
    let client = app.installation_client(14);
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.repos().get("atomgit-demo", "hello-world").await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap()
            .expect("refused calls are retried after the reset");
    }
    assert!(
        sim.rate_limited_count() > 0,
        "the scenario must provoke refusals"
    );
}
