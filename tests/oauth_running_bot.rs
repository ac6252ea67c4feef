//! A served bot acts as a signed-in user: `RunningBot::user_client` after the browser flow.

mod oauth_common;

use std::sync::Arc;

use atombot::oauth::{MemoryUserTokenStore, OAuth};
use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use atombot::{AppConfig, Bot};
use oauth_common::{USER, browser};

#[tokio::test]
async fn a_running_bot_acts_as_the_signed_in_user() {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo(USER, "dotfiles");
    // The bot's public URL must be known before it starts: pick a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut env = sim.env();
    env.push(("ATOMBOT_PUBLIC_URL", format!("http://{listen}")));
    let config =
        AppConfig::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let oauth = OAuth::builder(&config)
        .shared_store(Arc::new(MemoryUserTokenStore::new()))
        .build()
        .unwrap();
    let settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some(listen.clone()),
        "ATOMBOT_QUEUE" => Some("memory".into()),
        _ => None,
    })
    .unwrap();
    let bot = Bot::new(config)
        .settings(settings)
        .oauth(oauth)
        .start()
        .await
        .unwrap();

    let err = bot.user_client(USER).await.unwrap_err();
    assert!(err.is_sign_in_again(), "{err}");

    // login → authorize (approves at once) → callback → the after-login page (`/`, which
    // this bot does not serve).
    let resp = browser().get(bot.url("/login")).send().await.unwrap();
    assert_eq!(
        resp.url().path(),
        "/",
        "the flow ended on the after-login page"
    );
    assert_eq!(sim.oauth_exchange_count(), 1);
    let client = bot.user_client(USER).await.unwrap();
    let repos = client.repos().list_user(USER).all().await.unwrap();
    assert!(
        repos
            .iter()
            .any(|r| r.full_name == format!("{USER}/dotfiles")),
        "{repos:?}"
    );
    let calls = sim.requests_to(&format!("/user/{USER}/repos"));
    assert!(calls.iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Bearer atu_"))
    }));
    bot.shutdown().await;
}
