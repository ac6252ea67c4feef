//! Where signed-in users' tokens live: the [`UserTokenStore`] trait, an in-memory store for
//! tests, a durable SQLite store and, for bots running as several replicas, Redis (feature
//! `redis`) and Postgres (feature `postgres`) stores. The durable stores encrypt every token
//! with [`TokenKey`], bound to its user and column.
//!
//! Another backend implements the three methods of the trait; it must encrypt tokens the
//! same way (see [`TokenKey`]).

mod crypto;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod sealed;
mod sqlite;

use std::fmt;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use secrecy::SecretString;

use crate::error::Result;

#[doc(inline)]
pub use self::{
    crypto::{TOKEN_KEY_ENV, TokenKey},
    memory::MemoryUserTokenStore,
    sqlite::SqliteUserTokenStore,
};

#[cfg(feature = "postgres")]
#[doc(inline)]
pub use self::postgres::PostgresUserTokenStore;
#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::redis::{REDIS_USER_TOKEN_PREFIX, RedisUserTokenStore};

/// One signed-in user's tokens, with absolute expiry instants.
///
/// Its `Debug` output never shows a token.
#[derive(Clone)]
pub struct UserToken {
    /// The user's login (the key of the store).
    pub user: String,
    /// The `atu_` access token.
    pub access_token: SecretString,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The refresh token, if the platform issued one.
    pub refresh_token: Option<SecretString>,
    /// When the refresh token expires, if the platform said.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserToken")
            .field("user", &self.user)
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// Storage for [`UserToken`]s, keyed by user login.
///
/// Implementations must be safe to share between tasks; the OAuth layer serialises
/// refreshes per user itself, so a store needs no locking beyond its own consistency.
pub trait UserTokenStore: fmt::Debug + Send + Sync + 'static {
    /// The stored tokens of `user`, if any.
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>>;

    /// Stores (inserts or replaces) `token.user`'s tokens.
    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>>;

    /// Deletes `user`'s tokens; resolves to whether there were any.
    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>>;
}
