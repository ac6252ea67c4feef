//! Slow work as a background job: the `push` handler only queues a `Check` job and returns,
//! so the delivery's unit is done at once; a worker then runs the job with the push's
//! installation client — it marks the commit `pending`, works for a while and reports
//! `success` as a commit status. The first run fails on purpose (`Retry::after`) to show a
//! job being retried: the second run finishes the check.
//!
//! Run with: cargo run --example slow-job
//! Tested by: tests/example_slow_job.rs (the binary, and its bot on `TestBot`)
//!
//! Offline (no `ATOMGIT_APP_ID`) it starts the local AtomGit simulator, sends itself one
//! push, prints the job's runs and the statuses the simulator received, and exits. With the
//! `ATOMGIT_*` settings it serves real deliveries on `ATOMBOT_LISTEN` until Ctrl-C.

use std::time::{Duration, Instant};

use atombot::jobs::{Job, JobContext};
use atombot::models::CommitState;
use atombot::models::webhook::PushEvent;
use atombot::runtime::RuntimeSettings;
use atombot::testing::{Simulator, events};
use atombot::{Bot, Context, Retry};
use serde::{Deserialize, Serialize};

/// The commit-status context the job reports under.
pub(crate) const STATUS_CONTEXT: &str = "slow-job/check";

/// How long one run of the check works (a build, a lint, a call to another service…).
const WORK: Duration = Duration::from_millis(500);

/// A check of one pushed commit: what the queue stores (an installation id travels with
/// it, never a token).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Check {
    owner: String,
    repo: String,
    sha: String,
}

impl Job for Check {
    // Stored with every queued `Check`: the struct may be renamed or moved, this may not.
    const NAME: &'static str = "slow-job.check";
}

/// The handler: queues the slow work and returns, so its unit of the delivery is done.
async fn on_push(ctx: Context) -> atombot::Result<()> {
    let push: PushEvent = ctx.payload()?;
    let repo = ctx.repo().expect("a push names its repository");
    let id = ctx
        .jobs()
        .push(Check {
            owner: repo.owner,
            repo: repo.name,
            sha: push.after.clone(),
        })
        .await?;
    println!("[bot] push of {}: queued check job {id}", push.after);
    Ok(())
}

/// The job: runs in a worker with a client acting as the push's installation.
async fn check(ctx: JobContext, job: Check) -> atombot::Result<()> {
    println!(
        "[job] check of {}/{}@{} (attempt {})",
        job.owner,
        job.repo,
        job.sha,
        ctx.attempt()
    );
    let statuses = ctx.client().statuses(&job.owner, &job.repo);
    if ctx.attempt() == 1 {
        statuses
            .create(&job.sha, CommitState::Pending)
            .context(STATUS_CONTEXT)
            .description("checking…")
            .send()
            .await?;
    }
    tokio::time::sleep(WORK).await;
    if ctx.attempt() == 1 {
        // A transient failure (say, the runner was busy): run again in a second, using
        // up one of `ATOMBOT_MAX_ATTEMPTS`. Any error would retry with backoff; `Abort`
        // would fail the job at once.
        println!("[job]   first run failed on purpose; retrying in 1 s");
        return Err(Retry::after(Duration::from_secs(1))
            .because("the check runner was busy")
            .into());
    }
    statuses
        .create(&job.sha, CommitState::Success)
        .context(STATUS_CONTEXT)
        .description("all good")
        .send()
        .await?;
    println!("[job]   reported success");
    Ok(())
}

/// The bot's handler and job on `base` (its settings): what `main` serves, and what
/// `tests/example_slow_job.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("push", on_push).job(check)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        return Ok(bot(Bot::from_env()?).serve().await?);
    }
    let sim = Simulator::start().await?;
    println!("[sim] local AtomGit at {}", sim.url());
    // The default queue: SQLite in ./atombot.db (or `ATOMBOT_QUEUE`), as a deployed bot has.
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let running = bot(Bot::new(sim.app_config()).settings(settings))
        .start()
        .await?;
    sim.set_webhook_url(running.url("/webhook"));
    let answer = sim
        .deliver("push", events::push("atomgit-demo/hello-world"))
        .await?;
    println!(
        "[sim] delivered push → {} in {:?} (the job runs after the answer)",
        answer.status, answer.elapsed
    );

    // Wait (at most 30 s) for the job's final status.
    let statuses = || sim.statuses("atomgit-demo", "hello-world");
    let done = || statuses().iter().any(|(_, s)| s["state"] == "success");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("[sim] commit statuses on atomgit-demo/hello-world:");
    for (sha, status) in statuses() {
        println!(
            "        {sha}: {} {} ({})",
            status["context"].as_str().unwrap_or("?"),
            status["state"].as_str().unwrap_or("?"),
            status["description"].as_str().unwrap_or("")
        );
    }
    running.shutdown().await;
    anyhow::ensure!(done(), "the check did not report success within 30 s");
    println!("[bot] stopped");
    Ok(())
}
