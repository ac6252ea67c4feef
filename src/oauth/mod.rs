//! User authorization (OAuth): sign users in, keep their `atu_` tokens fresh, act as them.
//!
//! The flow (section 2 of the platform guide): `GET /login` sends the browser to
//! `{web_url}/login/oauth/authorize` with an unguessable `state` bound to the browser by a
//! cookie; `GET /oauth/callback` checks that state, exchanges the `code` at
//! `{api_url}/login/oauth/access_token`, stores the tokens (encrypted, see
//! [`TokenKey`]) and signs the browser in; [`OAuth::user_client`] then calls the API as
//! the user, refreshing the 8-hour token ahead of expiry, once per user at a time.
//!
//! The `redirect_uri` is `{public URL}oauth/callback` ([`AppConfig::public_url`], set with
//! `ATOMBOT_PUBLIC_URL`), never built from a request's `Host`; cookies are `Secure` when it
//! is https. With a Redis or Postgres token store, pending logins and sessions live on
//! that server too ([`LoginStore`]), so any replica can finish a login another started.
//!
//! ```no_run
//! # async fn run() -> atombot::Result<()> {
//! use atombot::oauth::{OAuth, OAuthSettings, SqliteUserTokenStore};
//! use atombot::{AppConfig, Bot};
//!
//! let config = AppConfig::from_env()?; // needs ATOMGIT_CLIENT_ID and ATOMGIT_CLIENT_SECRET
//! // ATOMBOT_TOKEN_KEY=$(openssl rand -base64 32)
//! let store = SqliteUserTokenStore::connect_with_env_key("sqlite://atombot.db").await?;
//! let oauth = OAuth::builder(&config)
//!     .settings(OAuthSettings::from_env()?)
//!     .store(store)
//!     .build()?;
//! let bot = Bot::new(config).oauth(oauth.clone()); // mounts /login, /oauth/callback, /logout
//! // Later, in a page handler that knows the signed-in user:
//! let repos = oauth.user_repos("octo-user").await?;
//! # Ok(()) }
//! ```

mod builder;
mod error;
mod expiry;
#[cfg(feature = "fuzzing")]
pub(crate) use expiry::from_json as expiry_from_json;
mod flow;
mod login;
mod routes;
mod settings;
mod source;
mod state;
mod store;

use std::sync::Arc;

use http::HeaderMap;
use secrecy::SecretString;
use serde_json::Value;

use crate::auth::StaticToken;
use crate::client::Client;
use crate::config::AppConfig;
use crate::error::{Error, Result};
use crate::models::Repository;

#[doc(inline)]
pub use self::{
    builder::OAuthBuilder,
    error::OAuthError,
    expiry::{ExpiryForm, absolute_expiry},
    flow::TokenSet,
    login::{LoginStore, MAX_MEMORY_SESSIONS, MemoryLoginStore},
    settings::{OAuthSettings, env},
    source::UserTokenSource,
    state::StateRejection,
    store::{
        MemoryUserTokenStore, SqliteUserTokenStore, TOKEN_KEY_ENV, TokenKey, UserToken,
        UserTokenStore,
    },
};

#[cfg(feature = "postgres")]
#[doc(inline)]
pub use self::store::PostgresUserTokenStore;
#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::store::{REDIS_LOGIN_PREFIX, REDIS_USER_TOKEN_PREFIX, RedisUserTokenStore};

/// Name of the cookie holding a login's `state` (HttpOnly, SameSite=Lax, path `/oauth`).
pub const STATE_COOKIE: &str = "atombot_oauth_state";
/// Name of the cookie holding the session id (HttpOnly, SameSite=Lax, path `/`).
pub const SESSION_COOKIE: &str = "atombot_session";

/// Shared by every clone of an [`OAuth`] handle.
pub(crate) struct Inner {
    endpoint: flow::Endpoint,
    api: Client,
    store: Arc<dyn UserTokenStore>,
    settings: OAuthSettings,
    logins: state::Logins,
    /// The `redirect_uri`, if a public URL (or callback URL) is configured.
    redirect: Option<String>,
    /// Whether cookies carry `Secure` (the public URL is https).
    secure: bool,
    slots: source::Slots,
}

/// The sign-in flow and the signed-in users' clients. Cheap to clone.
///
/// Build one with [`OAuth::builder`]; mount its routes with [`Bot::oauth`](crate::Bot::oauth)
/// or [`router`](Self::router).
#[derive(Clone)]
pub struct OAuth {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("endpoint", &self.inner.endpoint)
            .field("store", &self.inner.store)
            .field("logins", &self.inner.logins.store)
            .field("redirect", &self.inner.redirect)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// A fresh unguessable `state` (32 bytes from the system CSPRNG, URL-safe base64), for
/// flows outside the built-in routes.
///
/// Fails with [`Error::Config`] only if the system random number generator fails.
pub fn random_state() -> Result<String> {
    state::random_token().ok_or_else(|| Error::config("rng", "the system RNG failed"))
}

impl OAuth {
    /// Starts a builder for this app; its config must carry the OAuth client id and secret.
    pub fn builder(config: &AppConfig) -> OAuthBuilder {
        OAuthBuilder::new(config)
    }

