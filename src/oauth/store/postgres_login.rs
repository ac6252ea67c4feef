//! Pending logins and sessions of a [`PostgresUserTokenStore`]'s database, shared by every
//! replica: tables `atombot_oauth_states` and `atombot_oauth_sessions`, swept of expired
//! rows as new ones are written.

use chrono::{DateTime, TimeZone, Utc};
use futures_util::future::BoxFuture;
use sqlx::Row;

use super::postgres::PostgresUserTokenStore;
use crate::error::Result;
use crate::oauth::{LoginStore, OAuthError};

/// The tables and their indexes, created with the token table.
pub(super) const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS atombot_oauth_states (
        key TEXT PRIMARY KEY NOT NULL,
        issued_at_ms BIGINT NOT NULL,
        forget_at_ms BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS atombot_oauth_states_forget ON atombot_oauth_states (forget_at_ms)",
    "CREATE TABLE IF NOT EXISTS atombot_oauth_sessions (
        key TEXT PRIMARY KEY NOT NULL,
        \"user\" TEXT NOT NULL,
        started_at_ms BIGINT NOT NULL,
        expires_at_ms BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS atombot_oauth_sessions_user \
     ON atombot_oauth_sessions (\"user\", started_at_ms)",
    "CREATE INDEX IF NOT EXISTS atombot_oauth_sessions_expires \
     ON atombot_oauth_sessions (expires_at_ms)",
];

fn err(op: &'static str) -> impl Fn(sqlx::Error) -> OAuthError {
    move |e| OAuthError::store(op, e)
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl LoginStore for PostgresUserTokenStore {
    fn put_state<'a>(
        &'a self,
        key: &'a str,
        issued_at: DateTime<Utc>,
        forget_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let op = err("write a login state");
            sqlx::query("DELETE FROM atombot_oauth_states WHERE forget_at_ms <= $1")
                .bind(now_ms())
                .execute(self.pool())
                .await
                .map_err(&op)?;
            let done = sqlx::query(
                "INSERT INTO atombot_oauth_states (key, issued_at_ms, forget_at_ms) \
                 VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(issued_at.timestamp_millis())
            .bind(forget_at.timestamp_millis())
            .execute(self.pool())
            .await
            .map_err(&op)?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn take_state<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<DateTime<Utc>>>> {
        Box::pin(async move {
            let row = sqlx::query(
                "DELETE FROM atombot_oauth_states WHERE key = $1 AND forget_at_ms > $2 \
                 RETURNING issued_at_ms",
            )
            .bind(key)
            .bind(now_ms())
            .fetch_optional(self.pool())
            .await
            .map_err(err("take a login state"))?;
            let Some(row) = row else { return Ok(None) };
            let ms: i64 = row
                .try_get("issued_at_ms")
                .map_err(err("take a login state"))?;
            Ok(Utc.timestamp_millis_opt(ms).single())
        })
    }

    fn start_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        expires_at: DateTime<Utc>,
        max_per_user: usize,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let op = err("start a session");
            let now = now_ms();
            let mut tx = self.pool().begin().await.map_err(&op)?;
            sqlx::query("DELETE FROM atombot_oauth_sessions WHERE expires_at_ms <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(&op)?;
            sqlx::query(
                "INSERT INTO atombot_oauth_sessions (key, \"user\", started_at_ms, expires_at_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(key)
            .bind(user)
            .bind(now)
            .bind(expires_at.timestamp_millis())
            .execute(&mut *tx)
            .await
            .map_err(&op)?;
            sqlx::query(
                "DELETE FROM atombot_oauth_sessions WHERE key IN (\
                   SELECT key FROM atombot_oauth_sessions WHERE \"user\" = $1 \
                   ORDER BY started_at_ms DESC, (key = $2) DESC OFFSET $3)",
            )
            .bind(user)
            .bind(key)
            .bind(i64::try_from(max_per_user.max(1)).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(&op)?;
            tx.commit().await.map_err(&op)?;
            Ok(())
        })
    }

    fn session_user<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT \"user\" FROM atombot_oauth_sessions WHERE key = $1 AND expires_at_ms > $2",
            )
            .bind(key)
            .bind(now_ms())
            .fetch_optional(self.pool())
            .await
            .map_err(err("read a session"))?;
            row.map(|r| r.try_get("user"))
                .transpose()
                .map_err(|e| err("read a session")(e).into())
        })
    }

    fn end_session<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let row =
                sqlx::query("DELETE FROM atombot_oauth_sessions WHERE key = $1 RETURNING \"user\"")
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err("end a session"))?;
            row.map(|r| r.try_get("user"))
                .transpose()
                .map_err(|e| err("end a session")(e).into())
        })
    }

    fn end_sessions_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM atombot_oauth_sessions WHERE \"user\" = $1")
                .bind(user)
                .execute(self.pool())
                .await
                .map_err(err("end sessions"))?;
            Ok(())
        })
    }
}
