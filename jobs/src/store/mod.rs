//! Storage: one enum over the backends (SQLite on a thread of its own, Postgres through
//! sqlx, Redis, memory), chosen by URL, and the batching [`Writer`] that pushes go through
//! on the backends that do not batch by themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, Job, JobId, Payload, Pushed, Stats, ms_to_time};

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "postgres")]
mod sql;
pub(crate) mod sqlite;
mod writer;

pub(crate) use writer::Writer;

/// What a queue and the worker backends built from it share: the store, the settings, and
/// the writer that pushes (including a handler's follow-up pushes) go through.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) store: Store,
    pub(crate) config: QueueConfig,
    pub(crate) writer: Writer,
    /// Told of every job this process stored, so an idle worker of this process takes it at
    /// once instead of at its next poll (work pushed by other replicas waits for the poll).
    pub(crate) pushed: std::sync::Arc<tokio::sync::Notify>,
    /// This process's workers that take its pushes straight from memory.
    pub(crate) handoff: crate::handoff::Handoff,
}

impl Parts {
    /// Connects to the backend named by `config` and starts the writer.
    pub(crate) async fn connect(config: QueueConfig) -> Result<Parts, Error> {
        let store = tokio::time::timeout(
            config.backend_timeout.saturating_mul(2),
            Store::connect(&config),
        )
        .await
        .map_err(|_| Error::Unavailable("timed out connecting".into()))??;
        let writer = Writer::start(store.clone(), config.max_batch, config.backend_timeout);
        Ok(Parts {
            store,
            config,
            writer,
            pushed: std::sync::Arc::default(),
            handoff: crate::handoff::Handoff::default(),
        })
    }

    /// Returns `ids`, claimed by `worker` but never started, to the queue now (attempt given
    /// back); one that cannot be returned is recovered as an orphan once `worker` is gone.
    pub(crate) async fn give_back(&self, worker: &str, ids: impl IntoIterator<Item = JobId>) {
        let release = Ack::give_back(crate::job::now_ms());
        for id in ids {
            if let Err(e) = self.timed(self.store.ack(&id, worker, &release)).await {
                tracing::warn!(job = %id, error = %e, "could not return a job that never started; it is recovered as an orphan");
            }
        }
    }

    /// Runs one backend operation, failing with [`Error::Unavailable`] after the backend
    /// timeout.
    pub(crate) async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        timed(self.config.backend_timeout, fut).await
    }
}

/// `fut`, or [`Error::Unavailable`] once `limit` has passed.
pub(crate) async fn timed<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Error::Unavailable("backend did not answer in time".into()))?
}

/// A job ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub(crate) id: JobId,
    pub(crate) kind: String,
    pub(crate) key: Option<String>,
    pub(crate) payload: Payload,
    /// Raw bytes stored beside the payload ([`Job::body`]).
    pub(crate) body: Option<Bytes>,
    /// Keep the body under this key once the job is gone ([`Job::with_kept_body`]).
    pub(crate) body_kept_as: Option<String>,
    pub(crate) meta: String,
    pub(crate) enqueued_at: i64,
    pub(crate) run_at: i64,
    pub(crate) max_attempts: i64,
    pub(crate) unique: bool,
    pub(crate) dedupe_expires_at: i64,
    /// When set, the job is stored already claimed by this worker of this process (status
    /// running, attempt 1, locked now) and handed to it in memory: no fetch, no claim.
    pub(crate) lease_to: Option<std::sync::Arc<str>>,
}

impl NewJob {
    /// Whether the job brings a body to keep beyond it.
    pub(crate) fn keeps_body(&self) -> bool {
        self.body.is_some() && self.body_kept_as.is_some()
    }
}

/// A job a worker has claimed.
#[derive(Debug)]
pub(crate) struct Leased {
    pub(crate) id: JobId,
    pub(crate) job: Job,
    pub(crate) attempts: u32,
    pub(crate) max_attempts: u32,
}

/// What a worker reports after running a job.
#[derive(Debug, Clone)]
pub(crate) enum Ack {
    Done,
    Retry {
        run_at: i64,
        error: String,
    },
    Fail {
        error: String,
    },
    /// Back to the queue without using up an attempt; `error` (if any) is kept as the
    /// last error, and `unknown` marks a job no worker so far knew (counted in stats).
    Release {
        run_at: i64,
        error: Option<String>,
        unknown: bool,
    },
}

