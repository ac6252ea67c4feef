//! The slow-job example: the push handler only queues a job; the job runs with the push's
//! installation token, fails its first run on purpose, is retried, and leaves a `pending`
//! then a `success` commit status — offline, as a binary and on `TestBot`.

mod common;

#[path = "../examples/slow-job.rs"]
#[allow(dead_code)]
mod slow_job;

use atombot::testing::{Outcome, TestBot, TokenKind, events};

const REPO: &str = "atomgit-demo/hello-world";

#[tokio::test]
async fn the_handler_queues_the_check_and_the_job_reports_after_one_retry() {
    let bot = TestBot::start(slow_job::bot(atombot::Bot::new(TestBot::config())))
        .await
        .unwrap();
    let push = events::push(REPO);
    let sha = push.as_value()["after"].as_str().unwrap().to_owned();

    let received = bot.receive(push).and_jobs().await.unwrap();

    // The handler ran once and made no API call of its own: the work is the job's.
    let handler = received.handler("push#1").unwrap();
    assert_eq!(
        (handler.attempts, &handler.outcome),
        (1, &Outcome::Succeeded)
    );
    // The job ran twice: the first run asked for a retry, the second succeeded.
    assert_eq!(received.jobs.len(), 1, "{:?}", received.jobs);
    let job = &received.jobs[0];
    assert_eq!(job.kind, "slow-job.check");
    assert_eq!(
        (job.attempts, job.outcome.as_ref()),
        (2, Some(&Outcome::Succeeded))
    );

    // Its effect on the platform: `pending` on the first run, `success` on the second, both
    // on the pushed commit under the example's context.
    let statuses = bot.sim().statuses("atomgit-demo", "hello-world");
    let states: Vec<(&str, &str, &str)> = statuses
        .iter()
        .map(|(s, status)| {
            (
                s.as_str(),
                status["state"].as_str().unwrap(),
                status["context"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (sha.as_str(), "pending", slow_job::STATUS_CONTEXT),
            (sha.as_str(), "success", slow_job::STATUS_CONTEXT),
        ]
    );
    // Posted with the installation's `ats_` token, minted when the job ran.
    let posted = received.calls_to(http::Method::POST, &format!("/statuses/{sha}"));
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert!(
        posted
            .iter()
            .all(|c| c.token_kind == Some(TokenKind::Installation)),
        "{posted:?}"
    );
    assert!(bot.queue().failed().await.unwrap().is_empty());
    bot.shutdown().await;
}

#[test]
fn slow_job_runs_offline() {
    let dir = common::temp_dir("example-slow-job");
    let stdout = common::run_example(
        "slow-job",
        &[(
            "ATOMBOT_QUEUE",
            format!("sqlite://{}", dir.join("q.db").display()),
        )],
    );
    assert!(stdout.contains("queued check job"), "{stdout}");
    assert!(stdout.contains("(attempt 2)"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} pending", slow_job::STATUS_CONTEXT)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} success", slow_job::STATUS_CONTEXT)),
        "{stdout}"
    );
}
