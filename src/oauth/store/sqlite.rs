//! [`SqliteUserTokenStore`]: tokens in a SQLite file, encrypted with [`TokenKey`].

use super::sealed::{SealedToken, holds_access_token};
use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use futures_util::future::BoxFuture;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::{TokenKey, UserToken, UserTokenStore};
use crate::error::{Error, Result};
use crate::oauth::OAuthError;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS atombot_user_tokens (
    user TEXT PRIMARY KEY NOT NULL,
    access_token BLOB NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    refresh_token BLOB,
    refresh_expires_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL
)";

/// The durable default: one row per user in `atombot_user_tokens`, each token sealed with
/// AES-256-GCM bound to its user and column. No plaintext token is ever written.
///
/// # Example
/// ```no_run
/// # async fn run() -> atombot::Result<()> {
/// use atombot::oauth::{SqliteUserTokenStore, TokenKey};
///
/// // ATOMBOT_TOKEN_KEY=$(openssl rand -base64 32)
/// let store = SqliteUserTokenStore::connect("sqlite://atombot.db", TokenKey::from_env()?).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteUserTokenStore {
    pool: SqlitePool,
    key: Arc<TokenKey>,
}

impl SqliteUserTokenStore {
    /// Opens (creating if missing) the database at `url`, e.g. `sqlite://atombot.db`, and
    /// creates the table.
    ///
    /// Fails with [`Error::Config`] for a bad URL and [`OAuthError::Store`] when the file
    /// cannot be opened.
    pub async fn connect(url: &str, key: TokenKey) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::config("sqlite url", e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| OAuthError::store("open", e))?;
        Self::from_pool(pool, key).await
    }

    /// Like [`connect`](Self::connect) with the key from `ATOMBOT_TOKEN_KEY`.
    ///
    /// Fails with [`Error::Config`] naming `ATOMBOT_TOKEN_KEY` when it is unset or invalid;
    /// the store never starts without a key.
    pub async fn connect_with_env_key(url: &str) -> Result<Self> {
        let key = TokenKey::from_env()?;
        Self::connect(url, key).await
    }

    /// Uses an existing pool (for example the jobs layer's) and creates the table.
    pub async fn from_pool(pool: SqlitePool, key: TokenKey) -> Result<Self> {
        sqlx::query(SCHEMA)
            .execute(&pool)
            .await
            .map_err(|e| OAuthError::store("create the table", e))?;
        Ok(Self {
            pool,
            key: Arc::new(key),
        })
    }

    /// The pool this store writes through.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl SqliteUserTokenStore {
    /// The sealed access token stored for `expected.user` if it still holds `expected`'s.
    async fn sealed_if_current(&self, expected: &UserToken) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT access_token FROM atombot_user_tokens WHERE user = ?")
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

impl UserTokenStore for SqliteUserTokenStore {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT access_token, expires_at_ms, refresh_token, refresh_expires_at_ms \
                 FROM atombot_user_tokens WHERE user = ?",
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
                 (user, access_token, expires_at_ms, refresh_token, refresh_expires_at_ms, \
                  updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(user) DO UPDATE SET access_token = excluded.access_token, \
                 expires_at_ms = excluded.expires_at_ms, refresh_token = excluded.refresh_token, \
                 refresh_expires_at_ms = excluded.refresh_expires_at_ms, \
                 updated_at_ms = excluded.updated_at_ms",
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
            let done = sqlx::query("DELETE FROM atombot_user_tokens WHERE user = ?")
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
                "UPDATE atombot_user_tokens SET access_token = ?, expires_at_ms = ?, \
                 refresh_token = ?, refresh_expires_at_ms = ?, updated_at_ms = ? \
                 WHERE user = ? AND access_token = ?",
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
            let done =
                sqlx::query("DELETE FROM atombot_user_tokens WHERE user = ? AND access_token = ?")
                    .bind(&expected.user)
                    .bind(old)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| OAuthError::store("delete", e))?;
            Ok(done.rows_affected() == 1)
        })
    }
}