impl Ack {
    /// Back to the queue at `run_at`, untouched: no attempt used, no error kept (a job
    /// claimed but never started).
    pub(crate) fn give_back(run_at: i64) -> Ack {
        Ack::Release {
            run_at,
            error: None,
            unknown: false,
        }
    }
}

/// What [`Store::push_and_ack`] stored: one result per job, one per outcome.
pub(crate) type PushedAndAcked = (Vec<Result<Pushed, Error>>, Vec<Result<bool, Error>>);

/// What [`Store::write_together`] stored, in the order it was asked.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub(crate) pushed: Vec<Pushed>,
    pub(crate) acked: Vec<bool>,
    pub(crate) claimed: Vec<Vec<Leased>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Store {
    Memory(memory::Store),
    Sqlite(sqlite::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(sql::SqlStore<sql::postgres::Postgres>),
    #[cfg(feature = "redis")]
    Redis(redis::Store),
}

/// Runs `$e` on whichever store `$self` is. The backends' futures are boxed: callers'
/// futures (pushes, a running job's task) then hold a pointer rather than the largest of
/// them (sqlx's and redis' run to kilobytes), which they would copy at every move.
macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Memory($s) => $e,
            Store::Sqlite($s) => Box::pin(async move { $e }).await,
            #[cfg(feature = "postgres")]
            Store::Postgres($s) => Box::pin(async move { $e }).await,
            #[cfg(feature = "redis")]
            Store::Redis($s) => Box::pin(async move { $e }).await,
        }
    };
}

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Store, Error> {
        let url = config.url.as_str();
        match config.scheme() {
            "memory" => Ok(Store::Memory(memory::Store::new(config))),
            "sqlite" => Ok(Store::Sqlite(sqlite::SqliteStore::connect(config).await?)),
            "postgres" | "postgresql" => {
                #[cfg(feature = "postgres")]
                return Ok(Store::Postgres(
                    sql::SqlStore::<sql::postgres::Postgres>::connect(config).await?,
                ));
                #[cfg(not(feature = "postgres"))]
                Err(Error::FeatureDisabled("postgres"))
            }
            "redis" | "rediss" => {
                #[cfg(feature = "redis")]
                return Ok(Store::Redis(redis::Store::connect(config).await?));
                #[cfg(not(feature = "redis"))]
                Err(Error::FeatureDisabled("redis"))
            }
            _ => Err(Error::InvalidUrl(format!(
                "unsupported scheme in {:?}: use sqlite://, redis://, postgres:// or memory",
                url.split("://").next().unwrap_or("")
            ))),
        }
    }

    /// Stores `jobs`; one result per job (a bad job fails alone), or an error for all of
    /// them when the backend cannot be reached.
    pub(crate) async fn push_batch(
        &self,
        jobs: &[NewJob],
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        each!(self, s => s.push_batch(jobs).await)
    }

    /// [`push_batch`](Self::push_batch) for jobs the caller gives away: SQLite then sends
    /// them to its thread without copying them.
    pub(crate) async fn push_owned(
        &self,
        jobs: Vec<NewJob>,
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        match self {
            Store::Sqlite(s) => Box::pin(s.push_owned(jobs)).await,
            _ => Box::pin(self.push_batch(&jobs)).await,
        }
    }

    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        each!(self, s => s.fetch(worker, limit).await)
    }

    pub(crate) async fn ack(&self, id: &JobId, worker: &str, ack: &Ack) -> Result<bool, Error> {
        each!(self, s => s.ack(id, worker, ack).await)
    }

    /// Whether the store gathers concurrent operations into shared commits itself, so they
    /// go to it directly rather than through the [`Writer`] (SQLite: its thread does).
    pub(crate) fn batches_itself(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    /// Whether a push can store a job already claimed by a worker of this process
    /// ([`NewJob::lease_to`]): every store can.
    pub(crate) fn hands_off(&self) -> bool {
        true
    }

    /// How many shared commits a store that batches by itself
    /// ([`batches_itself`](Self::batches_itself)) has made; 0 for the others.
    pub(crate) fn commits(&self) -> u64 {
        match self {
            Store::Sqlite(s) => s.commits(),
            _ => 0,
        }
    }

    /// How many of the [`Writer`]'s batches may be being stored at once. Measured on two
    /// cores: Postgres does best with 1, the classic group commit (with 2, statements side
    /// by side cost the server more than they overlap, likely because both insert at the
    /// right end of the time-sorted primary key: 15-20 % fewer deliveries a second at 32
    /// connections, 10 % at 128); Redis with 4.
    pub(crate) fn batches_in_flight(&self) -> usize {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => 1,
            _ => 4,
        }
    }

    /// Whether this is a SQL database batched by the [`Writer`] with
    /// [`write_together`](Self::write_together) (Postgres).
    pub(crate) fn is_sql(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => true,
            _ => false,
        }
    }

    /// Pushes, outcomes and claims in one transaction (Postgres only).
    pub(crate) async fn write_together(
        &self,
        jobs: &[NewJob],
        acks: &[(JobId, std::sync::Arc<str>, Ack)],
        claims: &[(std::sync::Arc<str>, usize)],
    ) -> Result<Written, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => Box::pin(s.write_batch(jobs, acks, claims)).await,
            _ => {
                let _ = (jobs, acks, claims);
                Err(Error::Backend("not a SQL store".into()))
            }
        }
    }

    /// Stores `jobs` and workers' outcomes `acks`: in one round trip on Redis (one
    /// pipeline), else pushes then outcomes, each batch together. One result per job and
    /// per outcome, or an error for all of them when the backend cannot be reached.
    pub(crate) async fn push_and_ack(
        &self,
        jobs: Vec<NewJob>,
        acks: &[(JobId, std::sync::Arc<str>, Ack)],
    ) -> Result<PushedAndAcked, Error> {
        match self {
            #[cfg(feature = "redis")]
            Store::Redis(s) => Box::pin(s.write_batch(&jobs, acks)).await,
            _ => {
                let pushed = if jobs.is_empty() {
                    Vec::new()
                } else {
                    self.push_owned(jobs).await?
                };
                let acked = if acks.is_empty() {
                    Vec::new()
                } else {
                    self.ack_batch(acks).await?
                };
                Ok((pushed, acked))
            }
        }
    }

    /// Stores workers' outcomes together (one transaction in SQL); one result per outcome,
    /// or an error for all of them when the backend cannot be reached.
    pub(crate) async fn ack_batch(
        &self,
        acks: &[(JobId, std::sync::Arc<str>, Ack)],
    ) -> Result<Vec<Result<bool, Error>>, Error> {
        match self {
            Store::Sqlite(s) => Box::pin(s.ack_batch(acks)).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => Box::pin(s.ack_batch(acks)).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => Ok(Box::pin(s.write_batch(&[], acks)).await?.1),
            _ => {
                let mut out = Vec::with_capacity(acks.len());
                for (id, worker, ack) in acks {
                    out.push(self.ack(id, worker, ack).await);
                }
                Ok(out)
            }
        }
    }

    /// Records the worker as alive and queues again the jobs of dead workers.
    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        each!(self, s => s.heartbeat(worker, config).await)
    }

    /// Of `ids` (jobs `worker` runs), those whose lease `worker` still holds.
    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        each!(self, s => s.still_leased(worker, ids).await)
    }

    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        each!(self, s => s.deregister(worker).await)
    }

    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        each!(self, s => s.failed(limit).await)
    }

    /// Queues a failed job again and claims its key again.
    pub(crate) async fn retry(&self, id: &JobId, config: &QueueConfig) -> Result<bool, Error> {
        each!(self, s => s.retry(id, config).await)
    }

    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        each!(self, s => s.stats().await)
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        each!(self, s => s.ping().await)
    }
}

/// Rebuilds a job from stored columns; corrupt metadata becomes empty rather than a panic
/// (see [`Payload::stored`] for the payload).
pub(crate) fn decode_job(
    kind: String,
    payload: Payload,
    body: Option<Bytes>,
    key: Option<String>,
    meta: &str,
    enqueued_at: i64,
) -> Job {
    let meta: BTreeMap<String, Value> = serde_json::from_str(meta).unwrap_or_default();
    Job {
        kind,
        payload,
        body,
        body_kept_as: None,
        key,
        meta,
        enqueued_at: ms_to_time(enqueued_at),
    }
}

pub(crate) fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
