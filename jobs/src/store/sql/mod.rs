//! The SQL store on sqlx (Postgres; SQLite has a store of its own, `store::sqlite`), generic
//! over a small [`Dialect`] that supplies what is database-specific — the database type, how
//! a write transaction begins, row locking for claims, the database's clock, and how to read
//! a statement's affected-row count.
//!
//! All times are milliseconds since the Unix epoch, computed in Rust, except worker liveness,
//! which is judged on the database's clock alone.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, JobId, Pushed, Stats, dur_ms, ms_to_time, now_ms};
use crate::store::{NewJob, to_u32};

mod lease;
pub(crate) mod postgres;

/// The tables and indexes, created if missing when a store opens.
const SCHEMA: &str = include_str!("schema.sql");

/// How many counter rows a queue's done count is spread over.
pub(crate) const COUNTER_SHARDS: i64 = 8;

/// Rows one housekeeping statement deletes at most.
const HOUSEKEEPING_BATCH: i64 = 1000;

/// What differs between the SQL databases the store runs on.
pub(crate) trait Dialect: Send + Sync + 'static {
    /// The sqlx database.
    type Db: Database;
    /// Appended to the sub-select that picks jobs to claim (row locks that skip taken rows).
    const SKIP_LOCKED: &'static str;
    /// Starts a write transaction.
    const BEGIN: &'static str;
    /// An SQL expression for the database's clock, in milliseconds since the Unix epoch.
    const NOW_MS: &'static str;
    /// Run inside the schema transaction before the tables are created (to serialize
    /// processes that start at once), if the database needs it.
    const SCHEMA_LOCK: Option<&'static str>;
    /// Creates the table of jobs' raw bodies if missing. Bodies live apart from the jobs'
    /// rows, written once: a job's status changes then rewrite a small row, not its body.
    const BODIES: &'static str;
    /// A query whose `n` is 1 when this version's schema is in place (the index the
    /// schema makes last exists), else 0.
    const HAS_SCHEMA: &'static str;
    /// Creates the table of finished jobs' counts if missing: a done job's row is deleted at
    /// once and counted here, in one of [`COUNTER_SHARDS`] rows per queue so batches
    /// committing side by side seldom wait on one row's lock.
    const COUNTERS: &'static str;
    /// How many rows a statement changed.
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;
}

/// A queue stored in SQL tables.
pub(crate) struct SqlStore<D: Dialect> {
    pool: sqlx::Pool<D::Db>,
    /// A connection of its own for heartbeats and lease checks, so a busy pool never
    /// delays them.
    beats: sqlx::Pool<D::Db>,
    queue: String,
    /// This replica's clock offset (tests only); lease times use the database's clock.
    skew_ms: i64,
    /// When a batch last failed (ms since the epoch): pooled connections are checked before
    /// use for a while after it (`postgres::CHECK_AFTER_FAILURE`).
    failed_at: Arc<AtomicI64>,
    dialect: PhantomData<fn() -> D>,
}

