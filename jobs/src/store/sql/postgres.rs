//! The Postgres dialect: `FOR UPDATE SKIP LOCKED` lets many workers claim jobs side by side.

use sqlx::postgres::{PgPoolOptions, PgQueryResult};

use super::{Dialect, SqlStore};
use crate::config::QueueConfig;
use crate::error::Error;

/// Postgres: claims lock their rows and skip rows other workers hold.
#[derive(Debug)]
pub(crate) struct Postgres;

impl Dialect for Postgres {
    type Db = sqlx::Postgres;
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const BEGIN: &'static str = "BEGIN";
    const NOW_MS: &'static str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
    /// Several processes may start at once: create the tables one at a time.
    const SCHEMA_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7243012)");
    const BODIES: &'static str = "CREATE TABLE IF NOT EXISTS atombot_bodies
        (job_id TEXT PRIMARY KEY, body BYTEA NOT NULL)";
    const HAS_BODIES: &'static str =
        "SELECT CASE WHEN to_regclass('atombot_bodies') IS NULL THEN 0 ELSE 1 END::BIGINT AS n";

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStore<Postgres> {
    /// Connects to the Postgres database named by the config's URL.
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Self, Error> {
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
        SqlStore::open(pool, beats, config).await
    }
}
