//! The demo bot's handlers, run on `TestBot`: the same `bot()` the example serves.

#[path = "../examples/demo.rs"]
#[allow(dead_code)]
mod demo;

use atombot::testing::{TestBot, TokenKind, events};
use http::Method;

#[tokio::test]
async fn a_push_lists_the_repositories_and_comments_and_an_issue_is_thanked() {
    let bot = TestBot::start(demo::bot(atombot::Bot::new(TestBot::config())))
        .await
        .unwrap();

    let push = bot
        .receive(events::push("atomgit-demo/hello-world"))
        .await
        .unwrap();
    assert!(push.succeeded(), "{:?}", push.handlers);
    let listed = push.calls_to(Method::GET, "/orgs/atomgit-demo/repos");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].token_kind,
        Some(TokenKind::Installation),
        "listed with the installation's ats_ token"
    );
    assert_eq!(
        push.comments(),
        ["Saw a push to `refs/heads/main` (1 commits)."]
    );

    let issue = bot
        .receive(events::issue_opened("atomgit-demo/hello-world", 1, "Docs").installation(14))
        .await
        .unwrap();
    assert_eq!(
        issue.comments(),
        ["Thanks for opening #1, we'll take a look!"]
    );
    // The installation's token was minted once and cached for the second delivery.
    assert_eq!(bot.sim().mint_count(14), 1);
    bot.shutdown().await;
}
