//! `TestBot`: a bot definition run in-process against the simulator, the real receiver →
//! queue → worker → handler path, no sleeps.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use atombot::jobs::{Job, JobContext};
use atombot::testing::{Acceptance, DeliveryOptions, Outcome, TestBot, TestBotError, events};
use atombot::{Bot, Context, State};
use http::Method;
use serde::{Deserialize, Serialize};

const REPO: &str = "atomgit-demo/hello-world";

async fn greet(ctx: Context) -> atombot::Result<()> {
    ctx.comment("Thanks for the report!").await?;
    Ok(())
}

#[tokio::test]
async fn receive_returns_after_the_comment_was_posted() {
    let bot = TestBot::start(Bot::new(TestBot::config()).on("issues.opened", greet))
        .await
        .unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash on start"))
        .await
        .unwrap();
    assert_eq!(received.status, 202);
    assert_eq!(received.acceptance, Acceptance::Queued);
    let run = received.handler("issues.opened#1").unwrap();
    assert_eq!((run.attempts, &run.outcome), (1, &Outcome::Succeeded));
    assert_eq!(received.comments(), ["Thanks for the report!"]);
    let posted = received.calls_to(Method::POST, "/issues/1/comments");
    assert_eq!(posted.len(), 1);
    assert_eq!(
        posted[0].json().unwrap()["body"],
        "Thanks for the report!",
        "the recorded call carries the body"
    );
    // The simulator holds the comment too: the real client stack posted it.
    assert_eq!(
        bot.sim().comments("atomgit-demo", "hello-world", 1).len(),
        1
    );
    bot.shutdown().await;
}

#[derive(Default)]
struct Flaky(AtomicU32);

async fn fails_once(ctx: Context, State(flaky): State<Flaky>) -> atombot::Result<()> {
    if flaky.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(atombot::Retry::backoff().because("first run fails").into());
    }
    ctx.comment("second time lucky").await?;
    Ok(())
}

#[tokio::test]
async fn a_handler_that_fails_once_is_retried_by_the_queue() {
    let bot = TestBot::start(
        Bot::new(TestBot::config())
            .with_state(Flaky::default())
            .on_named("flaky", "issues.opened", fails_once),
    )
    .await
    .unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Flaky"))
        .await
        .unwrap();
    let run = received.handler("flaky").unwrap();
    assert_eq!(run.attempts, 2, "{run:?}");
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert_eq!(run.errors.len(), 1);
    assert!(
        run.errors[0].contains("first run fails"),
        "{:?}",
        run.errors
    );
    assert_eq!(received.comments(), ["second time lucky"]);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_handler_that_aborts_is_reported_failed_after_one_attempt() {
    async fn refuse(_ctx: Context) -> atombot::Result<()> {
        Err(atombot::Abort::new("not for us").into())
    }
    let bot = TestBot::start(Bot::new(TestBot::config()).on("push", refuse))
        .await
        .unwrap();
    let received = bot.receive(events::push(REPO)).await.unwrap();
    let run = received.handler("push#1").unwrap();
    assert_eq!(run.attempts, 1);
    assert!(matches!(&run.outcome, Outcome::Failed(m) if m.contains("not for us")));
    assert!(!received.succeeded());
    // Reported after the queue stored it: the failed unit is listed at once.
    let failed = bot.queue().failed().await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].kind, "handler:push#1");
    bot.shutdown().await;
}

#[derive(Default)]
struct Counter(AtomicU64);

