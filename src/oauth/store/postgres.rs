//! [`PostgresUserTokenStore`]: tokens in a Postgres table, encrypted with [`TokenKey`],
//! shared by every replica of the bot.

use super::sealed::{SealedToken, holds_access_token, scrub};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{TokenKey, UserToken, UserTokenStore};
use crate::error::Result;
use crate::oauth::OAuthError;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS atombot_user_tokens (
    \"user\" TEXT PRIMARY KEY NOT NULL,
    access_token BYTEA NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    refresh_token BYTEA,
    refresh_expires_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
)";

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
    pool: PgPool,
    key: Arc<TokenKey>,
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
        sqlx::query(SCHEMA)
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
            pool,
            key: Arc::new(key),
        })
    }

    /// The pool this store writes through.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl PostgresUserTokenStore {
    /// The sealed access token stored for `expected.user` if it still holds `expected`'s.
    async fn sealed_if_current(&self, expected: &UserToken) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT access_token FROM atombot_user_tokens WHERE \"user\" = $1")
            .bind(&expected.user)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| OAuthError::store("read", e))?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row
            .try_get("access_token")
            .map_err(|e| OAuthError::store("read", e))?;
        Ok(holds_access_token(&self.key, &sealed, expected)?.then_some(sealed))
    }
}

impl UserTokenStore for PostgresUserTokenStore {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT access_token, expires_at_ms, refresh_token, refresh_expires_at_ms \
                 FROM atombot_user_tokens WHERE \"user\" = $1",
            )
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| OAuthError::store("read", e))?;
            let Some(row) = row else { return Ok(None) };
            let read = |e: sqlx::Error| OAuthError::store("read", e);
            let sealed = SealedToken {
                access_token: row.try_get("access_token").map_err(read)?,
                expires_at_ms: row.try_get("expires_at_ms").map_err(read)?,
                refresh_token: row.try_get("refresh_token").map_err(read)?,
                refresh_expires_at_ms: row.try_get("refresh_expires_at_ms").map_err(read)?,
            };
            Ok(Some(sealed.open(&self.key, user)?))
        })
    }

    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let sealed = SealedToken::seal(&self.key, token)?;
            sqlx::query(
                "INSERT INTO atombot_user_tokens \
                 (\"user\", access_token, expires_at_ms, refresh_token, refresh_expires_at_ms, \
                  updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (\"user\") DO UPDATE SET access_token = EXCLUDED.access_token, \
                 expires_at_ms = EXCLUDED.expires_at_ms, refresh_token = EXCLUDED.refresh_token, \
                 refresh_expires_at_ms = EXCLUDED.refresh_expires_at_ms, \
                 updated_at_ms = EXCLUDED.updated_at_ms",
            )
            .bind(&token.user)
            .bind(sealed.access_token)
            .bind(sealed.expires_at_ms)
            .bind(sealed.refresh_token)
            .bind(sealed.refresh_expires_at_ms)
            .bind(Utc::now().timestamp_millis())
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("write", e))?;
            Ok(())
        })
    }

    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM atombot_user_tokens WHERE \"user\" = $1")
                .bind(user)
                .execute(&self.pool)
                .await
                .map_err(|e| OAuthError::store("delete", e))?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn replace<'a>(
        &'a self,
        expected: &'a UserToken,
        new: &'a UserToken,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            if new.user != expected.user {
                return Err(OAuthError::store("write", "a record cannot change its user").into());
            }
            let Some(old) = self.sealed_if_current(expected).await? else {
                return Ok(false);
            };
            let sealed = SealedToken::seal(&self.key, new)?;
            let done = sqlx::query(
                "UPDATE atombot_user_tokens SET access_token = $1, expires_at_ms = $2, \
                 refresh_token = $3, refresh_expires_at_ms = $4, updated_at_ms = $5 \
                 WHERE \"user\" = $6 AND access_token = $7",
            )
            .bind(sealed.access_token)
            .bind(sealed.expires_at_ms)
            .bind(sealed.refresh_token)
            .bind(sealed.refresh_expires_at_ms)
            .bind(Utc::now().timestamp_millis())
            .bind(&expected.user)
            .bind(old)
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("write", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(old) = self.sealed_if_current(expected).await? else {
                return Ok(false);
            };
            let done = sqlx::query(
                "DELETE FROM atombot_user_tokens WHERE \"user\" = $1 AND access_token = $2",
            )
            .bind(&expected.user)
            .bind(old)
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("delete", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn login_store(&self) -> Option<Arc<dyn crate::oauth::LoginStore>> {
        Some(Arc::new(self.clone()))
    }
}
