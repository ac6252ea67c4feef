//! Where the log lives: the queue's backend, chosen by the queue's URL.

use std::sync::Arc;

use super::memory::MemoryLog;
use super::sql::SqlLog;
use super::{Filter, HandlerOutcome, Record, Summary};
use crate::jobs::QueueConfig;

/// A store's error, without the URL (which may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StoreError(pub(crate) String);

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("a stored record does not decode: {e}"))
    }
}

pub(crate) type StoreResult<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone)]
pub(crate) enum Store {
    Memory(Arc<MemoryLog>),
    Sqlite(SqlLog<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(SqlLog<sqlx::Postgres>),
    #[cfg(feature = "redis")]
    Redis(super::redis::RedisLog),
}

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> StoreResult<Store> {
        let url = config.url();
        let queue = config.name();
        let memory =
            url == "memory" || url.starts_with("sqlite::memory:") || url.contains("mode=memory");
        match config.scheme() {
            _ if memory => Ok(Store::Memory(Arc::default())),
            "sqlite" => Ok(Store::Sqlite(SqlLog::sqlite(url, queue).await?)),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(Store::Postgres(SqlLog::postgres(url, queue).await?)),
            #[cfg(feature = "redis")]
            "redis" | "rediss" => Ok(Store::Redis(
                super::redis::RedisLog::connect(url, queue).await?,
            )),
            other => Err(StoreError(format!(
                "no delivery log for a {other:?} queue (is the feature for it on?)"
            ))),
        }
    }

    pub(crate) async fn insert(&self, records: Vec<Record>) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Store::Memory(log) => {
                log.insert(records);
                Ok(())
            }
            Store::Sqlite(log) => log.insert(&records).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.insert(&records).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => log.insert(&records).await,
        }
    }

    pub(crate) async fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        match self {
            Store::Memory(log) => {
                log.outcomes(outcomes);
                Ok(())
            }
            Store::Sqlite(log) => log.outcomes(outcomes).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.outcomes(outcomes).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => log.outcomes(outcomes).await,
        }
    }

    pub(crate) async fn list(&self, filter: &Filter) -> StoreResult<Vec<Summary>> {
        match self {
            Store::Memory(log) => Ok(log.list(filter)),
            Store::Sqlite(log) => log.list(filter).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.list(filter).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => log.list(filter).await,
        }
    }

    pub(crate) async fn get(&self, id: &str) -> StoreResult<Option<Record>> {
        match self {
            Store::Memory(log) => Ok(log.get(id)),
            Store::Sqlite(log) => log.get(id).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.get(id).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => log.get(id).await,
        }
    }

    /// Removes records received before `before` (ms) and all but the newest `max`.
    pub(crate) async fn prune(&self, before: i64, max: u64) -> StoreResult<u64> {
        match self {
            Store::Memory(log) => Ok(log.prune(before, max)),
            Store::Sqlite(log) => log.prune(before, max).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.prune(before, max).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => log.prune(before, max).await,
        }
    }
}
