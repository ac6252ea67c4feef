//! Two replicas of a bot on one Redis / Postgres store (and, for the refresh race, one
//! shared in-memory store): a login started on one finishes on the other, a session from
//! one is seen by the other, and a refresh race leaves the winner's tokens in place.
//!
//! Needs `ATOMBOT_TEST_REDIS_URL` / `ATOMBOT_TEST_POSTGRES_URL` and the `redis` / `postgres`
//! features; otherwise the server half of each test prints `skipped: …`.
#![cfg_attr(
    not(any(feature = "redis", feature = "postgres")),
    allow(dead_code, unused_variables)
)]

mod oauth_common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atombot::oauth::{MemoryUserTokenStore, OAuth, OAuthSettings, TokenKey, UserTokenStore};
use atombot::testing::{Fault, Route, Simulator};
use oauth_common::*;
use secrecy::ExposeSecret;

const TOKEN_PATH: &str = "/login/oauth/access_token";

fn server_url(var: &str) -> Option<String> {
    let url = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    if url.is_none() {
        println!("skipped: {var} is not set");
    }
    url
}

/// A login no other run or concurrent test uses.
fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "rep-{tag}-{}-{nanos}-{}",
        std::process::id(),
        fastrand::u32(..)
    )
}

fn key() -> TokenKey {
    TokenKey::from_bytes(&[7u8; 32]).unwrap()
}

type Pair = (Arc<dyn UserTokenStore>, Arc<dyn UserTokenStore>);

/// Two handles (one per replica) on the backend's server, or `None` when not configured.
async fn two_stores(backend: &str, user: &str) -> Option<Pair> {
    match backend {
        #[cfg(feature = "redis")]
        "redis" => {
            use atombot::oauth::RedisUserTokenStore;
            let url = server_url("ATOMBOT_TEST_REDIS_URL")?;
            let prefix = format!("atombot-test:{user}:");
            let a = RedisUserTokenStore::connect(&url, key()).await.unwrap();
            let b = RedisUserTokenStore::connect(&url, key()).await.unwrap();
            let login = format!("{prefix}oauth:");
            Some((
                Arc::new(
                    a.with_prefix(prefix.clone())
                        .with_login_prefix(login.clone()),
                ),
                Arc::new(b.with_prefix(prefix).with_login_prefix(login)),
            ))
        }
        #[cfg(feature = "postgres")]
        "postgres" => {
            use atombot::oauth::PostgresUserTokenStore;
            let url = server_url("ATOMBOT_TEST_POSTGRES_URL")?;
            let a = PostgresUserTokenStore::connect(&url, key()).await.unwrap();
            let b = PostgresUserTokenStore::connect(&url, key()).await.unwrap();
            Some((Arc::new(a), Arc::new(b)))
        }
        "memory" => {
            let shared: Arc<dyn UserTokenStore> = Arc::new(MemoryUserTokenStore::new());
            Some((shared.clone(), shared))
        }
        other => {
            println!("skipped: the `{other}` feature is off");
            None
        }
    }
}

struct Replicas {
    sim: Simulator,
    user: String,
    a: OAuth,
    b: OAuth,
    base_a: String,
    base_b: String,
}

/// A simulator signing in `user`, and two bots on `stores` behind one public URL (A's).
async fn replicas(user: String, stores: Pair) -> Replicas {
    replicas_with(user, stores, OAuthSettings::default()).await
}

/// Like [`replicas`], with `settings` on both.
async fn replicas_with(
    user: String,
    (store_a, store_b): Pair,
    settings: OAuthSettings,
) -> Replicas {
    let sim = Simulator::start().await.unwrap();
    sim.set_oauth_user(user.clone());
    sim.add_user_repo(&user, "dotfiles");
    let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_a = format!("http://{}", la.local_addr().unwrap());
    let base_b = format!("http://{}", lb.local_addr().unwrap());
    let public = [("ATOMBOT_PUBLIC_URL", base_a.clone())];
    let (a, _) = serve(&sim, la, &public, settings.clone(), store_a).await;
    let (b, _) = serve(&sim, lb, &public, settings, store_b).await;
    Replicas {
        sim,
        user,
        a,
        b,
        base_a,
        base_b,
    }
}