    /// The settings in use.
    pub fn settings(&self) -> &OAuthSettings {
        &self.inner.settings
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn UserTokenStore> {
        &self.inner.store
    }

    /// The authorize page URL for `state` and `redirect_uri` (for flows outside the
    /// built-in routes, such as a terminal login).
    pub fn authorize_url(&self, state: &str, redirect_uri: &str) -> String {
        self.inner.endpoint.authorize_url(state, redirect_uri)
    }

    /// Exchanges an authorization `code` (one attempt, never retried), asks the API whose
    /// token it is, stores the tokens and returns them.
    ///
    /// Fails with [`OAuthError::Exchange`] when the platform refuses the code.
    pub async fn sign_in(&self, code: &str) -> Result<UserToken> {
        let set = self
            .inner
            .endpoint
            .exchange(code)
            .await
            .map_err(|e| match e {
                flow::Refused::Rejected { status, message } => {
                    Error::from(OAuthError::Exchange { status, message })
                }
                flow::Refused::Other(e) => e,
            })?;
        let user = self.whoami(&set.access_token).await?;
        let token = UserToken {
            user,
            access_token: set.access_token,
            expires_at: set.expires_at,
            refresh_token: set.refresh_token,
            refresh_expires_at: set.refresh_expires_at,
        };
        self.inner.store.put(&token).await?;
        tracing::info!(user = %token.user, expires_at = %token.expires_at, "user signed in");
        Ok(token)
    }

    async fn whoami(&self, token: &SecretString) -> Result<String> {
        use secrecy::ExposeSecret;
        let source = Arc::new(StaticToken::new(token.expose_secret(), "oauth-sign-in"));
        let info: Value = self
            .inner
            .api
            .with_token_source(source)
            .get::<_, ()>(&self.inner.settings.user_info_path, None)
            .await?;
        // The login (GitLab-shaped siblings: `username`), never the display name `name`,
        // which users choose freely and which may spell someone else's login.
        ["login", "username"]
            .iter()
            .find_map(|k| info.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                OAuthError::TokenResponse(format!(
                    "{} names no `login` (a display name is not an identity)",
                    self.inner.settings.user_info_path
                ))
                .into()
            })
    }

    /// Refreshes `user`'s access token now, whatever its expiry.
    ///
    /// Fails with [`OAuthError::SignInAgain`] (the record removed) when the refresh token
    /// is missing, expired or refused.
    pub async fn refresh(&self, user: &str) -> Result<UserToken> {
        self.inner.force_refresh(user).await
    }

    /// `user`'s current access token, refreshed first if it is within the margin.
    pub async fn access_token(&self, user: &str) -> Result<SecretString> {
        self.inner.access_token(user).await
    }

    /// A client that acts as `user` with their `atu_` token (refreshed as needed).
    ///
    /// Fails with [`OAuthError::SignInAgain`] when the user has no stored authorization.
    pub async fn user_client(&self, user: &str) -> Result<Client> {
        if self.inner.store.get(user).await?.is_none() {
            return Err(OAuthError::sign_in_again(user, "not signed in").into());
        }
        Ok(self.user_client_unchecked(user))
    }

    /// Like [`user_client`](Self::user_client) without checking the store first (calls
    /// fail with [`OAuthError::SignInAgain`] instead).
    pub fn user_client_unchecked(&self, user: &str) -> Client {
        let source = UserTokenSource::new(user.to_owned(), self.inner.clone());
        self.inner.api.with_token_source(Arc::new(source))
    }

    /// The repositories of `user`'s personal space, as `user` (`GET /user/{user}/repos`).
    pub async fn user_repos(&self, user: &str) -> Result<Vec<Repository>> {
        self.user_client(user)
            .await?
            .repos()
            .list_user(user)
            .all()
            .await
    }

    /// The user signed in with this request's session cookie, if any.
    ///
    /// Fails with [`OAuthError::Store`] when the login store cannot be read.
    pub async fn session_user(&self, headers: &HeaderMap) -> Result<Option<String>> {
        match state::cookie(headers, SESSION_COOKIE) {
            Some(id) if !id.is_empty() => self.inner.logins.user(id).await,
            _ => Ok(None),
        }
    }

    /// Deletes `user`'s stored tokens and ends their sessions; resolves to whether there
    /// were tokens.
    pub async fn sign_out(&self, user: &str) -> Result<bool> {
        self.inner.logins.end_user(user).await?;
        self.inner.store.remove(user).await
    }

    /// The `redirect_uri` the built-in routes send (`{public URL}oauth/callback`, or the
    /// configured callback URL); `None` when neither is configured, and `/login` refuses.
    pub fn redirect_uri(&self) -> Option<&str> {
        self.inner.redirect.as_deref()
    }

    /// The routes `GET /login`, `GET /oauth/callback` and `POST /logout`.
    ///
    /// Logs a warning when no public URL is configured: `/login` then refuses to start a
    /// login rather than trust the request's `Host` header.
    pub fn router(&self) -> axum::Router {
        if self.inner.redirect.is_none() {
            tracing::warn!(
                setting = crate::config::env::PUBLIC_URL,
                "OAuth routes mounted without a public URL: /login will refuse until it is set"
            );
        }
        routes::router(self.clone())
    }
}
