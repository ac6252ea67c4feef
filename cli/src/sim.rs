//! `atombot sim`: the local AtomGit simulator, optionally firing one sample delivery.

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use atombot::testing::{DeliveryOptions, Simulator, events};

/// Arguments of `atombot sim`.
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The bot's webhook URL, for `--send`.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// Send one sample delivery to `--webhook-url` after starting.
    #[arg(long, value_enum, requires = "webhook_url")]
    send: Option<Sample>,
}

/// Sample deliveries (GitHub-shaped on `atomgit-demo/hello-world`, or GitLab-shaped captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Sample {
    /// `push` to `main`.
    Push,
    /// `issues` opened (#1).
    Issues,
    /// `issue_comment` created on #1.
    IssueComment,
    /// `pull_request` opened (#2).
    PullRequest,
    /// `installation` created (installation 14 on `atomgit-demo`).
    Installation,
    /// Captured `Push Hook`, GitCode headers.
    GitlabPush,
    /// Captured `Merge Request Hook` (open), GitCode headers.
    GitlabMr,
    /// Captured `Note Hook` on an issue, GitCode headers.
    GitlabNote,
}

impl Sample {
    /// The payload and the headers it is sent with.
    fn build(self) -> (events::Payload, DeliveryOptions) {
        const REPO: &str = "atomgit-demo/hello-world";
        let atomgit = DeliveryOptions::new();
        let gitcode = DeliveryOptions::gitcode();
        match self {
            Self::Push => (events::push(REPO), atomgit),
            Self::Issues => (
                events::issue_opened(REPO, 1, "Hello from the simulator"),
                atomgit,
            ),
            Self::IssueComment => (
                events::issue_comment_created(REPO, 1, "Hello from the simulator"),
                atomgit,
            ),
            Self::PullRequest => (
                events::pull_request_opened(REPO, 2, "Hello from the simulator"),
                atomgit,
            ),
            Self::Installation => (events::installation_created(14, "atomgit-demo"), atomgit),
            Self::GitlabPush => (events::gitlab_push(), gitcode),
            Self::GitlabMr => (events::gitlab_merge_request_open(), gitcode),
            Self::GitlabNote => (events::gitlab_note_on_issue(), gitcode),
        }
    }
}

/// Starts the simulator, prints its environment, sends the sample, waits for Ctrl-C.
pub(crate) async fn run(args: SimArgs) -> anyhow::Result<()> {
    let mut builder = Simulator::builder().port(args.port);
    if let Some(url) = &args.webhook_url {
        builder = builder.webhook_url(url);
    }
    let sim = builder
        .start()
        .await
        .context("cannot start the simulator")?;
    println!("AtomGit simulator listening on {}", sim.url());
    println!();
    println!("Point a bot at it with:");
    for (name, value) in sim.env() {
        println!("  export {name}='{value}'");
    }
    match sim.webhook_url() {
        Some(url) => println!("\nWebhook deliveries go to {url}"),
        None => println!("\nNo webhook URL set (--webhook-url); no deliveries are sent"),
    }

    if let Some(sample) = args.send {
        let (payload, options) = sample.build();
        match sim.deliver_with(payload.event(), &payload, &options).await {
            Ok(answer) => println!(
                "sent {} (delivery {}): HTTP {} {}",
                payload.event(),
                answer.delivery_id,
                answer.status,
                answer.body
            ),
            Err(error) => eprintln!("could not send {}: {error}", payload.event()),
        }
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
