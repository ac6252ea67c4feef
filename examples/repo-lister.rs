//! Lists the repositories of every organisation the app is installed on, through each
//! installation's `ats_` token.
//!
//! Run with: cargo run --example repo-lister
//! Tested by: tests/example_repo_lister.rs (the binary, and its bot on `TestBot`)
//!
//! The same listing also runs as a bot, `cargo run --example repo-lister -- --serve`:
//! [`bot`] lists a new installation's repositories when the app is installed
//! (`installation.created`).
//!
//! With `ATOMGIT_APP_ID` unset it starts the local AtomGit simulator and works offline;
//! with `ATOMGIT_APP_ID`, `ATOMGIT_PRIVATE_KEY_PATH` (and `ATOMGIT_API_URL` for another
//! host) set, it asks the real platform.

use atombot::models::webhook::InstallationEvent;
use atombot::{App, AppConfig, Bot, Client, Context};

/// The repositories of organisation `account`, through `client` (an installation's); none
/// for a personal space, which has no organisation repositories.
pub(crate) async fn repositories(client: &Client, account: &str) -> atombot::Result<Vec<String>> {
    match client.repos().list_org(account).all().await {
        Ok(repos) => Ok(repos.into_iter().map(|r| r.full_name).collect()),
        Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// When the app is installed: list what the new installation can see, with its token.
async fn on_installed(ctx: Context) -> atombot::Result<()> {
    let event: InstallationEvent = ctx.payload()?;
    let account = &event.installation.account.path;
    let names = repositories(ctx.client(), account).await?;
    println!("installed on {account}: {}", names.join(", "));
    Ok(())
}

/// The listing as a bot on `base` (its settings), run by `tests/example_repo_lister.rs` on
/// `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("installation.created", on_installed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    // Offline unless the app's identity is configured.
    let (_sim, config) = if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        (None, AppConfig::from_env()?)
    } else {
        let sim = atombot::testing::Simulator::start().await?;
        println!(
            "no ATOMGIT_APP_ID: using the local simulator at {}",
            sim.url()
        );
        let config = sim.app_config();
        (Some(sim), config)
    };
    if std::env::args().any(|a| a == "--serve") {
        let settings = atombot::runtime::RuntimeSettings::from_env()?;
        return Ok(bot(Bot::new(config).settings(settings)).serve().await?);
    }
    let app = App::new(config)?;

    for installation in app.installations().await? {
        let account = &installation.account.path;
        println!("installation {} on {account}", installation.id);
        let client = app.installation_client(installation.id);
        let names = repositories(&client, account).await?;
        if names.is_empty() {
            println!("  (no organisation repositories)");
        }
        for name in names {
            println!("  {name}");
        }
    }
    Ok(())
}
