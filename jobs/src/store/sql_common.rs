// Shared SQL for SQLite and Postgres, included by `sqlite.rs` and `postgres.rs`, which define
// `Db`, `SKIP_LOCKED` and `BEGIN`. Placeholders are `$n` (sqlx accepts them for SQLite too);
// all times are milliseconds since the Unix epoch, computed in Rust.

use sqlx::Row;

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, JobId, Pushed, Stats, dur_ms, ms_to_time, now_ms};
use crate::store::{Ack, Leased, NewJob, decode_job, to_u32};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS atombot_jobs (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    job_key TEXT,
    meta TEXT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lock_by TEXT,
    lock_at BIGINT,
    last_error TEXT,
    done_at BIGINT
);
CREATE INDEX IF NOT EXISTS atombot_jobs_ready ON atombot_jobs (queue, status, run_at);
CREATE INDEX IF NOT EXISTS atombot_jobs_lock ON atombot_jobs (lock_by);
CREATE INDEX IF NOT EXISTS atombot_jobs_finished ON atombot_jobs (queue, status, done_at);
CREATE TABLE IF NOT EXISTS atombot_dedupe (
    queue TEXT NOT NULL,
    job_key TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (queue, job_key)
);
CREATE INDEX IF NOT EXISTS atombot_dedupe_expires ON atombot_dedupe (queue, expires_at);
CREATE TABLE IF NOT EXISTS atombot_workers (
    name TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    last_seen BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);
";

/// Rows one housekeeping statement deletes at most.
const HOUSEKEEPING_BATCH: i64 = 1000;

/// A queue stored in SQL tables.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: sqlx::Pool<Db>,
    /// A connection of its own for heartbeats and lease checks, so a busy pool never
    /// delays them (the same pool for an in-memory database, which has one connection).
    beats: sqlx::Pool<Db>,
    queue: String,
    /// This replica's clock offset (tests only); lease times use the database's clock.
    skew_ms: i64,
}

