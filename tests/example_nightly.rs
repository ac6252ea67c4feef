//! The nightly example: its schedule sweeps every installation's repositories with each
//! installation's own token, offline, as a binary and on `TestBot`.

mod common;

use std::time::{Duration, Instant};

#[path = "../examples/nightly.rs"]
#[allow(dead_code)]
mod nightly;

#[test]
fn nightly_runs_offline_and_sweeps_twice() {
    let dir = common::temp_dir("example-nightly");
    let stdout = common::run_example(
        "nightly",
        &[(
            "ATOMBOT_QUEUE",
            format!("sqlite://{}", dir.join("q.db").display()),
        )],
    );
    assert!(stdout.contains("[nightly] sweep 2"), "{stdout}");
    assert!(
        stdout.contains("atomgit-demo/hello-world (installation 14)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn each_tick_lists_every_installations_repositories_with_its_token() {
    use atombot::testing::{TestBot, TokenKind};
    let schedule = atombot::schedule::Schedule::every(Duration::from_secs(1));
    let bot = TestBot::start(nightly::bot(atombot::Bot::new(TestBot::config()), schedule))
        .await
        .unwrap();
    let listed = || bot.sim().requests_to("/orgs/atomgit-demo/repos");
    let deadline = Instant::now() + Duration::from_secs(20);
    while listed().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listed = listed();
    assert!(!listed.is_empty(), "no sweep within 20 s");
    assert!(
        listed
            .iter()
            .all(|r| r.token_kind == Some(TokenKind::Installation)),
        "{listed:?}"
    );
    let installations = bot.sim().requests_to("/app/installations");
    assert!(
        installations
            .iter()
            .any(|r| r.token_kind == Some(TokenKind::AppJwt)),
        "the installations are listed as the app: {installations:?}"
    );
    bot.shutdown().await;
}
