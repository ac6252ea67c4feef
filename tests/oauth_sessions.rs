//! Browser sessions are capped per user and expire; a `/login` flood cannot evict a real
//! user's pending login (in-process login store; the shared stores are in
//! `oauth_replicas.rs`).

mod oauth_common;

use std::sync::Arc;
use std::time::Duration;

use atombot::oauth::{MemoryUserTokenStore, OAuthSettings};
use futures::StreamExt;
use oauth_common::*;

/// Sessions a user keeps by default; signing in again past this ends the oldest.
const DEFAULT_SESSIONS_PER_USER: usize = 10;
/// Pending logins one process keeps by default.
const DEFAULT_PENDING_LOGINS: usize = 10_000;

async fn home(setup: &Setup, browser: &reqwest::Client) -> String {
    browser
        .get(setup.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_are_capped_per_user_oldest_first() {
    let setup = start().await;
    let mut browsers = Vec::new();
    for _ in 0..=DEFAULT_SESSIONS_PER_USER {
        let b = browser();
        let (status, page) = sign_in(&setup, &b).await;
        assert_eq!(status, 200, "{page}");
        browsers.push(b);
    }
    assert_eq!(home(&setup, &browsers[0]).await, "not signed in");
    for b in &browsers[1..] {
        assert!(home(&setup, b).await.contains("signed in as octo-user"));
    }
}

async fn page_with_session(setup: &Setup, session: &str) -> String {
    reqwest::Client::new()
        .get(setup.url("/"))
        .header("cookie", format!("atombot_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_expire() {
    let mut settings = OAuthSettings::default();
    settings.session_ttl = Duration::from_secs(1);
    let setup = start_with(settings, Arc::new(MemoryUserTokenStore::new())).await;
    let c = manual_browser();
    let done = c.get(callback_url(&setup, &c).await).send().await.unwrap();
    let session = cookie_value(&set_cookie(&done, "atombot_session").unwrap());
    assert!(
        page_with_session(&setup, &session)
            .await
            .contains("signed in as")
    );
    // The cookie's Max-Age passes too; send it as a browser with a skewed clock would.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(page_with_session(&setup, &session).await, "not signed in");
}

#[tokio::test]
async fn a_login_flood_cannot_evict_a_real_users_pending_login() {
    let setup = start().await;
    let user = manual_browser();
    let callback = callback_url(&setup, &user).await;

    // A flood of logins from a client that never finishes them.
    let flood = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = setup.url("/login");
    let statuses: Vec<u16> = futures::stream::iter(0..DEFAULT_PENDING_LOGINS + 50)
        .map(|_| {
            let flood = flood.clone();
            let url = url.clone();
            async move { flood.get(&url).send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 503),
        "{statuses:?}"
    );

    // The real user's login still completes.
    let done = user.get(&callback).send().await.unwrap();
    let status = done.status().as_u16();
    let page = done.text().await.unwrap();
    assert_eq!(status, 303, "{page}");
    assert_eq!(setup.token_requests(), 1);
}
