//! [`ClientBuilder`]: settings in, layered [`Client`] out.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};

use super::api::installations::AppMinter;
use super::{BoxService, Client, Shared, layers, transport::Transport};
use crate::auth::{AppJwt, InstallationTokens, TokenCacheConfig, TokenSource};
use crate::config::paths::ApiPaths;
use crate::config::{self, AppConfig};
use crate::error::{Error, Result};

/// Builds a [`Client`].
///
/// ```no_run
/// # fn run() -> atombot::Result<()> {
/// use std::time::Duration;
/// use atombot::{AppConfig, Client};
///
/// let client = Client::builder()
///     .app(AppConfig::from_env()?)
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// let installation = client.installation(14);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    app: Option<AppConfig>,
    base_url: Option<String>,
    api_version: Option<String>,
    user_agent: Option<String>,
    token: Option<Arc<dyn TokenSource>>,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry: Option<Arc<dyn layers::RetryPolicy>>,
    rate_limit: Option<layers::RateLimitConfig>,
    token_cache: Option<TokenCacheConfig>,
    http: Option<reqwest::Client>,
    observer: Option<layers::ResponseObserver>,
    paths: Option<ApiPaths>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("app", &self.app)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Authenticates as this app (JWT, installation tokens) and takes its API URL and
    /// version from it.
    pub fn app(mut self, config: AppConfig) -> Self {
        self.app = Some(config);
        self
    }

    /// Overrides the API base URL (default: the app's, else `https://api.atomgit.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Overrides the `X-Api-Version` header.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// Overrides the `User-Agent` header (default `atombot/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Authenticates the built client with `source` instead of the app JWT.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.token = Some(source);
        self
    }

    /// Bounds each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Bounds a whole call — pacing and rate-limit waits, token mint, every retry — after
    /// which it fails with [`Error::Timeout`] (default 120 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Replaces the retry policy (default [`layers::DefaultRetryPolicy`]).
    pub fn retry_policy(mut self, policy: impl layers::RetryPolicy) -> Self {
        self.retry = Some(Arc::new(policy));
        self
    }

    /// Sets the client-side pacing (default: 10 requests/s and 5,000/h per token).
    pub fn rate_limit(mut self, config: layers::RateLimitConfig) -> Self {
        self.rate_limit = Some(config);
        self
    }

    /// Sets the installation-token cache's margin and capacity.
    pub fn token_cache(mut self, config: TokenCacheConfig) -> Self {
        self.token_cache = Some(config);
        self
    }

    /// Uses this reqwest client (proxies, TLS roots, ...).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Chooses path families and overrides paths (default: the app's
    /// [`AppConfig::api_paths`], else each endpoint's default; see
    /// [`paths`](crate::config::paths)).
    pub fn api_paths(mut self, paths: ApiPaths) -> Self {
        self.paths = Some(paths);
        self
    }

    /// Reports every request's method and final status to `observer` (metrics).
    pub fn observe(mut self, observer: layers::ResponseObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Builds the client.
    ///
    /// Fails with [`Error::Config`] for an invalid URL, version or user agent.
    pub fn build(self) -> Result<Client> {
        let base_url = match (&self.base_url, &self.app) {
            (Some(url), _) => config::parse_url(url, config::env::API_URL)?,
            (None, Some(app)) => app.api_url().clone(),
            (None, None) => config::parse_url(config::DEFAULT_API_URL, config::env::API_URL)?,
        };
        let version = self
            .api_version
            .or_else(|| self.app.as_ref().map(|a| a.api_version().to_owned()))
            .unwrap_or_else(|| config::DEFAULT_API_VERSION.to_owned());
        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("atombot/", env!("CARGO_PKG_VERSION")).to_owned());
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-api-version",
            HeaderValue::try_from(version)
                .map_err(|_| Error::config(config::env::API_VERSION, "not a valid header value"))?,
        );
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::try_from(agent)
                .map_err(|_| Error::config("user_agent", "not a valid header value"))?,
        );
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );

        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .build()
                .map_err(|e| Error::config("http_client", e.to_string()))?,
        };
        let paths = self
            .paths
            .or_else(|| self.app.as_ref().map(|a| a.api_paths().clone()))
            .unwrap_or_default();
        let base_path = base_url.path().to_owned();
        let limiter = Arc::new(layers::RateLimiter::new(
            self.rate_limit.unwrap_or_default(),
        ));
        let base = BoxService::new(
            tower::ServiceBuilder::new()
                .layer(layers::RateLimitLayer::new(limiter.clone()))
                .layer(layers::TimeoutLayer::new(
                    self.timeout.unwrap_or(Duration::from_secs(30)),
                ))
                .layer(layers::BaseUriLayer::new(base_url))
                .layer(layers::ExtraHeadersLayer::new(headers))
                .service(Transport::new(http)),
        );
        let retry = self
            .retry
            .unwrap_or_else(|| Arc::new(layers::DefaultRetryPolicy::default()));
        let mut shared = Shared {
            base,
            retry,
            deadline: self.deadline.unwrap_or(DEFAULT_DEADLINE),
            limiter,
            jwt: None,
            tokens: None,
            observer: self.observer,
            paths,
            base_path,
            bot_login: self
                .app
                .as_ref()
                .and_then(|a| a.bot_login().map(str::to_owned)),
        };
        if let Some(app) = &self.app {
            let jwt = Arc::new(AppJwt::new(app.app_id(), app.private_key().clone()));
            // The minter's client shares the stack but not the cache, so nothing cycles.
            let minter_client = Client::with_auth(
                Arc::new(Shared {
                    jwt: Some(jwt.clone()),
                    tokens: None,
                    ..shared.clone_stack()
                }),
                Some(jwt.clone()),
            );
            shared.tokens = Some(InstallationTokens::new(
                AppMinter::new(minter_client),
                self.token_cache.unwrap_or_default(),
            ));
            shared.jwt = Some(jwt);
        }
        let auth = self
            .token
            .or_else(|| shared.jwt.clone().map(|j| j as Arc<dyn TokenSource>));
        Ok(Client::with_auth(Arc::new(shared), auth))
    }
}

/// How long a whole call may take by default.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

impl Shared {
    fn clone_stack(&self) -> Shared {
        Shared {
            base: self.base.clone(),
            retry: self.retry.clone(),
            deadline: self.deadline,
            limiter: self.limiter.clone(),
            jwt: None,
            tokens: None,
            observer: self.observer.clone(),
            paths: self.paths.clone(),
            base_path: self.base_path.clone(),
            bot_login: self.bot_login.clone(),
        }
    }
}
