//! Lists the repositories of every organisation the app is installed on, through each
//! installation's `ats_` token.
//!
//! Run with: cargo run --example repo-lister
//!
//! With `ATOMGIT_APP_ID` unset it starts the local AtomGit simulator and works offline;
//! with `ATOMGIT_APP_ID`, `ATOMGIT_PRIVATE_KEY_PATH` (and `ATOMGIT_API_URL` for another
//! host) set, it asks the real platform.

use atombot::{App, AppConfig};

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
    let app = App::new(config)?;

    for installation in app.installations().await? {
        let account = &installation.account.path;
        println!("installation {} on {account}", installation.id);
        let client = app.installation_client(installation.id);
        match client.repos().list_org(account).all().await {
            Ok(repos) => {
                for repo in repos {
                    println!("  {}", repo.full_name);
                }
            }
            // A personal-space installation has no organisation repositories.
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => {
                println!("  (not an organisation)");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
