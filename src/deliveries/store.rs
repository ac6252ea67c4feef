//! Where the log lives: the queue's backend, chosen by the queue's URL.

use std::sync::Arc;

use super::memory::MemoryLog;
use super::sqlite::SqliteLog;
use super::{Entry, Filter, HandlerOutcome, Record, Summary};
use crate::jobs::QueueConfig;

/// A store's error, without the URL (which may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StoreError(pub(crate) String);

#[cfg(feature = "postgres")]
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

/// What marks a stored body as lz4-packed (`atombot_jobs::packed`); a body stored without
/// it is read as it is.
const PACKED: &[u8] = b"lz4\0";

/// `body` as the stores keep it: lz4-packed behind a marker. A 6.6 KB push is ~1.8 KB, so
/// a store writes (and SQLite checkpoints) about a quarter of the bytes, for ~3 µs.
pub(crate) fn pack_body(body: &[u8]) -> Vec<u8> {
    let packed = atombot_jobs::packed::pack(body);
    [PACKED, &packed].concat()
}

/// The body a store kept as `stored` (by [`pack_body`], or as it was).
pub(crate) fn unpack_body(stored: Vec<u8>) -> StoreResult<bytes::Bytes> {
    match stored.strip_prefix(PACKED) {
        Some(packed) => atombot_jobs::packed::unpack(packed)
            .ok_or_else(|| StoreError("a kept body does not unpack (corrupt)".into())),
        None => Ok(stored.into()),
    }
}

/// The records of `entries` (for the stores that write records).
#[cfg(any(feature = "postgres", feature = "redis"))]
fn records(entries: &[Entry]) -> Vec<Record> {
    entries.iter().map(|e| e.to_record(&[])).collect()
}

#[derive(Debug, Clone)]
pub(crate) enum Store {
    Memory(Arc<MemoryLog>),
    Sqlite(SqliteLog),
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::PostgresLog),
    #[cfg(feature = "redis")]
    Redis(super::redis::RedisLog),
}

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> StoreResult<Store> {
        let url = config.url();
        let queue = config.name();
        match config.scheme() {
            "memory" => Ok(Store::Memory(Arc::default())),
            "sqlite" => match atombot_jobs::sqlite_file::file_of(url)? {
                Some(file) => Ok(Store::Sqlite(SqliteLog::open(&file, queue).await?)),
                None => Ok(Store::Memory(Arc::default())),
            },
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(Store::Postgres(
                super::postgres::PostgresLog::connect(url, queue).await?,
            )),
            #[cfg(feature = "redis")]
            "redis" | "rediss" => Ok(Store::Redis(
                super::redis::RedisLog::connect(url, queue).await?,
            )),
            other => Err(StoreError(format!(
                "no delivery log for a {other:?} queue (is the feature for it on?)"
            ))),
        }
    }

    /// Stores `entries`, then `outcomes` (an outcome's delivery is then listed with it).
    pub(crate) async fn write(
        &self,
        entries: Vec<Entry>,
        outcomes: Vec<(String, HandlerOutcome)>,
    ) -> StoreResult<()> {
        if entries.is_empty() && outcomes.is_empty() {
            return Ok(());
        }
        match self {
            Store::Memory(log) => {
                log.insert(entries);
                log.outcomes(&outcomes);
                Ok(())
            }
            Store::Sqlite(log) => log.write(entries, outcomes).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(log) => log.write(&records(&entries), &outcomes).await,
            #[cfg(feature = "redis")]
            Store::Redis(log) => {
                if !entries.is_empty() {
                    log.insert(&records(&entries)).await?;
                }
                if outcomes.is_empty() {
                    return Ok(());
                }
                log.outcomes(&outcomes).await
            }
        }
    }

    /// The in-memory log, if this is it.
    pub(crate) fn memory(&self) -> Option<&Arc<MemoryLog>> {
        match self {
            Store::Memory(log) => Some(log),
            _ => None,
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
