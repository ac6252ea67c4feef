//! Labels by slash command: `/label bug, help wanted` in an issue or pull-request comment
//! adds the labels (comma-separated, so a label may hold spaces), `/unlabel bug` removes
//! them. Both need write permission on the repository; the command framework checks it
//! through the platform and answers anyone else with one refusal (`/help` lists both).
//!
//! Run with: cargo run --example labeler
//! Tested by: tests/example_labeler.rs (on `atombot::testing::TestBot`)
//!
//! Offline (no `ATOMGIT_APP_ID`) it starts the local simulator, where `alice` may write
//! to `atomgit-demo/hello-world` and `mallory` may not, sends their comments and prints the
//! issue's labels and the bot's replies. With the `ATOMGIT_*` settings it serves real
//! deliveries on `ATOMBOT_LISTEN`.

use std::time::{Duration, Instant};

use atombot::commands::{Command, Invocation, Role};
use atombot::runtime::RuntimeSettings;
use atombot::testing::{Simulator, events};
use atombot::{Bot, Context, Error};

/// The labels an invocation names: its arguments joined, split at commas, trimmed
/// (`/label bug, help wanted` → `bug`, `help wanted`; `/label "needs triage"` → one label).
pub(crate) fn labels_of(cmd: &Invocation) -> Vec<String> {
    cmd.args
        .join(" ")
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The issue or pull request the comment is on.
fn issue_number(ctx: &Context) -> atombot::Result<u64> {
    ctx.issue_number()
        .ok_or_else(|| Error::InvalidRequest("the comment is not on an issue".into()))
}

async fn label(ctx: Context, cmd: Invocation) -> atombot::Result<()> {
    let labels = labels_of(&cmd);
    if labels.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = labels.iter().map(String::as_str).collect();
    ctx.issues()?
        .add_labels(issue_number(&ctx)?, &names)
        .await?;
    Ok(())
}

async fn unlabel(ctx: Context, cmd: Invocation) -> atombot::Result<()> {
    let number = issue_number(&ctx)?;
    let issues = ctx.issues()?;
    for name in labels_of(&cmd) {
        match issues.remove_label(number, &name).await {
            // Not on the issue (or removed by an earlier attempt): nothing to do.
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => {}
            other => other?,
        }
    }
    Ok(())
}

/// The bot's commands on `base` (its settings): what `main` serves, and what
/// `tests/example_labeler.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.command(
        Command::new("label")
            .role(Role::Write)
            .about("Adds labels: `/label bug, help wanted`"),
        label,
    )
    .command(
        Command::new("unlabel")
            .role(Role::Write)
            .about("Removes labels: `/unlabel bug`"),
        unlabel,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        return Ok(bot(Bot::from_env()?).serve().await?);
    }
    let sim = Simulator::builder()
        .permission("atomgit-demo", "hello-world", "alice", "write")
        .start()
        .await?;
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let bot = bot(Bot::new(sim.app_config()).settings(settings))
        .start()
        .await?;
    sim.set_webhook_url(bot.url("/webhook"));
    let labels = || -> Vec<String> {
        sim.labels("atomgit-demo", "hello-world", 1)
            .iter()
            .map(|l| l["name"].as_str().unwrap_or("?").to_owned())
            .collect()
    };
    let replies = || sim.comments("atomgit-demo", "hello-world", 1).len();
    let steps: [(&str, &str, &dyn Fn() -> bool); 3] = [
        ("alice", "/label bug, help wanted, needs triage", &|| {
            labels().len() == 3
        }),
        ("alice", "/unlabel needs triage", &|| labels().len() == 2),
        ("mallory", "/label wontfix", &|| replies() == 1),
    ];
    for (login, body, done) in steps {
        let comment = events::issue_comment_created("atomgit-demo/hello-world", 1, body)
            .set("/sender/login", login)
            .set("/comment/user/login", login)
            .installation(14);
        let answer = sim.deliver("issue_comment", comment).await?;
        println!("[sim] {login}: {body:?} → {}", answer.status);
        // The command runs after the acknowledgement: wait (at most 10 s) for its effect, so
        // the comments take effect in the order they were written.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!("[sim] labels on atomgit-demo/hello-world#1: {:?}", labels());
    for comment in sim.comments("atomgit-demo", "hello-world", 1) {
        println!("[sim] the bot replied: {}", comment["body"]);
    }
    bot.shutdown().await;
    Ok(())
}
