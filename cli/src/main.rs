//! The `atombot` command: inspect an AtomGit App from the shell, or run the local simulator.
//!
//! Reads the same `ATOMGIT_*` environment as a bot. Tokens are never printed unless
//! `--show-token` is given.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

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
    Sim {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Sim { port } => sim(port).await,
        command => {
            let app = App::new(AppConfig::from_env()?)?;
            run(app, command).await
        }
    }
}

async fn run(app: App, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Jwt => {
            let jwt = atombot::auth::AppJwt::new(
                app.config().app_id(),
                app.config().private_key().clone(),
            );
            println!("{}", jwt.current()?.expose_secret());
        }
        Command::Installations => {
            for i in app.installations().await? {
                println!(
                    "{}\t{}\t{}\tevents={}",
                    i.id,
                    i.account.path,
                    i.repository_selection,
                    i.events.join(",")
                );
            }
        }
        Command::Token { id, show_token } => {
            let token = app.create_installation_token(id).await?;
            println!("installation {id}: token expires at {}", token.expires_at);
            if show_token {
                println!("{}", token.token.expose_secret());
            }
        }
        Command::Repos { org, installation } => {
            let id = match installation {
                Some(id) => id,
                None => app
                    .installations()
                    .await?
                    .into_iter()
                    .find(|i| i.account.path == org)
                    .map(|i| i.id.0)
                    .with_context(|| format!("the app is not installed on {org}"))?,
            };
            let repos = app
                .installation_client(id)
                .repos()
                .list_org(&org)
                .all()
                .await?;
            for repo in repos {
                println!("{}", repo.full_name);
            }
        }
        Command::Sim { .. } => anyhow::bail!("the simulator is started by main"),
    }
    Ok(())
}

async fn sim(port: u16) -> anyhow::Result<()> {
    let sim = atombot::testing::Simulator::builder()
        .port(port)
        .start()
        .await
        .context("cannot start the simulator")?;
    println!("AtomGit simulator listening on {}", sim.url());
    println!();
    println!("Point a bot at it with:");
    for (name, value) in sim.env() {
        println!("  export {name}='{value}'");
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
