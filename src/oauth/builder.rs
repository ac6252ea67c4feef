//! [`OAuthBuilder`] and [`OAuth::from_env`]: settings, a token store and a login store in,
//! an [`OAuth`] handle out.

use std::sync::Arc;

#[cfg(feature = "postgres")]
use super::PostgresUserTokenStore;
#[cfg(feature = "redis")]
use super::RedisUserTokenStore;
use super::{
    Inner, LoginStore, MemoryLoginStore, OAuth, OAuthSettings, SqliteUserTokenStore, TokenKey,
    UserTokenStore, env, flow, routes, source, state,
};
use crate::client::Client;
use crate::config::{AppConfig, env as config_env};
use crate::error::{Error, Result};
use crate::settings::{self, QUEUE};

/// The built-in durable stores [`OAuth::from_env`] can pick.
enum StoreScheme {
    Sqlite,
    Redis,
    Postgres,
}

/// Which built-in store `url`'s scheme names, whether or not its feature is on.
fn store_scheme(url: &str) -> Option<StoreScheme> {
    match url.trim().split_once(':')?.0 {
        "sqlite" => Some(StoreScheme::Sqlite),
        "redis" | "rediss" => Some(StoreScheme::Redis),
        "postgres" | "postgresql" => Some(StoreScheme::Postgres),
        _ => None,
    }
}

/// Builds an [`OAuth`] handle; see [`OAuth::builder`].
#[derive(Debug)]
pub struct OAuthBuilder {
    config: AppConfig,
    settings: OAuthSettings,
    store: Option<Arc<dyn UserTokenStore>>,
    logins: Option<Arc<dyn LoginStore>>,
    client: Option<Client>,
}

impl OAuthBuilder {
    pub(super) fn new(config: &AppConfig) -> Self {
        Self {
            config: config.clone(),
            settings: OAuthSettings::default(),
            store: None,
            logins: None,
            client: None,
        }
    }

