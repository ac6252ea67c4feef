//! [`PostgresUserTokenStore`]: tokens in a Postgres table, encrypted with [`TokenKey`],
//! shared by every replica of the bot.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::Postgres;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::sealed::scrub;
use super::sql::{Dialect, SqlTokens};
use super::{TokenKey, UserToken, UserTokenStore};
use crate::error::Result;
use crate::oauth::OAuthError;

/// Serialises `CREATE TABLE` when several replicas start at once.
const SCHEMA_LOCK: i64 = 7_243_013;

/// User tokens in Postgres, for bots running as several replicas: one row per user in
/// `atombot_user_tokens` (the columns of the SQLite table), each token sealed with
/// AES-256-GCM bound to its user and column, exactly as in
/// [`SqliteUserTokenStore`](super::SqliteUserTokenStore). No plaintext token is ever written.
///
/// Pending logins and sessions live in `atombot_oauth_states` and `atombot_oauth_sessions`
/// (keyed by digests, never the browser's values), so every replica sees them.
///
/// Its `Debug` output shows neither the URL nor the key.
///
/// # Example
/// ```no_run
/// # async fn run() -> atombot::Result<()> {
/// use atombot::oauth::{PostgresUserTokenStore, TokenKey};
///
/// let url = "postgres://bot:secret@127.0.0.1/atombot";
/// let store = PostgresUserTokenStore::connect(url, TokenKey::from_env()?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresUserTokenStore {
    tokens: SqlTokens<Postgres>,
}

impl std::fmt::Debug for PostgresUserTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresUserTokenStore")
            .field("table", &"atombot_user_tokens")
            .finish_non_exhaustive()
    }
}

impl PostgresUserTokenStore {
    /// Connects to the database at `url` (`postgres://…`) and creates the table if missing.
    ///
    /// Fails with [`OAuthError::Store`] when the URL is bad or the server cannot be
    /// reached; the message never contains the URL's password.
    pub async fn connect(url: &str, key: TokenKey) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| OAuthError::store("open", scrub(e.to_string(), url)))?;
        Self::from_pool(pool, key).await
    }

    /// Like [`connect`](Self::connect) with the key from `ATOMBOT_TOKEN_KEY`.
    ///
    /// Fails with [`Error::Config`](crate::Error::Config) naming `ATOMBOT_TOKEN_KEY` when it
    /// is unset or invalid.
    pub async fn connect_with_env_key(url: &str) -> Result<Self> {
        let key = TokenKey::from_env()?;
        Self::connect(url, key).await
    }

    /// Uses an existing pool and creates the table if missing.
    pub async fn from_pool(pool: PgPool, key: TokenKey) -> Result<Self> {
        let create = |e: sqlx::Error| OAuthError::store("create the table", e);
        let mut tx = pool.begin().await.map_err(create)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(create)?;
        sqlx::query(Postgres::SCHEMA)
            .execute(&mut *tx)
            .await
            .map_err(create)?;
        for statement in super::postgres_login::SCHEMA {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(create)?;
        }
        tx.commit().await.map_err(create)?;
        Ok(Self {
            tokens: SqlTokens::new(pool, key),
        })
    }

    /// The pool this store writes through.
    pub fn pool(&self) -> &PgPool {
        &self.tokens.pool
    }
}

impl UserTokenStore for PostgresUserTokenStore {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>> {
        Box::pin(self.tokens.get(user))
    }

    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.tokens.put(token))
    }

    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.tokens.remove(user))
    }

    fn replace<'a>(
        &'a self,
        expected: &'a UserToken,
        new: &'a UserToken,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.tokens.replace(expected, new))
    }

    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.tokens.remove_if(expected))
    }

    fn login_store(&self) -> Option<Arc<dyn crate::oauth::LoginStore>> {
        Some(Arc::new(self.clone()))
    }
}
