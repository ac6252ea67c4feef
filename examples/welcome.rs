//! A configurable greeting: when an issue is opened, the bot reads the repository's
//! `.atomgit/welcome.yml` through `ctx.config` (falling back to the owner's `.atomgit`
//! repository, then to built-in defaults) and comments its `message` on the issue, with
//! `{author}`, `{number}` and `{title}` filled in.
//!
//! ```yaml
//! # .atomgit/welcome.yml
//! message: "Hi @{author}, thanks for #{number}! Please add steps to reproduce."
//! ```
//!
//! Run with: cargo run --example welcome
//! Tested by: tests/example_welcome.rs (on `atombot::testing::TestBot`)
//!
//! Offline (no `ATOMGIT_APP_ID`) it starts the local simulator, where `bot-playground` has a
//! `welcome.yml` and `hello-world` has none, opens an issue in each and prints the two
//! greetings. With the `ATOMGIT_*` settings it serves real deliveries on `ATOMBOT_LISTEN`.

use std::time::{Duration, Instant};

use atombot::models::webhook::IssuesEvent;
use atombot::runtime::RuntimeSettings;
use atombot::testing::{Simulator, events};
use atombot::{Bot, Context};
use serde::{Deserialize, Serialize};

/// The greeting used when no `welcome.yml` sets one.
pub(crate) const DEFAULT_MESSAGE: &str =
    "Thanks for opening #{number}, @{author}! A maintainer will take a look soon.";

/// `.atomgit/welcome.yml`; a field the file leaves out keeps its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Welcome {
    /// The comment posted on a new issue; `{author}`, `{number}` and `{title}` are filled in.
    pub(crate) message: String,
}

impl Default for Welcome {
    fn default() -> Self {
        Self {
            message: DEFAULT_MESSAGE.to_owned(),
        }
    }
}

/// `template` with the issue's author, number and title filled in.
pub(crate) fn render(template: &str, author: &str, number: u64, title: &str) -> String {
    template
        .replace("{author}", author)
        .replace("{number}", &number.to_string())
        .replace("{title}", title)
}

async fn greet(ctx: Context) -> atombot::Result<()> {
    let event: IssuesEvent = ctx.payload()?;
    // An invalid file fails this handler (no retries) and is also commented on the issue.
    let welcome: Welcome = ctx.config_or_report("welcome.yml").await?;
    let issue = &event.issue;
    let author = match issue.user.login.as_str() {
        "" => event.sender.login.as_str(),
        login => login,
    };
    ctx.comment(render(&welcome.message, author, issue.number, &issue.title))
        .await?;
    Ok(())
}

/// The bot's handler on `base` (its settings): what `main` serves, and what
/// `tests/example_welcome.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("issues.opened", greet)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        return Ok(bot(Bot::from_env()?).serve().await?);
    }
    let sim = Simulator::builder()
        .issue("atomgit-demo", "bot-playground", 1)
        .file(
            "atomgit-demo",
            "bot-playground",
            ".atomgit/welcome.yml",
            "message: \"Welcome to the playground, @{author}! (#{number}: {title})\"\n",
        )
        .start()
        .await?;
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let bot = bot(Bot::new(sim.app_config()).settings(settings))
        .start()
        .await?;
    sim.set_webhook_url(bot.url("/webhook"));
    for repo in ["hello-world", "bot-playground"] {
        let issue = events::issue_opened(&format!("atomgit-demo/{repo}"), 1, "It crashes");
        let answer = sim.deliver("issues", issue.installation(14)).await?;
        println!("[sim] issues.opened in {repo} → {}", answer.status);
    }
    // The handlers run after the acknowledgement: wait (at most 10 s) for the comments.
    let deadline = Instant::now() + Duration::from_secs(10);
    for repo in ["hello-world", "bot-playground"] {
        while sim.comments("atomgit-demo", repo, 1).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for comment in sim.comments("atomgit-demo", repo, 1) {
            println!("[sim] atomgit-demo/{repo}#1: {}", comment["body"]);
        }
    }
    bot.shutdown().await;
    Ok(())
}