impl Store {
    /// This replica's idea of now, in milliseconds.
    fn now(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms)
    }

    /// Stores `jobs` in one transaction. If that fails for a reason other than the database
    /// being unavailable, each job is stored in its own transaction, so one bad job (a NUL in
    /// a key on Postgres, say) fails alone.
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
        let mut tx = self.pool.begin_with(BEGIN).await?;
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            if let (true, Some(key)) = (job.unique, job.key.as_deref()) {
                let claimed = sqlx::query(
                    "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (queue, job_key) DO UPDATE
                       SET job_id = excluded.job_id, expires_at = excluded.expires_at
                       WHERE atombot_dedupe.expires_at <= $5
                     RETURNING job_id",
                )
                .bind(&self.queue)
                .bind(key)
                .bind(&job.id.0)
                .bind(job.dedupe_expires_at)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if claimed.is_none() {
                    let row = sqlx::query(
                        "SELECT job_id FROM atombot_dedupe WHERE queue = $1 AND job_key = $2",
                    )
                    .bind(&self.queue)
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
                    out.push(Pushed::Duplicate(JobId(row.try_get("job_id")?)));
                    continue;
                }
            }
            sqlx::query(
                "INSERT INTO atombot_jobs
                   (id, queue, kind, payload, job_key, meta, enqueued_at, status, attempts,
                    max_attempts, run_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9)",
            )
            .bind(&job.id.0)
            .bind(&self.queue)
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(job.key.as_deref())
            .bind(&job.meta)
            .bind(job.enqueued_at)
            .bind(job.max_attempts)
            .bind(job.run_at)
            .execute(&mut *tx)
            .await?;
            out.push(Pushed::Enqueued(job.id.clone()));
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        let now = self.now();
        let sql = format!(
            "UPDATE atombot_jobs
             SET status = 'running', lock_by = $1, lock_at = $2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM atombot_jobs
                 WHERE queue = $3 AND status IN ('pending', 'unknown') AND run_at <= $2
                 ORDER BY run_at, id
                 LIMIT $4 {SKIP_LOCKED})
             RETURNING id, kind, payload, job_key, meta, enqueued_at, attempts, max_attempts"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now)
            .bind(&self.queue)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let payload: String = row.try_get("payload")?;
            let meta: String = row.try_get("meta")?;
            out.push(Leased {
                id: JobId(row.try_get("id")?),
                job: decode_job(
                    row.try_get("kind")?,
                    &payload,
                    row.try_get("job_key")?,
                    &meta,
                    row.try_get("enqueued_at")?,
                ),
                attempts: to_u32(row.try_get("attempts")?),
                max_attempts: to_u32(row.try_get("max_attempts")?),
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    pub(crate) async fn ack(&self, id: &JobId, worker: &str, ack: &Ack) -> Result<bool, Error> {
        let now = self.now();
        const OWNED: &str = "id = $1 AND lock_by = $2 AND status = 'running'";
        let done = match ack {
            Ack::Done => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = 'done', done_at = $3, lock_by = NULL,
                     last_error = NULL WHERE {OWNED}"
                )))
                .bind(&id.0)
                .bind(worker)
                .bind(now)
                .execute(&self.pool)
                .await?
            }
            Ack::Retry { run_at, error } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = 'pending', run_at = $3, lock_by = NULL,
                     last_error = $4 WHERE {OWNED}"
                )))
                .bind(&id.0)
                .bind(worker)
                .bind(*run_at)
                .bind(error)
                .execute(&self.pool)
                .await?
            }
            Ack::Release {
                run_at,
                error,
                unknown,
            } => {
                // 'unknown' is pending too (fetched alike), marked for stats.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = $4, run_at = $3, lock_by = NULL,
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                     last_error = COALESCE($5, last_error)
                     WHERE {OWNED}"
                )))
                .bind(&id.0)
                .bind(worker)
                .bind(*run_at)
                .bind(if *unknown { "unknown" } else { "pending" })
                .bind(error.as_deref())
                .execute(&self.pool)
                .await?
            }
            Ack::Fail { error } => {
                let mut tx = self.pool.begin_with(BEGIN).await?;
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = 'failed', done_at = $3, lock_by = NULL,
                     last_error = $4 WHERE {OWNED}"
                )))
                .bind(&id.0)
                .bind(worker)
                .bind(now)
                .bind(error)
                .execute(&mut *tx)
                .await?;
                // A finally failed job frees its key: pushing it again may run it again.
                sqlx::query("DELETE FROM atombot_dedupe WHERE queue = $1 AND job_id = $2")
                    .bind(&self.queue)
                    .bind(&id.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                r
            }
        };
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        let now = self.now();
        let orphan_ms = dur_ms(config.orphan_timeout);
        // Liveness is judged on the database's clock alone, so replicas whose clocks
        // disagree never take each other for dead.
        let mut tx = self.beats.begin_with(BEGIN).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO atombot_workers (name, queue, last_seen, started_at)
             VALUES ($1, $2, {DB_NOW_MS}, {DB_NOW_MS})
             ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen"
        )))
        .bind(worker)
        .bind(&self.queue)
        .execute(&mut *tx)
        .await?;
        // Orphans: running jobs whose worker is gone or silent. A job that already used all
        // its attempts (for example one that kills its worker every time) is failed instead.
        let orphans = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE atombot_jobs
             SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
                 done_at = CASE WHEN attempts >= max_attempts THEN $2 ELSE NULL END,
                 run_at = $2, lock_by = NULL,
                 last_error = 'worker ' || lock_by || ' died while running the job'
             WHERE queue = $1 AND status = 'running' AND lock_by NOT IN
               (SELECT name FROM atombot_workers WHERE last_seen > {DB_NOW_MS} - $3)"
        )))
        .bind(&self.queue)
        .bind(now)
        .bind(orphan_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        // Housekeeping outside the heartbeat's transaction, in bounded batches, so the next
        // heartbeat (or a push) never waits behind a large delete.
        self.housekeeping(now, config).await?;
        Ok(orphans)
    }

    /// Deletes expired dedupe records, dead workers, and finished jobs past their retention,
    /// at most [`HOUSEKEEPING_BATCH`] rows per statement.
    async fn housekeeping(&self, now: i64, config: &QueueConfig) -> Result<(), Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM atombot_workers WHERE queue = $1 AND last_seen < {DB_NOW_MS} - $2"
        )))
        .bind(&self.queue)
        .bind(dur_ms(config.orphan_timeout) + 3_600_000)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM atombot_dedupe WHERE queue = $1 AND job_key IN (
               SELECT job_key FROM atombot_dedupe WHERE queue = $1 AND expires_at <= $2 LIMIT $3)",
        )
        .bind(&self.queue)
        .bind(now)
        .bind(HOUSEKEEPING_BATCH)
        .execute(&self.pool)
        .await?;
        for (status, keep) in [("done", config.keep_done), ("failed", config.keep_failed)] {
            sqlx::query(
                "DELETE FROM atombot_jobs WHERE id IN (
                   SELECT id FROM atombot_jobs
                   WHERE queue = $1 AND status = $2 AND done_at < $3 LIMIT $4)",
            )
            .bind(&self.queue)
            .bind(status)
            .bind(now - dur_ms(keep))
            .bind(HOUSEKEEPING_BATCH)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Of `ids`, those still running under `worker`'s lease.
    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id FROM atombot_jobs WHERE queue = $1 AND lock_by = $2 AND status = 'running'",
        )
        .bind(&self.queue)
        .bind(worker)
        .fetch_all(&self.beats)
        .await?;
        let mut held = std::collections::HashSet::with_capacity(rows.len());
        for row in rows {
            held.insert(row.try_get::<String, _>("id")?);
        }
        Ok(ids.iter().filter(|id| held.contains(&id.0)).cloned().collect())
    }

    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM atombot_workers WHERE name = $1")
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        let rows = sqlx::query(
            "SELECT id, kind, job_key, attempts, last_error, payload, enqueued_at, done_at
             FROM atombot_jobs WHERE queue = $1 AND status = 'failed'
             ORDER BY done_at DESC, id LIMIT $2",
        )
        .bind(&self.queue)
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
        let mut tx = self.pool.begin_with(BEGIN).await?;
        let r = sqlx::query(
            "UPDATE atombot_jobs SET status = 'pending', attempts = 0, run_at = $3, done_at = NULL
             WHERE queue = $1 AND id = $2 AND status = 'failed'",
        )
        .bind(&self.queue)
        .bind(&id.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() > 0 {
            // The job's key was freed when it failed: claim it again, so the same key
            // pushed (or delivered) meanwhile is a duplicate of the retried job.
            sqlx::query(
                "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
                 SELECT queue, job_key, id, $3 FROM atombot_jobs
                 WHERE queue = $1 AND id = $2 AND job_key IS NOT NULL
                 ON CONFLICT (queue, job_key) DO UPDATE
                   SET job_id = excluded.job_id, expires_at = excluded.expires_at",
            )
            .bind(&self.queue)
            .bind(&id.0)
            .bind(now.saturating_add(dur_ms(config.dedupe_ttl)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM atombot_jobs WHERE queue = $1 GROUP BY status",
        )
        .bind(&self.queue)
        .fetch_all(&self.pool)
        .await?;
        let mut stats = Stats::default();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                "pending" => stats.pending += n,
                "unknown" => {
                    stats.pending += n;
                    stats.unknown = n;
                }
                "running" => stats.running = n,
                "done" => stats.done = n,
                "failed" => stats.failed = n,
                _ => {}
            }
        }
        Ok(stats)
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
