//! The atombot tour: a bot whose `push` handler lists the organisation's repositories
//! through its installation's `ats_` token and comments on an issue, and whose
//! `issues.opened` handler thanks the author.
//!
//! Run with: cargo run --example demo
//! Tested by: tests/example_demo.rs (on `atombot::testing::TestBot`)
//!
//! Offline (no `ATOMGIT_APP_ID`): starts the local AtomGit simulator, serves the bot on
//! 127.0.0.1, fires a few signed deliveries at it and prints each step. With `ATOMGIT_APP_ID`,
//! `ATOMGIT_PRIVATE_KEY_PATH` and `ATOMGIT_WEBHOOK_SECRET` set, it serves real deliveries
//! on `ATOMBOT_LISTEN` (default 127.0.0.1:3000) until Ctrl-C.

use std::time::{Duration, Instant};

use atombot::models::webhook::{IssuesEvent, PushEvent};
use atombot::runtime::RuntimeSettings;
use atombot::testing::{DeliveryOptions, Simulator, events};
use atombot::{Bot, Context};

async fn on_push(ctx: Context) -> atombot::Result<()> {
    let push: PushEvent = ctx.payload()?;
    let repo = ctx.repo().expect("a push names its repository");
    println!(
        "[bot] push to {} of {repo} (installation {:?})",
        push.git_ref,
        ctx.installation_id().map(|i| i.0)
    );
    let repos = ctx.client().repos().list_org(&repo.owner).all().await?;
    let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
    println!(
        "[bot]   {} has {} repositories: {}",
        repo.owner,
        repos.len(),
        names.join(", ")
    );
    let comment = ctx
        .client()
        .issues(&repo.owner, &repo.name)
        .create_comment(
            1,
            format!(
                "Saw a push to `{}` ({} commits).",
                push.git_ref,
                push.commits.len()
            ),
        )
        .await?;
    println!("[bot]   commented on {repo}#1 (comment {})", comment.id);
    Ok(())
}

async fn on_issue_opened(ctx: Context) -> atombot::Result<()> {
    let event: IssuesEvent = ctx.payload()?;
    println!(
        "[bot] issue #{} opened: {:?}",
        event.issue.number, event.issue.title
    );
    ctx.comment(format!(
        "Thanks for opening #{}, we'll take a look!",
        event.issue.number
    ))
    .await?;
    println!("[bot]   replied on #{}", event.issue.number);
    Ok(())
}

/// The bot's handlers on `base` (its settings): what `main` serves, and what
/// `tests/example_demo.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("push", on_push)
        .on("issues.opened", on_issue_opened)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        // Real platform: serve deliveries until Ctrl-C / SIGTERM.
        return Ok(bot(Bot::from_env()?).serve().await?);
    }

    let sim = Simulator::start().await?;
    println!("[sim] local AtomGit at {}", sim.url());
    // The default queue: SQLite in ./atombot.db, as a deployed bot has.
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let bot = bot(Bot::new(sim.app_config()).settings(settings))
        .start()
        .await?;
    let url = bot.url("/webhook");
    println!("[bot] listening for deliveries at {url}");
    sim.set_webhook_url(url);

    // A GitHub-style push without an `installation` object: the bot finds the installation
    // from the repository's owner.
    let answer = sim
        .deliver("push", events::push("atomgit-demo/hello-world"))
        .await?;
    println!("[sim] delivered push → {} {}", answer.status, answer.body);
    let answer = sim
        .deliver(
            "issues",
            events::issue_opened("atomgit-demo/hello-world", 1, "Docs are unclear")
                .installation(14),
        )
        .await?;
    println!(
        "[sim] delivered issues.opened → {} {}",
        answer.status, answer.body
    );
    // A GitCode-style delivery the demo has no handler for: acknowledged, not run.
    let note = events::gitlab_note_on_issue();
    let answer = sim
        .deliver_with(note.event(), &note, &DeliveryOptions::gitcode())
        .await?;
    println!(
        "[sim] delivered a GitCode Note Hook → {} {}",
        answer.status, answer.body
    );

    // The deliveries were acknowledged at once; the handlers run in the background. Wait
    // (at most 10 s) for their two comments.
    let comments = || sim.comments("atomgit-demo", "hello-world", 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while comments().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("[sim] comments on atomgit-demo/hello-world#1:");
    for comment in comments() {
        println!(
            "        {}: {}",
            comment["user"]["login"].as_str().unwrap_or("?"),
            comment["body"]
        );
    }
    println!("[sim] installation tokens minted: {}", sim.mint_count(14));
    bot.shutdown().await;
    println!("[bot] stopped");
    Ok(())
}
