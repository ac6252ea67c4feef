//! The user-token table as SQL, shared by the SQLite and Postgres stores: one text per
//! statement, one row mapping, one implementation of the [`UserTokenStore`] operations over a
//! sqlx pool.
//!
//! Both databases read the same text: `$n` placeholders (sqlx numbers SQLite's `$n` as
//! Postgres does), the `user` column quoted (a reserved word in Postgres) and a standard
//! `ON CONFLICT … DO UPDATE` upsert. What differs is the [`Dialect`]: the column types of
//! `CREATE TABLE` and where `rows_affected` is read.

use std::fmt;
use std::sync::Arc;

use chrono::Utc;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::sealed::{SealedToken, holds_access_token};
use super::{TokenKey, UserToken};
use crate::error::Result;
use crate::oauth::OAuthError;

/// The table's name.
pub(crate) const TABLE: &str = "atombot_user_tokens";

/// `CREATE TABLE` with the given binary and 64-bit integer column types.
macro_rules! schema {
    ($bytes:literal, $int:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS atombot_user_tokens (\n",
            "    \"user\" TEXT PRIMARY KEY NOT NULL,\n",
            "    access_token ",
            $bytes,
            " NOT NULL,\n",
            "    expires_at_ms ",
            $int,
            " NOT NULL,\n",
            "    refresh_token ",
            $bytes,
            ",\n",
            "    refresh_expires_at_ms ",
            $int,
            ",\n",
            "    updated_at_ms ",
            $int,
            " NOT NULL\n",
            ")"
        )
    };
}

/// The stored, sealed access token of `$1`.
const SELECT_ACCESS: &str = "SELECT access_token FROM atombot_user_tokens WHERE \"user\" = $1";

/// The sealed record of `$1`.
const SELECT: &str = "SELECT access_token, expires_at_ms, refresh_token, refresh_expires_at_ms \
     FROM atombot_user_tokens WHERE \"user\" = $1";

/// Writes the record of `$1`, replacing any.
const UPSERT: &str = "INSERT INTO atombot_user_tokens \
     (\"user\", access_token, expires_at_ms, refresh_token, refresh_expires_at_ms, \
      updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (\"user\") DO UPDATE SET access_token = excluded.access_token, \
     expires_at_ms = excluded.expires_at_ms, refresh_token = excluded.refresh_token, \
     refresh_expires_at_ms = excluded.refresh_expires_at_ms, \
     updated_at_ms = excluded.updated_at_ms";

/// Removes the record of `$1`.
const DELETE: &str = "DELETE FROM atombot_user_tokens WHERE \"user\" = $1";

/// Rewrites the record of `$6` if its sealed access token is still `$7`.
const UPDATE_IF: &str = "UPDATE atombot_user_tokens SET access_token = $1, expires_at_ms = $2, \
     refresh_token = $3, refresh_expires_at_ms = $4, updated_at_ms = $5 \
     WHERE \"user\" = $6 AND access_token = $7";

/// Removes the record of `$1` if its sealed access token is still `$2`.
const DELETE_IF: &str = "DELETE FROM atombot_user_tokens WHERE \"user\" = $1 AND access_token = $2";

/// What differs between the databases that hold the table.
pub(crate) trait Dialect: Database {
    /// `CREATE TABLE IF NOT EXISTS` for the table.
    const SCHEMA: &'static str;

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl Dialect for sqlx::Sqlite {
    const SCHEMA: &'static str = schema!("BLOB", "INTEGER");

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl Dialect for sqlx::Postgres {
    const SCHEMA: &'static str = schema!("BYTEA", "BIGINT");

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

/// The table in one database: a pool and the key that seals every token.
///
/// Its `Debug` output shows neither the pool (whose options may hold a password) nor the key.
pub(crate) struct SqlTokens<DB: Database> {
    pub(crate) pool: Pool<DB>,
    key: Arc<TokenKey>,
}

impl<DB: Database> Clone for SqlTokens<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            key: Arc::clone(&self.key),
        }
    }
}

