//! Acceptance 7: the README's first command, `cargo run --example repo-lister`, works
//! offline and prints the repositories of the simulator's organisation.

mod common;

use std::process::Command;

#[test]
fn repo_lister_runs_offline() {
    let out = Command::new(common::example("repo-lister"))
        .env_remove("ATOMGIT_APP_ID")
        .env_remove("ATOMGIT_API_URL")
        .output()
        .expect("the repo-lister example is built by `cargo test`");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("using the local simulator"), "{stdout}");
    assert!(stdout.contains("atomgit-demo/hello-world"), "{stdout}");
    assert!(stdout.contains("atomgit-demo/bot-playground"), "{stdout}");
}

#[path = "../examples/repo-lister.rs"]
#[allow(dead_code)]
mod repo_lister;

/// The same listing as a bot: installing the app lists the installation's repositories
/// with its own `ats_` token.
#[tokio::test]
async fn installing_the_app_lists_its_repositories_on_test_bot() {
    use atombot::testing::{TestBot, TokenKind, events};
    let bot = TestBot::start(repo_lister::bot(atombot::Bot::new(TestBot::config())))
        .await
        .unwrap();
    let installed = bot
        .receive(events::installation_created(14, "atomgit-demo"))
        .await
        .unwrap();
    assert!(installed.succeeded(), "{:?}", installed.handlers);
    let listed = installed.calls_to(http::Method::GET, "/orgs/atomgit-demo/repos");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_kind, Some(TokenKind::Installation));
    assert_eq!(bot.sim().mint_count(14), 1);
    bot.shutdown().await;
}
