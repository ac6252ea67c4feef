//! Shared by the `oauth_*` tests: a simulator, a bot with the OAuth routes and a page that
//! lists the signed-in user's repositories, and a cookie-keeping HTTP client.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use atombot::oauth::{MemoryUserTokenStore, OAuth, OAuthSettings, UserTokenStore};
use atombot::testing::Simulator;
use atombot::{AppConfig, Bot};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::HeaderMap;

pub const USER: &str = "octo-user";

/// A running simulator and bot.
pub struct Setup {
    pub sim: Simulator,
    pub oauth: OAuth,
    pub base: String,
    pub config: AppConfig,
}

impl Setup {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> usize {
        self.sim.requests_to("/login/oauth/access_token").len()
    }
}

async fn home(State(oauth): State<OAuth>, headers: HeaderMap) -> Response {
    let Some(user) = oauth.session_user(&headers) else {
        return Html("not signed in").into_response();
    };
    match oauth.user_repos(&user).await {
        Ok(repos) => {
            let names: Vec<String> = repos.iter().map(|r| r.full_name.clone()).collect();
            Html(format!("signed in as {user}: {}", names.join(", "))).into_response()
        }
        Err(e) => Html(format!("error: {e}")).into_response(),
    }
}

/// Starts everything with the in-memory store and default settings.
pub async fn start() -> Setup {
    start_with(
        OAuthSettings::default(),
        Arc::new(MemoryUserTokenStore::new()),
    )
    .await
}

/// Starts a simulator seeded with two repositories of [`USER`] and a bot serving the OAuth
/// routes plus `/` (the signed-in user's repositories).
pub async fn start_with(settings: OAuthSettings, store: Arc<dyn UserTokenStore>) -> Setup {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo(USER, "dotfiles");
    sim.add_user_repo(USER, "rust-playground");
    sim.add_user_repo("someone-else", "private-notes");
    let config = sim.app_config();
    let oauth = OAuth::builder(&config)
        .settings(settings)
        .shared_store(store)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The job queue lives in memory here; the bot's default is a SQLite file.
    let queue = atombot::runtime::RuntimeSettings::from_lookup(|k| {
        (k == "ATOMBOT_QUEUE").then(|| "memory".to_owned())
    })
    .unwrap();
    let app = Bot::new(config.clone())
        .settings(queue)
        .oauth(oauth.clone())
        .into_router()
        .await
        .unwrap()
        .merge(
            axum::Router::new()
                .route("/", get(home))
                .with_state(oauth.clone()),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Setup {
        sim,
        oauth,
        base: format!("http://{addr}"),
        config,
    }
}

/// A browser-like client: keeps cookies, follows redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A browser-like client that keeps cookies but does not follow redirects.
pub fn manual_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Runs the whole login in `browser`; returns the final page's status and text.
pub async fn sign_in(setup: &Setup, browser: &reqwest::Client) -> (u16, String) {
    let resp = browser.get(setup.url("/login")).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The `Location` of a redirect.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Follows login → authorize by hand; returns the callback URL the simulator redirected to.
pub async fn callback_url(setup: &Setup, browser: &reqwest::Client) -> String {
    let login = browser.get(setup.url("/login")).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 303, "GET /login redirects");
    let authorize = location(&login);
    let approved = browser.get(&authorize).send().await.unwrap();
    assert!(approved.status().is_redirection());
    location(&approved)
}
