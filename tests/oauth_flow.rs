//! Acceptance 1 and 2: the full login over HTTP, and refused states that never reach the
//! token endpoint.

mod oauth_common;

use std::sync::Arc;
use std::time::Duration;

use atombot::oauth::{MemoryUserTokenStore, OAuthSettings};
use atombot::testing::TokenKind;
use oauth_common::*;

#[tokio::test]
async fn login_authorize_callback_then_the_users_repositories() {
    let setup = start().await;
    let browser = browser();
    let (status, page) = sign_in(&setup, &browser).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("signed in as octo-user"), "{page}");
    assert!(page.contains("octo-user/dotfiles"), "{page}");
    assert!(page.contains("octo-user/rust-playground"), "{page}");
    assert!(!page.contains("private-notes"), "{page}");
    assert_eq!(setup.sim.oauth_exchange_count(), 1);

    // The exchange is a JSON POST with exactly the documented fields.
    let exchange = &setup.sim.requests_to("/login/oauth/access_token")[0];
    assert_eq!(exchange.method, http::Method::POST);
    assert!(
        exchange
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = exchange.json().unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["client_id", "client_secret", "code"]);

    // The repositories were listed with the user's atu_ token.
    let listed = setup.sim.requests_to("/user/octo-user/repos");
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|r| r.token_kind == Some(TokenKind::User)));

    // Logging out ends the session and forgets the tokens.
    let resp = browser.post(setup.url("/logout")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "not signed in");
    assert!(setup.oauth.store().get(USER).await.unwrap().is_none());
}

#[tokio::test]
async fn denied_authorization_is_a_page_not_an_exchange() {
    let setup = start().await;
    let browser = manual_browser();
    let login = browser.get(setup.url("/login")).send().await.unwrap();
    let authorize = format!("{}&deny=1", location(&login));
    let denied = browser.get(&authorize).send().await.unwrap();
    let callback = browser.get(location(&denied)).send().await.unwrap();
    assert_eq!(callback.status().as_u16(), 403);
    assert!(callback.text().await.unwrap().contains("access_denied"));
    assert_eq!(setup.token_requests(), 0);
}

async fn assert_refused(setup: &Setup, browser: &reqwest::Client, url: &str, why: &str) {
    let resp = browser.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400, "{why}");
    assert!(
        resp.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains(why), "expected {why:?} in {page}");
    assert_eq!(setup.token_requests(), 0, "no exchange after: {why}");
}

#[tokio::test]
async fn tampered_foreign_and_missing_states_are_refused_before_any_exchange() {
    let setup = start().await;
    let browser = manual_browser();
    let callback = callback_url(&setup, &browser).await;
    let url = url::Url::parse(&callback).unwrap();
    let state: String = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code: String = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let base = setup.url("/oauth/callback");

    // Tampered: one character changed.
    let mut tampered = state.clone();
    let last = if tampered.ends_with('A') { 'B' } else { 'A' };
    tampered.pop();
    tampered.push(last);
    let tampered_url = format!("{base}?code={code}&state={tampered}");
    assert_refused(
        &setup,
        &browser,
        &tampered_url,
        "does not belong to this browser",
    )
    .await;

    // Missing state in the query.
    assert_refused(
        &setup,
        &browser,
        &format!("{base}?code={code}"),
        "carries no state",
    )
    .await;

    // Foreign: another browser (no state cookie, or its own) presents this one's callback.
    let other = manual_browser();
    assert_refused(&setup, &other, &callback, "carries no state").await;
    let _ = callback_url(&setup, &other).await;
    assert_refused(&setup, &other, &callback, "does not belong to this browser").await;

    // The rightful browser still completes its own login.
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(setup.token_requests(), 1);
}

#[tokio::test]
async fn a_reused_state_is_refused_and_the_code_not_sent_again() {
    let setup = start().await;
    let browser = manual_browser();
    let callback = callback_url(&setup, &browser).await;
    let first = browser.get(&callback).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 303);
    assert_eq!(setup.token_requests(), 1);
    // The state cookie was cleared, so present it again explicitly as a replaying attacker
    // who copied the cookie would.
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = replay
        .get(&callback)
        .header("cookie", format!("atombot_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.unwrap().contains("already used"));
    assert_eq!(setup.token_requests(), 1, "the code was not sent again");
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let mut settings = OAuthSettings::default();
    settings.state_ttl = Duration::from_secs(1);
    let setup = start_with(settings, Arc::new(MemoryUserTokenStore::new())).await;
    let browser = manual_browser();
    let login = browser.get(setup.url("/login")).send().await.unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("atombot_oauth_state="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let approved = browser.get(location(&login)).send().await.unwrap();
    let callback = location(&approved);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The cookie's Max-Age has passed too; send it as a browser with a skewed clock would.
    let state = cookie
        .trim_start_matches("atombot_oauth_state=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let stale = reqwest::Client::new()
        .get(&callback)
        .header("cookie", format!("atombot_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 400);
    assert!(stale.text().await.unwrap().contains("expired"));
    assert_eq!(setup.token_requests(), 0);
}
