//! SQLite backend: a file (WAL, `synchronous = FULL`) or, for tests, memory.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;
const SKIP_LOCKED: &str = "";
/// Take the write lock up front, so two processes never deadlock upgrading a read lock.
const BEGIN: &str = "BEGIN IMMEDIATE";
/// The database's clock, in milliseconds since the Unix epoch.
const DB_NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

include!("sql_common.rs");

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Store, Error> {
        let memory = config.url == "memory";
        let options = if memory {
            SqliteConnectOptions::from_str("sqlite::memory:")?
        } else {
            SqliteConnectOptions::from_str(&config.url)
                .map_err(|e| Error::InvalidUrl(format!("sqlite url: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        }
        .busy_timeout(config.backend_timeout);
        let pool = if memory {
            // One connection that never closes: the database lives as long as it does.
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
        let mut tx = pool.begin_with(BEGIN).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Store {
            pool,
            beats,
            queue: config.queue.clone(),
            skew_ms: config.clock_skew_ms,
        })
    }
}
