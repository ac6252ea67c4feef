//! Acceptance 3: one mint for any number of concurrent callers, reuse while fresh, re-mint
//! ahead of expiry, never send an expired token.

use std::time::Duration;

use atombot::auth::TokenCacheConfig;
use atombot::testing::{Route, Simulator, TokenKind};
use atombot::{App, Client};

#[tokio::test]
async fn concurrent_callers_on_a_cold_installation_cause_one_mint() {
    let sim = Simulator::start().await.unwrap();
    let app = App::with_client(
        sim.app_config(),
        // Pacing is tested elsewhere; here 100 requests go out at once.
        Client::builder()
            .rate_limit(atombot::client::layers::RateLimitConfig::default().per_second(0)),
    )
    .unwrap();
    let client = app.installation_client(14);
    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.repos().get("atomgit-demo", "hello-world").await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(sim.mint_count(14), 1);
}

#[tokio::test]
async fn sequential_calls_reuse_the_token() {
    let sim = Simulator::start().await.unwrap();
    let app = App::new(sim.app_config()).unwrap();
    let client = app.installation_client(14);
    for _ in 0..50 {
        client
            .repos()
            .get("atomgit-demo", "hello-world")
            .await
            .unwrap();
    }
    assert_eq!(sim.mint_count(14), 1);
    // Another scoped client of the same app shares the cache.
    app.installation_client(14)
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert_eq!(sim.mint_count(14), 1);
}

#[tokio::test]
async fn tokens_are_reminted_before_they_expire() {
    let sim = Simulator::builder()
        .token_lifetime(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let app = App::with_client(
        sim.app_config(),
        Client::builder()
            .token_cache(TokenCacheConfig::default().refresh_margin(Duration::from_secs(1))),
    )
    .unwrap();
    let client = app.installation_client(14);
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        client
            .repos()
            .get("atomgit-demo", "hello-world")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mints = sim.mint_count(14);
    assert!(
        (4..=7).contains(&mints),
        "expected a mint about every second, got {mints}"
    );
    let api_calls: Vec<_> = sim
        .requests_to("/repos/atomgit-demo/hello-world")
        .into_iter()
        .filter(|r| r.token_kind == Some(TokenKind::Installation))
        .collect();
    assert!(api_calls.len() >= 30);
    assert!(
        api_calls.iter().all(|r| r.status == Some(200)),
        "an expired token was sent: {:?}",
        api_calls
            .iter()
            .filter(|r| r.status != Some(200))
            .map(|r| r.status)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_failed_mint_reaches_every_waiter_and_is_not_cached() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(
        Route::post("/app/installations/14/access_tokens"),
        1,
        atombot::testing::Fault::Status(403),
    );
    let app = App::new(sim.app_config()).unwrap();
    let client = app.installation_client(14);
    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.repos().get("atomgit-demo", "hello-world").await })
    });
    for call in futures::future::join_all(calls).await {
        let err = call.unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                atombot::Error::InstallationToken {
                    installation: 14,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));
    }
    assert_eq!(
        sim.requests_to("/access_tokens").len(),
        1,
        "one mint attempt for all 20 callers"
    );
    // Not cached: the next call mints again and succeeds.
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert_eq!(sim.mint_count(14), 1);
}
