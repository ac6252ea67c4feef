//! Commands that act as the app: `jwt`, `installations`, `token`, `repos`.

use anyhow::Context as _;
use secrecy::ExposeSecret;

use atombot::App;

use crate::Command;

/// Runs one app command against the configured platform.
pub(crate) async fn run(app: App, command: Command) -> anyhow::Result<()> {
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
        // The other commands are dispatched in `main`; which exist depends on features.
        _ => anyhow::bail!("this command does not act as the app"),
    }
    Ok(())
}
