//! Fault injection, rate limiting, API prefix and shutdown.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;

use super::{dev_jwt, get, mint, read};
use crate::testing::{Fault, Route, Simulator};

#[tokio::test]
async fn faults_apply_then_stop() {
    let sim = Simulator::start().await.unwrap();
    let token = mint(&sim, 14).await;
    sim.fail_next(
        Route::get("/orgs/atomgit-demo/repos"),
        2,
        Fault::Status(503),
    );
    for _ in 0..2 {
        let response = get(&sim, "orgs/atomgit-demo/repos", &token).await;
        assert_eq!(response.status(), 503);
        let body: Value = read(response).await;
        assert!(body["message"].is_string());
    }
    assert_eq!(
        get(&sim, "orgs/atomgit-demo/repos", &token).await.status(),
        200
    );

    let retry_after = Duration::from_millis(1500);
    sim.fail_next(
        Route::prefix(Method::GET, "/repos/"),
        1,
        Fault::TooManyRequests { retry_after },
    );
    let response = get(&sim, "repos/atomgit-demo/hello-world", &token).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");

    sim.fail_next(
        Route::get("/app/installations"),
        1,
        Fault::Delay(Duration::from_millis(200)),
    );
    let started = Instant::now();
    assert_eq!(
        get(&sim, "app/installations", &dev_jwt()).await.status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sim.requests_to("/orgs/atomgit-demo/repos").len(), 3);
}

#[tokio::test]
async fn rate_limit_refuses_with_headers() {
    let sim = Simulator::builder()
        .rate_limit_per_second(3)
        .start()
        .await
        .unwrap();
    let token = sim.issue_token(14).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = get(&sim, "repos/atomgit-demo/hello-world", &token).await;
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert!(response.headers().contains_key("x-ratelimit-reset"));
        assert!(response.headers().contains_key("x-ratelimit-used"));
        let status = response.status().as_u16();
        if status == 403 {
            assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
            let body: Value = read(response).await;
            assert_eq!(body["message"], "API rate limit exceeded");
        }
        statuses.push(status);
    }
    // Five requests over loopback take far less than a second.
    assert_eq!(statuses, [200, 200, 200, 403, 403]);
    assert_eq!(sim.rate_limited_count(), 2);
    sim.set_rate_limit_per_second(None);
    let response = get(&sim, "repos/atomgit-demo/hello-world", &token).await;
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("x-ratelimit-limit"));
}

#[tokio::test]
async fn prefix_mode_serves_only_under_prefix() {
    let sim = Simulator::builder()
        .api_prefix("/api/v5/")
        .start()
        .await
        .unwrap();
    assert!(sim.url().ends_with("/api/v5/"));
    assert!(!sim.web_url().contains("api/v5"));
    let response = get(&sim, "app/installations", &dev_jwt()).await;
    assert_eq!(response.status(), 200);
    let list: Vec<Value> = read(response).await;
    let tokens_url = list[0]["access_tokens_url"].as_str().unwrap();
    assert!(tokens_url.starts_with(&sim.url()), "{tokens_url}");
    let token = mint(&sim, 14).await;
    let unprefixed = format!("{}orgs/atomgit-demo/repos", sim.web_url());
    let response = reqwest::Client::new()
        .get(unprefixed)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        get(&sim, "orgs/atomgit-demo/repos", &token).await.status(),
        200
    );
    sim.fail_next(
        Route::get("/orgs/atomgit-demo/repos"),
        1,
        Fault::Status(500),
    );
    assert_eq!(
        get(&sim, "orgs/atomgit-demo/repos", &token).await.status(),
        500
    );
    assert_eq!(sim.requests_to("/api/v5/orgs/").len(), 2);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = Simulator::start().await.unwrap();
    let url = format!("{}app/installations", sim.url());
    sim.shutdown().await;
    assert!(reqwest::Client::new().get(url).send().await.is_err());
}