async fn page(browser: &reqwest::Client, url: String) -> String {
    browser.get(url).send().await.unwrap().text().await.unwrap()
}

async fn login_on_one_replica_finishes_on_the_other(backend: &str) {
    let user = unique(backend);
    let Some(stores) = two_stores(backend, &user).await else {
        return;
    };
    let r = replicas(user, stores).await;
    let browser = manual_browser();
    let login = browser
        .get(format!("{}/login", r.base_a))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let approved = browser.get(location(&login)).send().await.unwrap();
    // The load balancer sends the callback to replica B.
    let callback = rebase(&location(&approved), &r.base_b);
    let done = browser.get(&callback).send().await.unwrap();
    let status = done.status().as_u16();
    let session = set_cookie(&done, "atombot_session").map(|c| cookie_value(&c));
    let text = done.text().await.unwrap();
    assert_eq!(status, 303, "{backend}: {text}");
    let session = session.expect("a session cookie");
    assert_eq!(r.sim.oauth_exchange_count(), 1);

    // The state was used up on B: replaying the callback on A (cookie copied) is refused
    // before any exchange.
    let state = query_param(&callback, "state").unwrap();
    let replay = reqwest::Client::new()
        .get(rebase(&callback, &r.base_a))
        .header("cookie", format!("atombot_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 400, "{backend}");
    assert!(replay.text().await.unwrap().contains("already used"));
    assert_eq!(r.sim.requests_to(TOKEN_PATH).len(), 1, "{backend}");

    // The session B started is known to A, and ending it on B ends it on A.
    let signed_in = format!("signed in as {}", r.user);
    let on_a = page(&browser, format!("{}/", r.base_a)).await;
    assert!(on_a.contains(&signed_in), "{backend}: {on_a}");
    assert!(on_a.contains("dotfiles"), "{backend}: {on_a}");
    let out = browser
        .post(format!("{}/logout", r.base_b))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    // A copy of the session cookie no longer works on A either.
    let copied = reqwest::Client::new()
        .get(format!("{}/", r.base_a))
        .header("cookie", format!("atombot_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(copied.text().await.unwrap(), "not signed in", "{backend}");
    assert!(r.a.store().get(&r.user).await.unwrap().is_none());
}

#[tokio::test]
async fn redis_a_login_started_on_one_replica_finishes_on_another() {
    login_on_one_replica_finishes_on_the_other("redis").await;
}

#[tokio::test]
async fn postgres_a_login_started_on_one_replica_finishes_on_another() {
    login_on_one_replica_finishes_on_the_other("postgres").await;
}

/// Signs a fresh browser in (login on A, callback on B); returns its session cookie value.
async fn new_session(r: &Replicas) -> String {
    let browser = manual_browser();
    let login = browser
        .get(format!("{}/login", r.base_a))
        .send()
        .await
        .unwrap();
    let approved = browser.get(location(&login)).send().await.unwrap();
    let done = browser
        .get(rebase(&location(&approved), &r.base_b))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 303);
    cookie_value(&set_cookie(&done, "atombot_session").expect("a session cookie"))
}

async fn page_as(base: &str, session: &str) -> String {
    reqwest::Client::new()
        .get(format!("{base}/"))
        .header("cookie", format!("atombot_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sessions_are_capped_and_expire(backend: &str) {
    let user = unique(backend);
    let Some(stores) = two_stores(backend, &user).await else {
        return;
    };
    let mut settings = OAuthSettings::default();
    settings.max_sessions_per_user = 2;
    settings.session_ttl = Duration::from_secs(2);
    let r = replicas_with(user, stores, settings).await;
    let sessions = [
        new_session(&r).await,
        new_session(&r).await,
        new_session(&r).await,
    ];
    for base in [&r.base_a, &r.base_b] {
        assert_eq!(
            page_as(base, &sessions[0]).await,
            "not signed in",
            "{backend}"
        );
        for s in &sessions[1..] {
            let text = page_as(base, s).await;
            assert!(text.contains("signed in as"), "{backend}: {text}");
        }
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for base in [&r.base_a, &r.base_b] {
        for s in &sessions {
            assert_eq!(page_as(base, s).await, "not signed in", "{backend}");
        }
    }
}

#[tokio::test]
async fn redis_sessions_are_capped_per_user_and_expire() {
    sessions_are_capped_and_expire("redis").await;
}

#[tokio::test]
async fn postgres_sessions_are_capped_per_user_and_expire() {
    sessions_are_capped_and_expire("postgres").await;
}

/// Waits (generously) until the simulator has seen `n` requests to the token endpoint.
async fn token_requests_reach(sim: &Simulator, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.requests_to(TOKEN_PATH).len() < n {
        assert!(Instant::now() < deadline, "the token request never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn refresh_race_keeps_the_winners_tokens(backend: &str) {
    let user = unique(backend);
    let Some(stores) = two_stores(backend, &user).await else {
        return;
    };
    let r = replicas(user, stores).await;
    let (status, text) = {
        let resp = browser()
            .get(format!("{}/login", r.base_a))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(status, 200, "{text}");
    r.sim.set_rotate_refresh_tokens(true);
    let refreshes = r.sim.oauth_refresh_count();

    // B presents the current refresh token first, but the platform is slow to answer it;
    // meanwhile A refreshes with the same token and stores the rotated one.
    r.sim.fail_next(
        Route::post(TOKEN_PATH),
        1,
        Fault::Delay(Duration::from_secs(3)),
    );
    let seen = r.sim.requests_to(TOKEN_PATH).len();
    let b = r.b.clone();
    let who = r.user.clone();
    let loser = tokio::spawn(async move { b.refresh(&who).await });
    token_requests_reach(&r.sim, seen + 1).await;
    let winner = r.a.refresh(&r.user).await.unwrap();
    let lost = loser.await.unwrap();

    // The platform refused B's (now retired) token, yet nobody was signed out: B took
    // the tokens A stored.
    assert_eq!(r.sim.oauth_refresh_count(), refreshes + 1);
    let lost = lost.unwrap_or_else(|e| panic!("{backend}: the losing replica failed: {e}"));
    let stored =
        r.a.store()
            .get(&r.user)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{backend}: the losing replica deleted the winner's tokens"));
    let secret = |t: &atombot::oauth::UserToken| {
        t.refresh_token.as_ref().unwrap().expose_secret().to_owned()
    };
    assert_eq!(secret(&stored), secret(&winner), "{backend}");
    assert_eq!(secret(&lost), secret(&winner), "{backend}");
    assert_eq!(
        lost.access_token.expose_secret(),
        winner.access_token.expose_secret()
    );
    assert_eq!(r.b.user_repos(&r.user).await.unwrap().len(), 1);
    assert_eq!(r.a.user_repos(&r.user).await.unwrap().len(), 1);
    // And the stored refresh token is the live one.
    r.b.refresh(&r.user).await.unwrap();
    assert_eq!(r.sim.oauth_refresh_count(), refreshes + 2);
}

#[tokio::test]
async fn memory_a_refresh_race_keeps_the_winners_tokens() {
    refresh_race_keeps_the_winners_tokens("memory").await;
}

#[tokio::test]
async fn redis_a_refresh_race_keeps_the_winners_tokens() {
    refresh_race_keeps_the_winners_tokens("redis").await;
}

#[tokio::test]
async fn postgres_a_refresh_race_keeps_the_winners_tokens() {
    refresh_race_keeps_the_winners_tokens("postgres").await;
}
