//! The SQLite dialect: a file (WAL, `synchronous = FULL`) or, for tests, memory.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};

use super::{Dialect, SqlStore};
use crate::config::QueueConfig;
use crate::error::Error;

/// SQLite: one writer at a time, so claims need no row locks.
#[derive(Debug)]
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    type Db = sqlx::Sqlite;
    const SKIP_LOCKED: &'static str = "";
    /// Take the write lock up front, so two processes never deadlock upgrading a read lock.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const NOW_MS: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
    const SCHEMA_LOCK: Option<&'static str> = None;
    const BODIES: &'static str = "CREATE TABLE IF NOT EXISTS atombot_bodies
        (job_id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID";
    const HAS_BODIES: &'static str =
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'atombot_bodies'";

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStore<Sqlite> {
    /// Opens the SQLite file named by the config's URL, or an in-memory database for `memory`.
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Self, Error> {
        let memory = config.url == "memory";
        let options = if memory {
            // A named, shared-cache in-memory database (sqlx names each `:memory:` uniquely).
            SqliteConnectOptions::from_str("sqlite::memory:")?
        } else {
            SqliteConnectOptions::from_str(&config.url)
                .map_err(|e| Error::InvalidUrl(format!("sqlite url: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        }
        .busy_timeout(config.backend_timeout);
        // An in-memory database vanishes with its last connection, and the pool closes a
        // connection whenever an operation on it is cancelled (a timeout) or fails its
        // check: hold one idle connection for as long as the store lives, so the pool's
        // replacement connection finds the same database.
        let keep: Option<Arc<dyn Send + Sync>> = if memory {
            let held = options.connect().await?;
            Some(Arc::new(std::sync::Mutex::new(held)))
        } else {
            None
        };
        let pool = if memory {
            // One working connection: jobs and heartbeats take turns on it.
            SqlitePoolOptions::new()
                .min_connections(1)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(4)
        }
        .acquire_timeout(config.backend_timeout)
        .connect_with(options.clone())
        .await?;
        let beats = if memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(config.backend_timeout)
                .connect_with(options)
                .await?
        };
        SqlStore::open(pool, beats, config, keep).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobId, now_ms};
    use crate::store::NewJob;

    fn job() -> NewJob {
        NewJob {
            id: JobId::generate(),
            kind: "k".into(),
            key: None,
            payload: "{}".into(),
            body: None,
            meta: "{}".into(),
            enqueued_at: now_ms(),
            run_at: now_ms(),
            max_attempts: 3,
            unique: false,
            dedupe_expires_at: now_ms(),
            lease_to: None,
        }
    }

    /// The pool may close its only connection (a cancelled query, a failed check): the
    /// in-memory database and its jobs must outlive it.
    #[tokio::test]
    async fn memory_database_survives_its_pool_connection_closing() {
        let store = SqlStore::<Sqlite>::connect(&QueueConfig::new("memory"))
            .await
            .unwrap();
        store.push_batch(&[job()]).await.unwrap();
        for _ in 0..3 {
            let conn = store.pool.acquire().await.unwrap();
            conn.close().await.unwrap();
        }
        assert_eq!(store.stats().await.unwrap().pending, 1);
        store.push_batch(&[job()]).await.unwrap();
        assert_eq!(store.stats().await.unwrap().pending, 2);
    }

    /// Two in-memory queues never share a database.
    #[tokio::test]
    async fn memory_databases_are_separate() {
        let config = QueueConfig::new("memory");
        let a = SqlStore::<Sqlite>::connect(&config).await.unwrap();
        let b = SqlStore::<Sqlite>::connect(&config).await.unwrap();
        a.push_batch(&[job()]).await.unwrap();
        assert_eq!(a.stats().await.unwrap().pending, 1);
        assert_eq!(b.stats().await.unwrap().pending, 0);
    }
}
