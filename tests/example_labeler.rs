//! The labeler example's bot on `TestBot`: `/label a, b c` and `/unlabel a` change the
//! simulator issue's labels for a user with write permission; a user without it gets one
//! refusal and the labels stay as they were.

#[path = "../examples/labeler.rs"]
#[allow(dead_code)]
mod labeler;

use atombot::testing::events::Payload;
use atombot::testing::{Simulator, TestBot, events};
use http::Method;

const OWNER: &str = "atomgit-demo";
const REPO: &str = "atomgit-demo/hello-world";

async fn start() -> TestBot {
    let sim = Simulator::builder()
        .permission(OWNER, "hello-world", "alice", "write")
        .permission(OWNER, "hello-world", "rita", "read")
        .start()
        .await
        .unwrap();
    TestBot::start_with(labeler::bot(atombot::Bot::new(TestBot::config())), sim)
        .await
        .unwrap()
}

/// `login`'s comment saying `body` on issue 1.
fn comment(login: &str, body: &str) -> Payload {
    events::issue_comment_created(REPO, 1, body)
        .set("/sender/login", login)
        .set("/comment/user/login", login)
}

/// The names of the simulator issue's labels, sorted.
fn labels(bot: &TestBot) -> Vec<String> {
    let mut names: Vec<String> = bot
        .sim()
        .labels(OWNER, "hello-world", 1)
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_writer_adds_and_removes_labels() {
    let bot = start().await;
    let added = bot
        .receive(comment("alice", "Confirmed.\n/label bug, help wanted"))
        .await
        .unwrap();
    assert!(added.succeeded(), "{:?}", added.handlers);
    assert_eq!(labels(&bot), ["bug", "help wanted"]);
    assert!(added.comments().is_empty(), "{:?}", added.comments());

    let removed = bot.receive(comment("alice", "/unlabel bug")).await.unwrap();
    assert!(removed.succeeded(), "{:?}", removed.handlers);
    assert_eq!(labels(&bot), ["help wanted"]);
    assert_eq!(
        removed
            .calls_to(Method::DELETE, "/issues/1/labels/bug")
            .len(),
        1
    );

    // Removing a label the issue no longer has is not an error.
    let again = bot.receive(comment("alice", "/unlabel bug")).await.unwrap();
    assert!(again.succeeded(), "{:?}", again.handlers);
    assert_eq!(labels(&bot), ["help wanted"]);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_user_without_write_permission_is_refused() {
    let bot = start().await;
    for login in ["rita", "mallory"] {
        let received = bot.receive(comment(login, "/label wontfix")).await.unwrap();
        assert!(received.succeeded(), "{:?}", received.handlers);
        assert!(received.calls_to(Method::POST, "/labels").is_empty());
        let replies = received.comments();
        assert_eq!(replies.len(), 1, "{login}: one refusal: {replies:?}");
        assert!(
            replies[0].contains(&format!("@{login}"))
                && replies[0].contains("`/label`")
                && replies[0].contains("Write"),
            "{replies:?}"
        );
        // The permission was asked of the platform.
        assert!(
            !received
                .calls_to(Method::GET, &format!("/collaborators/{login}/permission"))
                .is_empty(),
            "{:?}",
            received.api_calls()
        );
    }
    assert!(labels(&bot).is_empty(), "{:?}", labels(&bot));
    bot.shutdown().await;
}

#[test]
fn labels_are_split_at_commas() {
    let parse = |body: &str| {
        let found = atombot::commands::parse(body, &[]);
        labeler::labels_of(&found[0])
    };
    assert_eq!(parse("/label bug, help wanted"), ["bug", "help wanted"]);
    assert_eq!(parse("/label \"needs triage\""), ["needs triage"]);
    assert_eq!(parse("/label bug,,ui ,"), ["bug", "ui"]);
    assert!(parse("/label").is_empty());
}
