//! The welcome example's bot on `TestBot`: a new issue gets the default greeting without a
//! `welcome.yml`, the repository's message with one, the owner's with only an owner file,
//! and an invalid file is reported instead of greeted.

#[path = "../examples/welcome.rs"]
#[allow(dead_code)]
mod welcome;

use atombot::testing::{Simulator, SimulatorBuilder, TestBot, events};

const OWNER: &str = "atomgit-demo";
const REPO: &str = "atomgit-demo/hello-world";

/// The example's bot on a simulator built by `sim`; the comments it posts on a new issue.
async fn greeting_on(sim: SimulatorBuilder) -> (bool, Vec<String>) {
    let sim = sim.start().await.unwrap();
    let bot = TestBot::start_with(welcome::bot(atombot::Bot::new(TestBot::config())), sim)
        .await
        .unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "It crashes").set("/issue/user/login", "ana"))
        .await
        .unwrap();
    let comments = bot
        .sim()
        .comments(OWNER, "hello-world", 1)
        .iter()
        .map(|c| c["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    let succeeded = received.succeeded();
    bot.shutdown().await;
    (succeeded, comments)
}

#[tokio::test]
async fn without_a_file_the_default_greeting_is_posted() {
    let (succeeded, comments) = greeting_on(Simulator::builder()).await;
    assert!(succeeded);
    assert_eq!(
        comments,
        ["Thanks for opening #1, @ana! A maintainer will take a look soon."]
    );
    assert_eq!(
        comments[0],
        welcome::render(welcome::DEFAULT_MESSAGE, "ana", 1, "It crashes")
    );
}

#[tokio::test]
async fn the_repository_file_sets_the_message() {
    let sim = Simulator::builder().file(
        OWNER,
        "hello-world",
        ".atomgit/welcome.yml",
        "message: \"Hi @{author}! #{number} ({title}) is in the queue.\"\n",
    );
    let (succeeded, comments) = greeting_on(sim).await;
    assert!(succeeded);
    assert_eq!(comments, ["Hi @ana! #1 (It crashes) is in the queue."]);
}

#[tokio::test]
async fn the_owners_file_applies_when_the_repository_has_none() {
    let sim = Simulator::builder().org_repo(OWNER, ".atomgit").file(
        OWNER,
        ".atomgit",
        ".atomgit/welcome.yml",
        "message: Welcome to every atomgit-demo project, {author}.\n",
    );
    let (succeeded, comments) = greeting_on(sim).await;
    assert!(succeeded);
    assert_eq!(comments, ["Welcome to every atomgit-demo project, ana."]);
}

#[tokio::test]
async fn an_invalid_file_is_reported_not_greeted() {
    let sim = Simulator::builder().file(
        OWNER,
        "hello-world",
        ".atomgit/welcome.yml",
        "message: [not, a, string]\n",
    );
    let (succeeded, comments) = greeting_on(sim).await;
    assert!(!succeeded, "an invalid file fails the handler");
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].contains("configuration could not be used")
            && comments[0].contains("welcome.yml"),
        "{comments:?}"
    );
}