async fn count_push(ctx: Context) -> atombot::Result<()> {
    ctx.state::<Counter>()?.0.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

async fn count_issue(_ctx: Context, State(counter): State<Counter>) -> atombot::Result<()> {
    counter.0.fetch_add(10, Ordering::SeqCst);
    Ok(())
}

#[tokio::test]
async fn two_handlers_share_a_counter_through_with_state() {
    let bot = TestBot::start(
        Bot::new(TestBot::config())
            .with_state(Counter::default())
            .on("push", count_push)
            .on("issues.opened", count_issue)
            .on_named("report", "issues.opened", |ctx: Context| async move {
                let seen = ctx.state::<Counter>()?.0.load(Ordering::SeqCst);
                ctx.comment(format!("seen {seen}")).await?;
                Ok::<(), atombot::Error>(())
            }),
    )
    .await
    .unwrap();
    bot.receive(events::push(REPO)).await.unwrap();
    bot.receive(events::push(REPO)).await.unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Count"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    // The comment may have been written before or after the issue handler added 10.
    let comment = received.comments().pop().unwrap();
    assert!(comment == "seen 2" || comment == "seen 12", "{comment}");
    bot.shutdown().await;
}

#[tokio::test]
async fn missing_state_fails_the_handler_without_retries() {
    let bot = TestBot::start(Bot::new(TestBot::config()).on("push", count_push))
        .await
        .unwrap();
    let received = bot.receive(events::push(REPO)).await.unwrap();
    let run = received.handler("push#1").unwrap();
    assert_eq!(run.attempts, 1);
    assert!(
        matches!(&run.outcome, Outcome::Failed(m) if m.contains("Counter") && m.contains("with_state")),
        "{run:?}"
    );
    bot.shutdown().await;
}

#[derive(Serialize, Deserialize)]
struct Label {
    number: u64,
}

impl Job for Label {
    const NAME: &'static str = "label";
}

async fn queue_label(ctx: Context) -> atombot::Result<()> {
    ctx.jobs().push(Label { number: 1 }).await?;
    Ok(())
}

async fn label(ctx: JobContext, job: Label) -> atombot::Result<()> {
    ctx.client()
        .issues("atomgit-demo", "hello-world")
        .create_comment(job.number, "labelled later")
        .await?;
    Ok(())
}

#[tokio::test]
async fn and_jobs_waits_for_the_jobs_handlers_queued() {
    let bot = TestBot::start(
        Bot::new(TestBot::config())
            .on("issues.opened", queue_label)
            .job(label),
    )
    .await
    .unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Later"))
        .and_jobs()
        .await
        .unwrap();
    assert_eq!(received.jobs.len(), 1, "{:?}", received.jobs);
    assert_eq!(received.jobs[0].kind, "label");
    assert_eq!(received.jobs[0].outcome, Some(Outcome::Succeeded));
    assert_eq!(received.comments(), ["labelled later"]);
    bot.shutdown().await;
}

#[tokio::test]
async fn unwanted_duplicate_and_refused_deliveries() {
    let bot = TestBot::start(Bot::new(TestBot::config()).on("issues.opened", greet))
        .await
        .unwrap();
    let ignored = bot.receive(events::push(REPO)).await.unwrap();
    assert_eq!(
        (ignored.status, ignored.acceptance),
        (200, Acceptance::Ignored)
    );
    assert!(ignored.handlers.is_empty());

    let once = DeliveryOptions::new().delivery_id("same-id");
    let first = bot
        .receive(events::issue_opened(REPO, 1, "Once"))
        .options(once.clone())
        .await
        .unwrap();
    assert_eq!(first.comments().len(), 1);
    let again = bot
        .receive(events::issue_opened(REPO, 1, "Once"))
        .options(once)
        .await
        .unwrap();
    assert_eq!(again.acceptance, Acceptance::Duplicate);
    assert!(again.comments().is_empty());

    // GitCode headers and a GitLab-shaped body take the same path.
    let note = events::gitlab_note_on_issue();
    let gitlab = bot
        .receive(note)
        .options(DeliveryOptions::gitcode())
        .await
        .unwrap();
    assert_eq!(gitlab.acceptance, Acceptance::Ignored);

    let bad = bot
        .receive(events::issue_opened(REPO, 1, "Bad"))
        .options(DeliveryOptions::new().header("X-Hub-Signature-256", "sha256=00"))
        .await
        .unwrap_err();
    assert!(
        matches!(bad, TestBotError::Rejected { status: 401, .. }),
        "{bad}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_delivery_that_cannot_be_fanned_out_is_reported_not_waited_for() {
    use atombot::testing::{Fault, Route};
    let bot = TestBot::start(Bot::new(TestBot::config()).on("push", greet))
        .await
        .unwrap()
        .timeout(std::time::Duration::from_secs(50));
    // The installation lookup fails on every attempt (the push names no installation).
    bot.sim()
        .fail_next(Route::get("/app/installations"), 1000, Fault::Status(500));
    let error = bot.receive(events::push(REPO)).await.unwrap_err();
    assert!(
        matches!(&error, TestBotError::FanOut { error, .. } if error.contains("installation")),
        "{error}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn an_invalid_definition_fails_to_start() {
    let error = TestBot::start(Bot::new(TestBot::config()).on("issue.opened", greet))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("`issues.opened`"), "{message}");
}

async fn thank_for_the_pull_request(ctx: Context) -> atombot::Result<()> {
    ctx.comment("Thanks for the pull request!").await?;
    Ok(())
}

/// AtomGit keeps a pull request's comments under `/pulls/{n}/comments`: its issues path
/// knows no pull request (404), unlike GitHub's, where pull requests are issues.
#[tokio::test]
async fn a_comment_on_a_pull_request_goes_to_the_pull_request() {
    let bot = TestBot::start(
        Bot::new(TestBot::config()).on("pull_request.opened", thank_for_the_pull_request),
    )
    .await
    .unwrap();
    // The default simulator has pull request #2 in atomgit-demo/hello-world.
    let received = bot
        .receive(events::pull_request_opened(REPO, 2, "Add a feature"))
        .await
        .unwrap();
    let run = received.handler("pull_request.opened#1").unwrap();
    assert_eq!((run.attempts, &run.outcome), (1, &Outcome::Succeeded));
    assert_eq!(
        received.calls_to(Method::POST, "/pulls/2/comments").len(),
        1
    );
    assert!(
        received
            .calls_to(Method::POST, "/issues/2/comments")
            .is_empty()
    );
    assert_eq!(received.comments(), ["Thanks for the pull request!"]);
    bot.shutdown().await;
}
