//! [`SqliteUserTokenStore`]: tokens in a SQLite file, encrypted with [`TokenKey`].

use std::str::FromStr;

use futures_util::future::BoxFuture;
use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::sql::{Dialect, SqlTokens};
use super::{TokenKey, UserToken, UserTokenStore};
use crate::error::{Error, Result};
use crate::oauth::OAuthError;

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
    tokens: SqlTokens<Sqlite>,
}

impl SqliteUserTokenStore {
    /// Opens (creating if missing) the database at `url`, e.g. `sqlite://atombot.db`, and
    /// creates the table.
    ///
    /// Fails with [`Error::Config`] for a bad URL and [`OAuthError::Store`] when the file
    /// cannot be opened.
    pub async fn connect(url: &str, key: TokenKey) -> Result<Self> {
        // A new file is put in WAL mode first, the way the queue opens its own: SQLite
        // refuses the switch at once ("database is locked", no busy wait) while another
        // connection makes it, as when replicas or the CLI open a new file together.
        if let Ok(Some(path)) = atombot_jobs::sqlite_file::file_of(url) {
            tokio::task::spawn_blocking(move || {
                atombot_jobs::sqlite_file::open_wal(&path, std::time::Duration::from_secs(5))
            })
            .await
            .map_err(|e| OAuthError::store("open", e))?
            .map_err(|e| OAuthError::store("open", e))?;
        }
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
        sqlx::query(Sqlite::SCHEMA)
            .execute(&pool)
            .await
            .map_err(|e| OAuthError::store("create the table", e))?;
        Ok(Self {
            tokens: SqlTokens::new(pool, key),
        })
    }

    /// The pool this store writes through.
    pub fn pool(&self) -> &SqlitePool {
        &self.tokens.pool
    }
}

impl UserTokenStore for SqliteUserTokenStore {
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
}
