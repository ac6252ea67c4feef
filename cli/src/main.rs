//! The `atombot` command: inspect an AtomGit App from the shell, run the local simulator,
//! send a signed webhook delivery to a bot, or relay the platform's deliveries to a laptop
//! (`atombot relay` on a public host, `atombot forward` next to the bot).
//!
//! Reads the same `ATOMGIT_*` environment as a bot. Tokens and the webhook secret are never
//! printed unless `--show-token` is given (tokens only).

mod app;
mod deliveries;
mod forward;
mod jobs;
mod new;
mod oauth;
mod relay;
mod send;
#[cfg(feature = "sim")]
mod sim;

use clap::{Parser, Subcommand};

use atombot::{App, AppConfig};

#[derive(Debug, Parser)]
#[command(name = "atombot", version, about = "AtomGit App tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a freshly signed app JWT (valid 10 minutes).
    Jwt,
    /// List the app's installations.
    Installations,
    /// Mint an installation access token and print its expiry.
    Token {
        /// Installation id.
        id: u64,
        /// Also print the token itself.
        #[arg(long)]
        show_token: bool,
    },
    /// List an organisation's repositories through an installation token.
    Repos {
        /// Organisation path.
        #[arg(long)]
        org: String,
        /// Installation to act as (default: the one installed on the organisation).
        #[arg(long)]
        installation: Option<u64>,
    },
    /// Run the local AtomGit simulator until Ctrl-C.
    #[cfg(feature = "sim")]
    Sim(sim::SimArgs),
    /// Send one webhook delivery signed with $ATOMGIT_WEBHOOK_SECRET.
    Send(send::SendArgs),
    /// Inspect the job queue ($ATOMBOT_QUEUE): failed jobs, re-queue, stats.
    Jobs(jobs::JobsArgs),
    /// Sign a user in with OAuth (`atombot oauth login`).
    #[command(name = "oauth")]
    OAuth(oauth::OAuthArgs),
    /// Keep webhook deliveries on a public host for `atombot forward` (a self-hosted smee.io).
    ///
    /// The platform posts to `/deliveries/<channel>`; forwarders holding the token stream
    /// them from the same URL (server-sent events) and resume where they stopped.
    Relay(relay::RelayArgs),
    /// The delivery log ($ATOMBOT_QUEUE): list, show, replay, export.
    Deliveries(deliveries::DeliveriesArgs),
    /// Stream a relay channel's deliveries to a local bot.
    ///
    /// Same headers, exact bodies (signatures still verify), in order; reconnects and resumes
    /// after the last delivery handled, retries while the bot is down or answers 5xx.
    Forward(forward::ForwardArgs),
    /// Create a new bot crate: a handler, its test, every setting, a README.
    New(new::NewArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::run(args).await,
        Command::Send(args) => send::run(args).await,
        Command::Jobs(args) => jobs::run(args).await,
        Command::Deliveries(args) => deliveries::run(args).await,
        Command::OAuth(args) => oauth::run(args).await,
        Command::Relay(args) => relay::run(args).await,
        Command::Forward(args) => forward::run(args).await,
        Command::New(args) => new::run(args),
        command => {
            let app = App::new(AppConfig::from_env()?)?;
            app::run(app, command).await
        }
    }
}
