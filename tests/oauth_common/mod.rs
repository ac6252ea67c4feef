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
    let user = match oauth.session_user(&headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return Html("not signed in").into_response(),
        Err(e) => return Html(format!("session error: {e}")).into_response(),
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
/// routes plus `/` (the signed-in user's repositories), whose public URL is its loopback
/// address.
pub async fn start_with(settings: OAuthSettings, store: Arc<dyn UserTokenStore>) -> Setup {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo(USER, "dotfiles");
    sim.add_user_repo(USER, "rust-playground");
    sim.add_user_repo("someone-else", "private-notes");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (oauth, config) = serve(
        &sim,
        listener,
        &[("ATOMBOT_PUBLIC_URL", base.clone())],
        settings,
        store,
    )
    .await;
    Setup {
        sim,
        oauth,
        base,
        config,
    }
}

/// Serves a bot (OAuth routes plus `/`) for `sim` on `listener`, its config read from the
/// simulator's environment plus `extra`; returns its OAuth handle and config.
pub async fn serve(
    sim: &Simulator,
    listener: tokio::net::TcpListener,
    extra: &[(&str, String)],
    settings: OAuthSettings,
    store: Arc<dyn UserTokenStore>,
) -> (OAuth, AppConfig) {
    let mut vars: std::collections::HashMap<String, String> = sim
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), v.clone());
    }
    let config = AppConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let oauth = OAuth::builder(&config)
        .settings(settings)
        .shared_store(store)
        .build()
        .unwrap();
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
    (oauth, config)
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

/// The `Set-Cookie` header of `resp` that sets cookie `name`.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value a `Set-Cookie` header sets.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// Query parameter `name` of `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with its scheme, host and port replaced by those of `base` (what a load balancer
/// or a TLS-terminating proxy in front of the bot does).
pub fn rebase(url: &str, base: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let mut out = url::Url::parse(base).unwrap();
    out.set_path(url.path());
    out.set_query(url.query());
    out.into()
}