    /// Replaces the settings (default [`OAuthSettings::default`]).
    pub fn settings(mut self, settings: OAuthSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Where user tokens are kept (required).
    pub fn store(mut self, store: impl UserTokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Like [`store`](Self::store), for a store that is already shared.
    pub fn shared_store(mut self, store: Arc<dyn UserTokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where pending logins and sessions live (default: the token store's
    /// [`login_store`](UserTokenStore::login_store), else a [`MemoryLoginStore`] in this
    /// process).
    pub fn login_store(mut self, store: Arc<dyn LoginStore>) -> Self {
        self.logins = Some(store);
        self
    }

    /// The API client whose stack (timeouts, retries, rate limits) user clients share
    /// (default: one built from the app config).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Checks the settings and builds the handle.
    ///
    /// Fails with [`Error::Config`] naming `ATOMGIT_CLIENT_ID` or `ATOMGIT_CLIENT_SECRET`
    /// when the app config lacks them, or when no store was given.
    pub fn build(self) -> Result<OAuth> {
        let client_id = self
            .config
            .client_id()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| Error::config(config_env::CLIENT_ID, "not set (needed for OAuth)"))?
            .to_owned();
        let secret = self.config.client_secret().cloned().ok_or_else(|| {
            Error::config(config_env::CLIENT_SECRET, "not set (needed for OAuth)")
        })?;
        let store = self.store.ok_or_else(|| {
            Error::config(
                env::STORE,
                "no user-token store (use SqliteUserTokenStore, or MemoryUserTokenStore in tests)",
            )
        })?;
        let redirect = match (&self.settings.redirect_url, self.config.public_url()) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(public)) => Some(format!(
                "{public}{}",
                routes::CALLBACK_PATH.trim_start_matches('/')
            )),
            (None, None) => None,
        };
        let secure = redirect
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
            || self
                .config
                .public_url()
                .is_some_and(|u| u.scheme() == "https");
        let logins = self
            .logins
            .or_else(|| store.login_store())
            .unwrap_or_else(|| {
                Arc::new(MemoryLoginStore::new(
                    self.settings.max_pending_logins,
                    self.settings.state_ttl,
                ))
            });
        let endpoint = flow::Endpoint::new(
            client_id,
            secret,
            self.config.web_url(),
            self.config.api_url(),
            self.settings.timeout,
        )?;
        let api = match self.client {
            Some(client) => client,
            None => Client::builder().app(self.config).build()?,
        };
        Ok(OAuth {
            inner: Arc::new(Inner {
                endpoint,
                api,
                store,
                logins: state::Logins {
                    store: logins,
                    state_ttl: self.settings.state_ttl,
                    session_ttl: self.settings.session_ttl,
                    max_sessions_per_user: self.settings.max_sessions_per_user,
                },
                redirect,
                secure,
                settings: self.settings,
                slots: source::Slots::default(),
            }),
        })
    }
}

impl OAuth {
    /// The durable default from the environment: [`OAuthSettings::from_env`] and a store
    /// keyed by `ATOMBOT_TOKEN_KEY` at `ATOMBOT_OAUTH_STORE`, else at `ATOMBOT_QUEUE` when it
    /// is a `sqlite://`, `redis://` or `postgres://` URL, else at `sqlite://atombot.db`.
    ///
    /// The URL's scheme picks the store: `sqlite://` → [`SqliteUserTokenStore`],
    /// `redis://`/`rediss://` → `RedisUserTokenStore` (feature `redis`),
    /// `postgres://`/`postgresql://` → `PostgresUserTokenStore` (feature `postgres`). The
    /// in-memory store is never picked here (it is neither durable nor encrypted): a
    /// `memory` queue falls back to `sqlite://atombot.db`, and `ATOMBOT_OAUTH_STORE=memory`
    /// is refused; pass a [`MemoryUserTokenStore`](super::MemoryUserTokenStore) to [`OAuthBuilder::store`] in tests.
    ///
    /// Fails with [`Error::Config`] naming the setting at fault (and the cargo feature when
    /// the scheme's is off); without `ATOMBOT_TOKEN_KEY` it refuses to start.
    pub async fn from_env(config: &AppConfig) -> Result<Self> {
        let settings = OAuthSettings::from_env()?;
        let key = TokenKey::from_env()?;
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (setting, url) = match settings::OAUTH_STORE.read_env() {
            Some(url) => (env::STORE, url),
            None => match var(QUEUE.name).filter(|q| store_scheme(q).is_some()) {
                Some(url) => (QUEUE.name, url),
                // The queue's default, which is a SQLite file.
                None => (env::STORE, QUEUE.default.unwrap_or_default().to_owned()),
            },
        };
        let store: Arc<dyn UserTokenStore> = match store_scheme(&url) {
            Some(StoreScheme::Sqlite) => Arc::new(SqliteUserTokenStore::connect(&url, key).await?),
            #[cfg(feature = "redis")]
            Some(StoreScheme::Redis) => Arc::new(RedisUserTokenStore::connect(&url, key).await?),
            #[cfg(feature = "postgres")]
            Some(StoreScheme::Postgres) => {
                Arc::new(PostgresUserTokenStore::connect(&url, key).await?)
            }
            #[cfg(not(feature = "redis"))]
            Some(StoreScheme::Redis) => {
                return Err(Error::config(
                    setting,
                    "a redis:// store needs atombot's `redis` cargo feature, which is off",
                ));
            }
            #[cfg(not(feature = "postgres"))]
            Some(StoreScheme::Postgres) => {
                return Err(Error::config(
                    setting,
                    "a postgres:// store needs atombot's `postgres` cargo feature, which is off",
                ));
            }
            None if url.trim() == "memory" => {
                return Err(Error::config(
                    setting,
                    "`memory` is not a durable store; use sqlite://, redis:// or postgres:// \
                     (or OAuth::builder(..).store(MemoryUserTokenStore::new()) in tests)",
                ));
            }
            None => {
                return Err(Error::config(
                    setting,
                    format!(
                        "unsupported scheme {:?}: use sqlite://, redis:// or postgres://, \
                         or implement UserTokenStore",
                        url.split("://").next().unwrap_or("")
                    ),
                ));
            }
        };
        Self::builder(config)
            .settings(settings)
            .shared_store(store)
            .build()
    }
}