/// The jobs of a queue by status: one count per partial index (the statuses written out so
/// the planner matches them), so each reads its own index entries, never the whole table,
/// which between autovacuum runs is mostly dead rows. The runtime samples it every second.
pub(crate) const STATS: &str = "SELECT status, COUNT(*) AS n FROM atombot_jobs
     WHERE queue = $1 AND status IN ('pending', 'unknown') GROUP BY status
     UNION ALL
     SELECT 'running', COUNT(*) FROM atombot_jobs WHERE queue = $1 AND status = 'running'
     UNION ALL
     SELECT status, COUNT(*) FROM atombot_jobs
     WHERE queue = $1 AND status IN ('done', 'failed') GROUP BY status";

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            beats: self.beats.clone(),
            queue: self.queue.clone(),
            skew_ms: self.skew_ms,
            failed_at: self.failed_at.clone(),
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    <D::Db as Database>::Arguments: IntoArguments<D::Db>,
    for<'a> &'a str: ColumnIndex<<D::Db as Database>::Row>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q [u8]>: Encode<'q, D::Db> + Type<D::Db>,
    for<'q> i64: Encode<'q, D::Db> + Type<D::Db>,
    for<'r> String: Decode<'r, D::Db> + Type<D::Db>,
    for<'r> Vec<u8>: Decode<'r, D::Db> + Type<D::Db>,
    for<'r> i64: Decode<'r, D::Db>,
{
    /// A store on `pool` (and `beats` for heartbeats); creates the tables if needed.
    async fn open(
        pool: sqlx::Pool<D::Db>,
        beats: sqlx::Pool<D::Db>,
        failed_at: Arc<AtomicI64>,
        config: &QueueConfig,
    ) -> Result<Self, Error> {
        // The schema's last index marks it complete: once it is there, so is the rest, and
        // the DDL (whose table locks could deadlock with other processes' pushes on
        // Postgres) is skipped. An older version's schema is brought up to date.
        let has_schema = async |conn: &mut <D::Db as Database>::Connection| {
            Ok::<_, Error>(
                sqlx::query(D::HAS_SCHEMA)
                    .fetch_one(conn)
                    .await?
                    .try_get::<i64, _>("n")?
                    == 1,
            )
        };
        if !has_schema(&mut *pool.acquire().await?).await? {
            let mut tx = pool.begin_with(D::BEGIN).await?;
            if let Some(lock) = D::SCHEMA_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            // Another process may have made it while this one waited for the lock.
            if !has_schema(&mut *tx).await? {
                sqlx::query(D::BODIES).execute(&mut *tx).await?;
                sqlx::query(D::COUNTERS).execute(&mut *tx).await?;
                sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok(SqlStore {
            pool,
            beats,
            queue: config.queue.clone(),
            skew_ms: config.clock_skew_ms,
            failed_at,
            dialect: PhantomData,
        })
    }

    /// This replica's idea of now, in milliseconds.
    fn now(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms)
    }

    /// Stores `jobs` in one transaction. If that fails for a reason other than the database
    /// being unavailable, each job is stored in its own transaction, so one bad job (a NUL in
    /// a key, say) fails alone.
    pub(crate) async fn push_batch(
        &self,
        jobs: &[NewJob],
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        match self.push_together(jobs).await {
            Ok(pushed) => Ok(pushed.into_iter().map(Ok).collect()),
            Err(e) if e.is_unavailable() || jobs.len() == 1 => Err(e),
            Err(e) => {
                tracing::warn!(jobs = jobs.len(), error = %e, "push batch failed; storing its jobs one by one");
                let mut out = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let one = self.push_together(std::slice::from_ref(job)).await;
                    out.push(one.and_then(|mut v| {
                        v.pop()
                            .ok_or_else(|| Error::Backend("push answered short".into()))
                    }));
                }
                Ok(out)
            }
        }
    }

    async fn push_together(&self, jobs: &[NewJob]) -> Result<Vec<Pushed>, Error> {
        let now = self.now();
        let mut tx = self.pool.begin_with(D::BEGIN).await?;
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(self.push_in(&mut tx, job, now).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Stores `job` inside `tx` (unless its key is taken).
    async fn push_in(
        &self,
        tx: &mut sqlx::Transaction<'_, D::Db>,
        job: &NewJob,
        now: i64,
    ) -> Result<Pushed, Error> {
        if let (true, Some(key)) = (job.unique, job.key.as_deref()) {
            let claimed = sqlx::query(
                "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (queue, job_key) DO UPDATE
                   SET job_id = excluded.job_id, expires_at = excluded.expires_at
                   WHERE atombot_dedupe.expires_at <= $5
                 RETURNING job_id",
            )
            .bind(self.queue.as_str())
            .bind(key)
            .bind(job.id.0.as_str())
            .bind(job.dedupe_expires_at)
            .bind(now)
            .fetch_optional(&mut **tx)
            .await?;
            if claimed.is_none() {
                let row = sqlx::query(
                    "SELECT job_id FROM atombot_dedupe WHERE queue = $1 AND job_key = $2",
                )
                .bind(self.queue.as_str())
                .bind(key)
                .fetch_one(&mut **tx)
                .await?;
                return Ok(Pushed::Duplicate(JobId(row.try_get("job_id")?)));
            }
        }
        // Claimed at once by a worker of this process (see `NewJob::lease_to`), or pending.
        let (status, attempts) = match job.lease_to {
            Some(_) => ("running", 1_i64),
            None => ("pending", 0),
        };
        sqlx::query(
            "INSERT INTO atombot_jobs
               (id, queue, kind, payload, job_key, meta, enqueued_at, status, attempts,
                max_attempts, run_at, lock_by, lock_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $10, $11, $8, $9, $12,
                     CASE WHEN $10 = 'running' THEN $13 ELSE NULL END)",
        )
        .bind(job.id.0.as_str())
        .bind(self.queue.as_str())
        .bind(job.kind.as_str())
        .bind(job.payload.json())
        .bind(job.key.as_deref())
        .bind(job.meta.as_str())
        .bind(job.enqueued_at)
        .bind(job.max_attempts)
        .bind(job.run_at)
        .bind(status)
        .bind(attempts)
        .bind(job.lease_to.as_deref())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if let Some(body) = job.body.as_deref() {
            sqlx::query("INSERT INTO atombot_bodies (job_id, body) VALUES ($1, $2)")
                .bind(job.id.0.as_str())
                .bind(Some(body))
                .execute(&mut **tx)
                .await?;
        }
        Ok(Pushed::Enqueued(job.id.clone()))
    }

    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        let rows = sqlx::query(
            "SELECT id, kind, job_key, attempts, last_error, payload, enqueued_at, done_at
             FROM atombot_jobs WHERE queue = $1 AND status = 'failed'
             ORDER BY done_at DESC, id LIMIT $2",
        )
        .bind(self.queue.as_str())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let payload: String = row.try_get("payload")?;
            let done_at: Option<i64> = row.try_get("done_at")?;
            out.push(FailedJob {
                id: JobId(row.try_get("id")?),
                kind: row.try_get("kind")?,
                key: row.try_get("job_key")?,
                attempts: to_u32(row.try_get("attempts")?),
                last_error: row.try_get("last_error")?,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                enqueued_at: ms_to_time(row.try_get("enqueued_at")?),
                failed_at: done_at.map(ms_to_time),
            });
        }
        Ok(out)
    }

    pub(crate) async fn retry(&self, id: &JobId, config: &QueueConfig) -> Result<bool, Error> {
        let now = self.now();
        let mut tx = self.pool.begin_with(D::BEGIN).await?;
        let r = sqlx::query(
            "UPDATE atombot_jobs SET status = 'pending', attempts = 0, run_at = $3, done_at = NULL
             WHERE queue = $1 AND id = $2 AND status = 'failed'",
        )
        .bind(self.queue.as_str())
        .bind(id.0.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let retried = D::rows_affected(&r) > 0;
        if retried {
            // The job's key was freed when it failed: claim it again, so the same key
            // pushed (or delivered) meanwhile is a duplicate of the retried job.
            sqlx::query(
                "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
                 SELECT queue, job_key, id, $3 FROM atombot_jobs
                 WHERE queue = $1 AND id = $2 AND job_key IS NOT NULL
                 ON CONFLICT (queue, job_key) DO UPDATE
                   SET job_id = excluded.job_id, expires_at = excluded.expires_at",
            )
            .bind(self.queue.as_str())
            .bind(id.0.as_str())
            .bind(now.saturating_add(dur_ms(config.dedupe_ttl)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(retried)
    }

    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        let rows = sqlx::query(STATS)
            .bind(self.queue.as_str())
            .fetch_all(&self.pool)
            .await?;
        let counted: i64 = sqlx::query(
            "SELECT COALESCE(SUM(done), 0)::BIGINT AS n FROM atombot_counters WHERE queue = $1",
        )
        .bind(self.queue.as_str())
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let mut stats = Stats {
            done: u64::try_from(counted).unwrap_or(0),
            ..Stats::default()
        };
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            stats.count_status(&status, u64::try_from(n).unwrap_or(0));
        }
        Ok(stats)
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
