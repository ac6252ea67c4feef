//! Sign a user in with OAuth and list their repositories with their own `atu_` token.
//!
//! Run with: cargo run --example oauth-login
//! Tested by: tests/example_oauth_login.rs (on `TestBot`), tests/oauth_browser.rs (Chromium)
//!
//! Offline (no `ATOMGIT_APP_ID`): starts the local AtomGit simulator, whose authorize page
//! approves at once, serves the bot on 127.0.0.1 and prints the URL to open. After the
//! sign-in, `/` lists the user's repositories. `ATOMBOT_EXAMPLE_EXIT_AFTER=<secs>` stops it
//! after that long (for tests); otherwise it runs until Ctrl-C.
//!
//! Online: set the `ATOMGIT_*` variables (with `ATOMGIT_CLIENT_ID`/`ATOMGIT_CLIENT_SECRET`),
//! `ATOMBOT_TOKEN_KEY` (`openssl rand -base64 32`) and `ATOMBOT_PUBLIC_URL` (the address
//! browsers reach the bot at, e.g. `https://bot.example.com`), and register
//! `<ATOMBOT_PUBLIC_URL>/oauth/callback` as the app's callback URL.

use std::time::Duration;

use atombot::oauth::{MemoryUserTokenStore, OAuth};
use atombot::testing::Simulator;
use atombot::{AppConfig, Bot};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use http::HeaderMap;

/// `/`: the signed-in user's repositories, or a link to sign in.
async fn home(State(oauth): State<OAuth>, headers: HeaderMap) -> Response {
    let user = match oauth.session_user(&headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Html("<h1>atombot</h1><p><a href=\"/login\">Sign in with AtomGit</a></p>")
                .into_response();
        }
        Err(e) => {
            return Html(format!("<h1>Error</h1><p>{}</p>", escape(&e.to_string())))
                .into_response();
        }
    };
    match oauth.user_repos(&user).await {
        Ok(repos) => {
            let items: String = repos
                .iter()
                .map(|r| format!("<li class=\"repo\">{}</li>", escape(&r.full_name)))
                .collect();
            Html(format!(
                "<h1>Repositories of {}</h1><ul id=\"repos\">{items}</ul>\
                 <form method=\"post\" action=\"/logout\"><button>Sign out</button></form>",
                escape(&user)
            ))
            .into_response()
        }
        Err(e) if e.is_sign_in_again() => Redirect::to("/login").into_response(),
        Err(e) => Html(format!("<h1>Error</h1><p>{}</p>", escape(&e.to_string()))).into_response(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The bot: sign-in routes plus the `/` page; what `main` serves and what
/// `tests/example_oauth_login.rs` runs on `TestBot`.
pub(crate) fn bot(config: AppConfig, oauth: OAuth) -> Bot {
    Bot::new(config)
        .oauth(oauth.clone())
        .merge(axum::Router::new().route("/", get(home)).with_state(oauth))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atombot::runtime::init_logging(atombot::runtime::LogFormat::Human);
    let online = std::env::var_os("ATOMGIT_APP_ID").is_some();
    // Offline: a simulator with a user who has two repositories.
    let sim = if online {
        None
    } else {
        let sim = Simulator::start().await?;
        sim.add_user_repo("octo-user", "dotfiles");
        sim.add_user_repo("octo-user", "rust-playground");
        println!("[sim] local AtomGit at {}", sim.web_url());
        Some(sim)
    };
    let listen = std::env::var("ATOMBOT_LISTEN").unwrap_or_else(|_| {
        if online {
            "127.0.0.1:3000"
        } else {
            "127.0.0.1:0"
        }
        .to_owned()
    });
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    let (config, oauth) = match &sim {
        Some(sim) => {
            // The bot's public URL is its loopback address here; the callback is built from it.
            let mut env = sim.env();
            env.push((atombot::config::env::PUBLIC_URL, format!("http://{addr}")));
            let config = AppConfig::from_lookup(|k| {
                env.iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.clone())
            })?;
            let oauth = OAuth::builder(&config)
                .store(MemoryUserTokenStore::new())
                .build()?;
            (config, oauth)
        }
        None => {
            let config = AppConfig::from_env()?;
            let oauth = OAuth::from_env(&config).await?;
            (config, oauth)
        }
    };
    let app = bot(config, oauth).into_router().await?;
    println!("[bot] open http://{addr}/login in a browser");

    let stop = async {
        match std::env::var("ATOMBOT_EXAMPLE_EXIT_AFTER")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => atombot::runtime::shutdown_signal().await,
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    println!("[bot] stopped");
    Ok(())
}
