//! Where signed-in users' tokens live: the [`UserTokenStore`] trait, an in-memory store for
//! tests, a durable SQLite store and, for bots running as several replicas, Redis (feature
//! `redis`) and Postgres (feature `postgres`) stores. The durable stores encrypt every token
//! with [`TokenKey`], bound to its user and column.
//!
//! Another backend implements the methods of the trait; it must encrypt tokens the same way
//! (see [`TokenKey`]). The Redis and Postgres stores also keep pending logins and sessions
//! ([`UserTokenStore::login_store`]) so that every replica sees them.

mod crypto;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_login;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod redis_login;
mod sealed;
mod sql;
mod sqlite;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use secrecy::SecretString;

use super::LoginStore;
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
pub use self::redis::{REDIS_LOGIN_PREFIX, REDIS_USER_TOKEN_PREFIX, RedisUserTokenStore};

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
/// Implementations must be safe to share between tasks and replicas. The OAuth layer
/// serialises refreshes per user within a process; across replicas it relies on
/// [`replace`](Self::replace) and [`remove_if`](Self::remove_if) being compare-and-set.
pub trait UserTokenStore: fmt::Debug + Send + Sync + 'static {
    /// The stored tokens of `user`, if any.
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>>;

    /// Stores (inserts or replaces) `token.user`'s tokens.
    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>>;

    /// Deletes `user`'s tokens; resolves to whether there were any.
    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Atomically replaces `expected.user`'s record with `new` if the stored record still
    /// holds `expected`'s access token; resolves to whether it did (`false`: another replica
    /// wrote first, or the user signed out).
    fn replace<'a>(
        &'a self,
        expected: &'a UserToken,
        new: &'a UserToken,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Atomically deletes `expected.user`'s record if it still holds `expected`'s access
    /// token; resolves to whether it did.
    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, Result<bool>>;

    /// Where pending logins and sessions live beside these tokens, if this store keeps
    /// them (the Redis and Postgres stores do); `None` (the default) keeps them in the
    /// process's memory.
    fn login_store(&self) -> Option<Arc<dyn LoginStore>> {
        None
    }
}

/// Whether two secrets are the same (constant time).
pub(crate) fn same_secret(a: &SecretString, b: &SecretString) -> bool {
    use secrecy::ExposeSecret;
    use subtle::ConstantTimeEq;
    bool::from(
        a.expose_secret()
            .as_bytes()
            .ct_eq(b.expose_secret().as_bytes()),
    )
}
