//! [`RedisUserTokenStore`]: tokens in Redis hashes, encrypted with [`TokenKey`], shared by
//! every replica of the bot.

use super::sealed::{SealedToken, holds_access_token, scrub};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{TokenKey, UserToken, UserTokenStore};
use crate::error::{Error, Result};
use crate::oauth::OAuthError;

/// The default key prefix; a user's record lives at `{prefix}{user}`.
pub const REDIS_USER_TOKEN_PREFIX: &str = "atombot:user-token:";
/// The default prefix of pending logins (`{prefix}state:…`) and sessions
/// (`{prefix}session:…`, `{prefix}sessions-of:{user}`).
pub const REDIS_LOGIN_PREFIX: &str = "atombot:oauth:";

/// Replaces the record if its `access_token` is still `ARGV[1]`; `ARGV[2..]` are the new
/// field/value pairs.
const REPLACE: &str = "if redis.call('HGET', KEYS[1], 'access_token') ~= ARGV[1] then return 0 end \
    redis.call('DEL', KEYS[1]) redis.call('HSET', KEYS[1], unpack(ARGV, 2)) return 1";
/// Deletes the record if its `access_token` is still `ARGV[1]`.
const REMOVE_IF: &str = "if redis.call('HGET', KEYS[1], 'access_token') ~= ARGV[1] then return 0 end \
    return redis.call('DEL', KEYS[1])";

const TIMEOUT: Duration = Duration::from_secs(5);

/// User tokens in Redis, for bots running as several replicas: one hash per user at
/// `atombot:user-token:{user}` with the same fields as the SQLite table. Each token is
/// sealed with AES-256-GCM bound to its user and field, exactly as in
/// [`SqliteUserTokenStore`](super::SqliteUserTokenStore); no plaintext token is ever sent
/// to the server.
///
/// Pending logins and sessions live beside them under [`REDIS_LOGIN_PREFIX`] (keyed by
/// digests, never the browser's values), each key expiring on its own, so every replica
/// sees them. Durability is the server's: see the README's "Reliability" section.
///
/// Its `Debug` output shows neither the URL nor the key.
///
/// # Example
/// ```no_run
/// # async fn run() -> atombot::Result<()> {
/// use atombot::oauth::{RedisUserTokenStore, TokenKey};
///
/// let store = RedisUserTokenStore::connect("redis://127.0.0.1:6379/", TokenKey::from_env()?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisUserTokenStore {
    pub(super) conn: ConnectionManager,
    key: Arc<TokenKey>,
    prefix: String,
    pub(super) login_prefix: String,
}

impl std::fmt::Debug for RedisUserTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUserTokenStore")
            .field("prefix", &self.prefix)
            .field("login_prefix", &self.login_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisUserTokenStore {
    /// Connects to the server at `url` (`redis://…` or `rediss://…`).
    ///
    /// Fails with [`Error::Config`] for a bad URL and [`OAuthError::Store`] when the server
    /// cannot be reached; neither message contains the URL's password.
    pub async fn connect(url: &str, key: TokenKey) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::config("redis url", scrub(e.to_string(), url)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| OAuthError::store("open", scrub(e.to_string(), url)))?;
        Ok(Self {
            conn,
            key: Arc::new(key),
            prefix: REDIS_USER_TOKEN_PREFIX.to_owned(),
            login_prefix: REDIS_LOGIN_PREFIX.to_owned(),
        })
    }

    /// Like [`connect`](Self::connect) with the key from `ATOMBOT_TOKEN_KEY`.
    ///
    /// Fails with [`Error::Config`] naming `ATOMBOT_TOKEN_KEY` when it is unset or invalid.
    pub async fn connect_with_env_key(url: &str) -> Result<Self> {
        let key = TokenKey::from_env()?;
        Self::connect(url, key).await
    }

    /// Uses `prefix` instead of [`REDIS_USER_TOKEN_PREFIX`] (for several bots on one
    /// server). Records written under another prefix are not seen.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Uses `prefix` instead of [`REDIS_LOGIN_PREFIX`] for pending logins and sessions.
    pub fn with_login_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.login_prefix = prefix.into();
        self
    }

    /// The Redis key holding `user`'s record.
    pub fn key_of(&self, user: &str) -> String {
        format!("{}{user}", self.prefix)
    }
}

