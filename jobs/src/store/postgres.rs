//! Postgres backend: `FOR UPDATE SKIP LOCKED` lets many workers claim jobs side by side.

use sqlx::postgres::PgPoolOptions;

type Db = sqlx::Postgres;
const SKIP_LOCKED: &str = "FOR UPDATE SKIP LOCKED";
const BEGIN: &str = "BEGIN";
/// The database's clock, in milliseconds since the Unix epoch.
const DB_NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

include!("sql_common.rs");

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Store, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(config.backend_timeout)
            .connect(&config.url)
            .await?;
        // Heartbeats and lease checks on a connection of their own.
        let beats = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(config.backend_timeout)
            .connect(&config.url)
            .await?;
        let mut tx = pool.begin().await?;
        // Several processes may start at once: create the tables one at a time.
        sqlx::query("SELECT pg_advisory_xact_lock(7243012)")
            .execute(&mut *tx)
            .await?;
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
