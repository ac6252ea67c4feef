//! The signed-in user is the platform's `login` (GitLab-shaped siblings: `username`), never
//! the display name: an answer that names no login refuses the sign-in.

mod oauth_common;

use atombot::Client;
use atombot::oauth::{MemoryUserTokenStore, OAuth};
use atombot::testing::Simulator;
use axum::Json;
use axum::routing::get;
use oauth_common::*;
use serde_json::{Value, json};

/// An API on loopback whose `GET /user/info` answers `body` (as a platform would for the
/// token's owner).
async fn user_info_api(body: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/user/info",
        get(move || {
            let body = body.clone();
            async move { Json(body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

/// Signs in through the simulator's authorize page and token endpoint, asking `api` whose
/// token it is; returns the handle and the result.
async fn sign_in_with(info: Value) -> (OAuth, atombot::Result<String>) {
    let sim = Simulator::start().await.unwrap();
    sim.set_oauth_user("mallory");
    let config = sim.app_config();
    let api = Client::builder()
        .base_url(user_info_api(info).await)
        .build()
        .unwrap();
    let oauth = OAuth::builder(&config)
        .store(MemoryUserTokenStore::new())
        .client(api)
        .build()
        .unwrap();
    let authorize = oauth.authorize_url("st", "http://127.0.0.1:9/oauth/callback");
    let approved = manual_browser().get(&authorize).send().await.unwrap();
    let code = query_param(&location(&approved), "code").unwrap();
    let result = oauth.sign_in(&code).await.map(|t| t.user);
    assert_eq!(sim.oauth_exchange_count(), 1);
    (oauth, result)
}

#[tokio::test]
async fn a_display_name_is_never_taken_for_the_login() {
    for info in [
        json!({"id": "63db126c0566d2f7d2c9498c", "name": USER}),
        json!({"id": "63db126c0566d2f7d2c9498c", "login": "", "name": USER}),
        json!({"id": "63db126c0566d2f7d2c9498c", "login": null, "name": USER}),
        json!({"login": 17, "name": USER}),
    ] {
        let (oauth, result) = sign_in_with(info.clone()).await;
        let err = result.expect_err(&format!("signed in from {info} as a display name"));
        assert!(err.to_string().contains("login"), "{err}");
        assert!(oauth.store().get(USER).await.unwrap().is_none(), "{info}");
    }
}

#[tokio::test]
async fn the_login_wins_over_a_display_name_naming_someone_else() {
    for info in [
        json!({"id": "63db126c0566d2f7d2c9498c", "login": "mallory", "name": USER}),
        json!({"id": 7, "username": "mallory", "name": USER}),
    ] {
        let (oauth, result) = sign_in_with(info.clone()).await;
        assert_eq!(result.unwrap(), "mallory", "{info}");
        assert!(oauth.store().get("mallory").await.unwrap().is_some());
        assert!(oauth.store().get(USER).await.unwrap().is_none());
    }
}