fn int(fields: &HashMap<String, Vec<u8>>, name: &str) -> Result<Option<i64>, OAuthError> {
    fields
        .get(name)
        .map(|bytes| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| OAuthError::store("read", format!("bad `{name}` field")))
        })
        .transpose()
}

/// Appends the record's field/value pairs to `cmd`.
fn fields(cmd: &mut redis::Cmd, sealed: SealedToken) {
    cmd.arg("access_token")
        .arg(sealed.access_token)
        .arg("expires_at_ms")
        .arg(sealed.expires_at_ms)
        .arg("updated_at_ms")
        .arg(Utc::now().timestamp_millis());
    if let Some(refresh) = sealed.refresh_token {
        cmd.arg("refresh_token").arg(refresh);
    }
    if let Some(at) = sealed.refresh_expires_at_ms {
        cmd.arg("refresh_expires_at_ms").arg(at);
    }
}

impl RedisUserTokenStore {
    /// The sealed access token stored for `expected.user` if it still holds `expected`'s.
    async fn sealed_if_current(&self, expected: &UserToken) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        let sealed: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(self.key_of(&expected.user))
            .arg("access_token")
            .query_async(&mut conn)
            .await
            .map_err(|e| OAuthError::store("read", e))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        Ok(holds_access_token(&self.key, &sealed, expected)?.then_some(sealed))
    }
}

impl UserTokenStore for RedisUserTokenStore {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let fields: HashMap<String, Vec<u8>> = redis::cmd("HGETALL")
                .arg(self.key_of(user))
                .query_async(&mut conn)
                .await
                .map_err(|e| OAuthError::store("read", e))?;
            let Some(access) = fields.get("access_token") else {
                return Ok(None);
            };
            let sealed = SealedToken {
                access_token: access.clone(),
                expires_at_ms: int(&fields, "expires_at_ms")?
                    .ok_or_else(|| OAuthError::store("read", "record without `expires_at_ms`"))?,
                refresh_token: fields.get("refresh_token").cloned(),
                refresh_expires_at_ms: int(&fields, "refresh_expires_at_ms")?,
            };
            Ok(Some(sealed.open(&self.key, user)?))
        })
    }

    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key = self.key_of(&token.user);
            let mut hset = redis::cmd("HSET");
            hset.arg(&key);
            fields(&mut hset, SealedToken::seal(&self.key, token)?);
            // Replace the whole record at once: no replica sees half of it.
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .add_command(hset);
            let mut conn = self.conn.clone();
            pipe.query_async::<()>(&mut conn)
                .await
                .map_err(|e| OAuthError::store("write", e))?;
            Ok(())
        })
    }

    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let removed: i64 = redis::cmd("DEL")
                .arg(self.key_of(user))
                .query_async(&mut conn)
                .await
                .map_err(|e| OAuthError::store("delete", e))?;
            Ok(removed > 0)
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
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(REPLACE).arg(1).arg(self.key_of(&new.user)).arg(old);
            fields(&mut cmd, SealedToken::seal(&self.key, new)?);
            let mut conn = self.conn.clone();
            let done: i64 = cmd
                .query_async(&mut conn)
                .await
                .map_err(|e| OAuthError::store("write", e))?;
            Ok(done == 1)
        })
    }

    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(old) = self.sealed_if_current(expected).await? else {
                return Ok(false);
            };
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(REMOVE_IF)
                .arg(1)
                .arg(self.key_of(&expected.user))
                .arg(old);
            let mut conn = self.conn.clone();
            let done: i64 = cmd
                .query_async(&mut conn)
                .await
                .map_err(|e| OAuthError::store("delete", e))?;
            Ok(done == 1)
        })
    }

    fn login_store(&self) -> Option<Arc<dyn crate::oauth::LoginStore>> {
        Some(Arc::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::sealed::scrub;

    #[test]
    fn scrub_hides_the_password() {
        let url = "redis://bot:p%40ss-w0rd@127.0.0.1:6379/";
        let out = scrub("failed p%40ss-w0rd and p@ss-w0rd".to_owned(), url);
        assert_eq!(out, "failed *** and ***");
        assert_eq!(scrub("plain".to_owned(), "redis://h/"), "plain");
    }
}
