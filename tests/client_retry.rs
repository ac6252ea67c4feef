//! Acceptance 4: retries of idempotent requests, `Retry-After`, no retry of a POST on 500,
//! one re-mint on 401 and an error on the second 401.

use std::time::{Duration, Instant};

use atombot::App;
use atombot::testing::{Fault, Route, Simulator};
use http::StatusCode;

const REPO: &str = "/repos/atomgit-demo/hello-world";

#[tokio::test]
async fn a_500_then_200_succeeds_after_a_retry() {
    let sim = Simulator::start().await.unwrap();
    let client = App::new(sim.app_config()).unwrap().installation_client(14);
    sim.fail_next(Route::get(REPO), 1, Fault::Status(500));
    let repo = client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert_eq!(repo.full_name, "atomgit-demo/hello-world");
    let statuses: Vec<_> = sim.requests_to(REPO).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(200)]);
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let sim = Simulator::start().await.unwrap();
    let client = App::new(sim.app_config()).unwrap().installation_client(14);
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap(); // warm the token
    sim.fail_next(
        Route::get(REPO),
        1,
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
    );
    let start = Instant::now();
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        start.elapsed()
    );
    let hits = sim.requests_to(REPO);
    let gap = hits[2].received_at - hits[1].received_at;
    assert!(gap >= chrono::Duration::milliseconds(1000), "gap {gap}");
}

#[tokio::test]
async fn a_post_is_not_retried_on_500() {
    let sim = Simulator::start().await.unwrap();
    let client = App::new(sim.app_config()).unwrap().installation_client(14);
    let path = "/repos/atomgit-demo/hello-world/issues/1/comments";
    sim.fail_next(Route::post(path), 1, Fault::Status(500));
    let err = client
        .issues("atomgit-demo", "hello-world")
        .create_comment(1, "hi")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    match &err {
        atombot::Error::Api {
            path: p, method, ..
        } => {
            assert_eq!(p, path);
            assert_eq!(method, http::Method::POST);
        }
        other => panic!("expected an API error, got {other}"),
    }
    assert_eq!(sim.requests_to(path).len(), 1);
    assert!(sim.comments("atomgit-demo", "hello-world", 1).is_empty());
}

#[tokio::test]
async fn a_revoked_token_is_reminted_once() {
    let sim = Simulator::start().await.unwrap();
    let client = App::new(sim.app_config()).unwrap().installation_client(14);
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert_eq!(sim.revoke_installation_tokens(14), 1);
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    assert_eq!(sim.mint_count(14), 2);
    let statuses: Vec<_> = sim.requests_to(REPO).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(200), Some(401), Some(200)]);
}

#[tokio::test]
async fn a_second_401_is_returned_as_an_error() {
    let sim = Simulator::start().await.unwrap();
    let client = App::new(sim.app_config()).unwrap().installation_client(14);
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    sim.fail_next(Route::get(REPO), 2, Fault::Status(401));
    let err = client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err}");
    assert_eq!(sim.mint_count(14), 2, "one re-mint, not more");
    assert_eq!(sim.requests_to(REPO).len(), 3);
}
