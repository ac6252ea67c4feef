//! The bot's public URL (`ATOMBOT_PUBLIC_URL`) is the only source of the `redirect_uri`,
//! and cookies are `Secure` whenever it is https; the `Host` header is never trusted.

mod oauth_common;

use std::sync::Arc;

use atombot::oauth::{MemoryUserTokenStore, OAuthSettings};
use atombot::testing::Simulator;
use oauth_common::*;

/// A bot on loopback whose config adds `extra` to the simulator's environment; returns the
/// simulator and the bot's loopback base URL.
async fn bot_with(extra: &[(&str, String)]) -> (Simulator, String) {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo(USER, "dotfiles");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let lookup: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let settings = OAuthSettings::from_lookup(|k| {
        lookup
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let _ = serve(
        &sim,
        listener,
        extra,
        settings,
        Arc::new(MemoryUserTokenStore::new()),
    )
    .await;
    (sim, base)
}

#[tokio::test]
async fn an_https_public_url_makes_every_cookie_secure_and_fixes_the_redirect_uri() {
    let public = "https://bot.example.test";
    let (sim, base) = bot_with(&[("ATOMBOT_PUBLIC_URL", public.to_owned())]).await;
    let browser = manual_browser();
    // A forged Host header changes nothing.
    let login = browser
        .get(format!("{base}/login"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let authorize = location(&login);
    assert_eq!(
        query_param(&authorize, "redirect_uri").as_deref(),
        Some("https://bot.example.test/oauth/callback"),
        "{authorize}"
    );
    let state_cookie = set_cookie(&login, "atombot_oauth_state").expect("a state cookie");
    assert!(state_cookie.contains("; Secure"), "{state_cookie}");

    // The platform sends the browser to the public callback; the TLS proxy forwards it to
    // the bot's loopback port. The browser sends its (Secure) cookie over https.
    let approved = browser.get(&authorize).send().await.unwrap();
    let callback = location(&approved);
    assert!(callback.starts_with("https://bot.example.test/oauth/callback?"));
    let done = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(rebase(&callback, &base))
        .header(
            "cookie",
            format!("atombot_oauth_state={}", cookie_value(&state_cookie)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(sim.oauth_exchange_count(), 1);
    let session = set_cookie(&done, "atombot_session").expect("a session cookie");
    assert!(session.contains("; Secure"), "{session}");
    let cleared = set_cookie(&done, "atombot_oauth_state").expect("the state cookie cleared");
    assert!(cleared.contains("; Secure"), "{cleared}");
}

#[tokio::test]
async fn an_http_public_url_sets_no_secure_flag_and_still_ignores_host() {
    let (_sim, base) = bot_with(&[("ATOMBOT_PUBLIC_URL", "http://127.0.0.1:9/".to_owned())]).await;
    let login = manual_browser()
        .get(format!("{base}/login"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(
        query_param(&location(&login), "redirect_uri").as_deref(),
        Some("http://127.0.0.1:9/oauth/callback")
    );
    let cookie = set_cookie(&login, "atombot_oauth_state").unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn without_a_public_url_login_is_refused_instead_of_trusting_host() {
    let (sim, base) = bot_with(&[]).await;
    let login = manual_browser()
        .get(format!("{base}/login"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    let status = login.status().as_u16();
    let has_location = login.headers().contains_key("location");
    let page = login.text().await.unwrap();
    assert_eq!(status, 500, "{page}");
    assert!(!has_location, "no redirect to the authorize page");
    assert!(page.contains("ATOMBOT_PUBLIC_URL"), "{page}");
    assert!(sim.requests_to("/login/oauth/authorize").is_empty());
}

#[tokio::test]
async fn the_old_redirect_url_variable_still_works() {
    let old = "https://old.example.test/hooks/oauth/callback";
    let (_sim, base) = bot_with(&[("ATOMBOT_OAUTH_REDIRECT_URL", old.to_owned())]).await;
    let login = manual_browser()
        .get(format!("{base}/login"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(
        query_param(&location(&login), "redirect_uri").as_deref(),
        Some(old)
    );
    let cookie = set_cookie(&login, "atombot_oauth_state").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
