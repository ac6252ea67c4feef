//! A served bot acts as a signed-in user: `RunningBot::user_client` after the browser flow.

mod oauth_common;

use std::sync::Arc;

use atombot::Bot;
use atombot::oauth::{MemoryUserTokenStore, OAuth};
use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use oauth_common::{USER, browser};

#[tokio::test]
async fn a_running_bot_acts_as_the_signed_in_user() {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo(USER, "dotfiles");
    let config = sim.app_config();
    let oauth = OAuth::builder(&config)
        .shared_store(Arc::new(MemoryUserTokenStore::new()))
        .build()
        .unwrap();
    let settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
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