impl<DB: Database> fmt::Debug for SqlTokens<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlTokens")
            .field("database", &DB::NAME)
            .field("table", &TABLE)
            .finish_non_exhaustive()
    }
}

fn read(e: sqlx::Error) -> OAuthError {
    OAuthError::store("read", e)
}

impl<DB> SqlTokens<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Vec<u8>>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
{
    /// The table in `pool`, which must exist ([`Dialect::SCHEMA`]).
    pub(crate) fn new(pool: Pool<DB>, key: TokenKey) -> Self {
        Self {
            pool,
            key: Arc::new(key),
        }
    }

    /// The record of `row` (from [`SELECT`]), still sealed.
    fn sealed_from_row(row: &DB::Row) -> Result<SealedToken, OAuthError> {
        Ok(SealedToken {
            access_token: row.try_get("access_token").map_err(read)?,
            expires_at_ms: row.try_get("expires_at_ms").map_err(read)?,
            refresh_token: row.try_get("refresh_token").map_err(read)?,
            refresh_expires_at_ms: row.try_get("refresh_expires_at_ms").map_err(read)?,
        })
    }

    /// The sealed access token stored for `expected.user` if it still holds `expected`'s.
    async fn sealed_if_current(&self, expected: &UserToken) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query::<DB>(SELECT_ACCESS)
            .bind(expected.user.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(read)?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("access_token").map_err(read)?;
        Ok(holds_access_token(&self.key, &sealed, expected)?.then_some(sealed))
    }

    /// [`UserTokenStore::get`](super::UserTokenStore::get).
    pub(crate) async fn get(&self, user: &str) -> Result<Option<UserToken>> {
        let row = sqlx::query::<DB>(SELECT)
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(read)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Self::sealed_from_row(&row)?.open(&self.key, user)?))
    }

    /// [`UserTokenStore::put`](super::UserTokenStore::put).
    pub(crate) async fn put(&self, token: &UserToken) -> Result<()> {
        let sealed = SealedToken::seal(&self.key, token)?;
        sqlx::query::<DB>(UPSERT)
            .bind(token.user.as_str())
            .bind(sealed.access_token)
            .bind(sealed.expires_at_ms)
            .bind(sealed.refresh_token)
            .bind(sealed.refresh_expires_at_ms)
            .bind(Utc::now().timestamp_millis())
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("write", e))?;
        Ok(())
    }

    /// [`UserTokenStore::remove`](super::UserTokenStore::remove).
    pub(crate) async fn remove(&self, user: &str) -> Result<bool> {
        let done = sqlx::query::<DB>(DELETE)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("delete", e))?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// [`UserTokenStore::replace`](super::UserTokenStore::replace).
    pub(crate) async fn replace(&self, expected: &UserToken, new: &UserToken) -> Result<bool> {
        if new.user != expected.user {
            return Err(OAuthError::store("write", "a record cannot change its user").into());
        }
        let Some(old) = self.sealed_if_current(expected).await? else {
            return Ok(false);
        };
        let sealed = SealedToken::seal(&self.key, new)?;
        let done = sqlx::query::<DB>(UPDATE_IF)
            .bind(sealed.access_token)
            .bind(sealed.expires_at_ms)
            .bind(sealed.refresh_token)
            .bind(sealed.refresh_expires_at_ms)
            .bind(Utc::now().timestamp_millis())
            .bind(expected.user.as_str())
            .bind(old)
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("write", e))?;
        Ok(DB::rows_affected(&done) == 1)
    }

    /// [`UserTokenStore::remove_if`](super::UserTokenStore::remove_if).
    pub(crate) async fn remove_if(&self, expected: &UserToken) -> Result<bool> {
        let Some(old) = self.sealed_if_current(expected).await? else {
            return Ok(false);
        };
        let done = sqlx::query::<DB>(DELETE_IF)
            .bind(expected.user.as_str())
            .bind(old)
            .execute(&self.pool)
            .await
            .map_err(|e| OAuthError::store("delete", e))?;
        Ok(DB::rows_affected(&done) == 1)
    }
}
