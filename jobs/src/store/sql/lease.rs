//! Claims, outcomes, heartbeats and housekeeping: the worker's side of the SQL store.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Dialect, HOUSEKEEPING_BATCH, SqlStore};
use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{JobId, Payload, dur_ms};
use crate::store::{Ack, Leased, decode_job, to_u32};

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
    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        let mut tx = self.pool.begin_with(D::BEGIN).await?;
        let claimed = self.fetch_in(&mut tx, worker, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Claims up to `limit` ready jobs for `worker` inside `tx`.
    pub(crate) async fn fetch_in(
        &self,
        tx: &mut sqlx::Transaction<'_, D::Db>,
        worker: &str,
        limit: usize,
    ) -> Result<Vec<Leased>, Error> {
        let now = self.now();
        let skip_locked = D::SKIP_LOCKED;
        let sql = format!(
            "UPDATE atombot_jobs
             SET status = 'running', lock_by = $1, lock_at = $2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM atombot_jobs
                 WHERE queue = $3 AND status IN ('pending', 'unknown') AND run_at <= $2
                 ORDER BY run_at, id
                 LIMIT $4 {skip_locked})
             RETURNING id, kind, payload, job_key, meta, enqueued_at, attempts, max_attempts"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now)
            .bind(self.queue.as_str())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let payload: String = row.try_get("payload")?;
            let meta: String = row.try_get("meta")?;
            let id: String = row.try_get("id")?;
            let body: Option<Vec<u8>> =
                sqlx::query("SELECT body FROM atombot_bodies WHERE job_id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|row| row.try_get("body"))
                    .transpose()?;
            out.push(Leased {
                id: JobId(id),
                job: decode_job(
                    row.try_get("kind")?,
                    Payload::stored(payload),
                    body.map(Into::into),
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
        let mut tx = self.pool.begin_with(D::BEGIN).await?;
        let acked = self.ack_in(&mut tx, id, worker, ack).await?;
        tx.commit().await?;
        Ok(acked)
    }

    /// Stores `acks` in one transaction. If that fails for a reason other than the database
    /// being unavailable, each is stored in its own transaction, so one bad outcome fails
    /// alone.
    pub(crate) async fn ack_batch(
        &self,
        acks: &[(JobId, std::sync::Arc<str>, Ack)],
    ) -> Result<Vec<Result<bool, Error>>, Error> {
        let together = async {
            let mut tx = self.pool.begin_with(D::BEGIN).await?;
            let mut out = Vec::with_capacity(acks.len());
            for (id, worker, ack) in acks {
                out.push(self.ack_in(&mut tx, id, worker, ack).await?);
            }
            tx.commit().await?;
            Ok::<_, Error>(out)
        };
        match together.await {
            Ok(acked) => Ok(acked.into_iter().map(Ok).collect()),
            Err(e) if e.is_unavailable() || acks.len() == 1 => Err(e),
            Err(e) => {
                tracing::warn!(outcomes = acks.len(), error = %e, "outcome batch failed; storing them one by one");
                let mut out = Vec::with_capacity(acks.len());
                for (id, worker, ack) in acks {
                    out.push(self.ack(id, worker, ack).await);
                }
                Ok(out)
            }
        }
    }

    /// Records `worker`'s outcome for job `id` inside `tx`; `false` when `worker` no longer
    /// holds the job.
    pub(crate) async fn ack_in(
        &self,
        tx: &mut sqlx::Transaction<'_, D::Db>,
        id: &JobId,
        worker: &str,
        ack: &Ack,
    ) -> Result<bool, Error> {
        let now = self.now();
        const OWNED: &str = "id = $1 AND lock_by = $2 AND status = 'running'";
        let done = match ack {
            Ack::Done => {
                // A done job never runs again: its row and body go now; the queue counts it.
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM atombot_jobs WHERE {OWNED}"
                )))
                .bind(id.0.as_str())
                .bind(worker)
                .execute(&mut **tx)
                .await?;
                if D::rows_affected(&r) > 0 {
                    sqlx::query("DELETE FROM atombot_bodies WHERE job_id = $1")
                        .bind(id.0.as_str())
                        .execute(&mut **tx)
                        .await?;
                    self.count_done(tx, 1).await?;
                }
                r
            }
            Ack::Retry { run_at, error } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = 'pending', run_at = $3, lock_by = NULL,
                     last_error = $4 WHERE {OWNED}"
                )))
                .bind(id.0.as_str())
                .bind(worker)
                .bind(*run_at)
                .bind(error.as_str())
                .execute(&mut **tx)
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
                .bind(id.0.as_str())
                .bind(worker)
                .bind(*run_at)
                .bind(if *unknown { "unknown" } else { "pending" })
                .bind(error.as_deref())
                .execute(&mut **tx)
                .await?
            }
            Ack::Fail { error } => {
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE atombot_jobs SET status = 'failed', done_at = $3, lock_by = NULL,
                     last_error = $4 WHERE {OWNED}"
                )))
                .bind(id.0.as_str())
                .bind(worker)
                .bind(now)
                .bind(error.as_str())
                .execute(&mut **tx)
                .await?;
                // A finally failed job frees its key: pushing it again may run it again.
                sqlx::query("DELETE FROM atombot_dedupe WHERE queue = $1 AND job_id = $2")
                    .bind(self.queue.as_str())
                    .bind(id.0.as_str())
                    .execute(&mut **tx)
                    .await?;
                r
            }
        };
        Ok(D::rows_affected(&done) > 0)
    }

    /// Adds `n` finished (deleted) jobs to the queue's count, on one of its counter rows.
    pub(crate) async fn count_done(
        &self,
        tx: &mut sqlx::Transaction<'_, D::Db>,
        n: usize,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO atombot_counters (queue, shard, done) VALUES ($1, $2, $3)
             ON CONFLICT (queue, shard) DO UPDATE SET done = atombot_counters.done + excluded.done",
        )
        .bind(self.queue.as_str())
        .bind(fastrand::i64(0..super::COUNTER_SHARDS))
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        let now = self.now();
        let orphan_ms = dur_ms(config.orphan_timeout);
        let now_ms = D::NOW_MS;
        // Liveness is judged on the database's clock alone, so replicas whose clocks
        // disagree never take each other for dead.
        let mut tx = self.beats.begin_with(D::BEGIN).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO atombot_workers (name, queue, last_seen, started_at)
             VALUES ($1, $2, {now_ms}, {now_ms})
             ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen"
        )))
        .bind(worker)
        .bind(self.queue.as_str())
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
               (SELECT name FROM atombot_workers WHERE last_seen > {now_ms} - $3)"
        )))
        .bind(self.queue.as_str())
        .bind(now)
        .bind(orphan_ms)
        .execute(&mut *tx)
        .await?;
        let orphans = D::rows_affected(&orphans);
        tx.commit().await?;
        // Housekeeping outside the heartbeat's transaction, in bounded batches, so the next
        // heartbeat (or a push) never waits behind a large delete.
        self.housekeeping(now, config).await?;
        Ok(orphans)
    }

    /// Deletes expired dedupe records, dead workers, and finished jobs past their retention,
    /// at most [`HOUSEKEEPING_BATCH`] rows per statement.
    async fn housekeeping(&self, now: i64, config: &QueueConfig) -> Result<(), Error> {
        let now_ms = D::NOW_MS;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM atombot_workers WHERE queue = $1 AND last_seen < {now_ms} - $2"
        )))
        .bind(self.queue.as_str())
        .bind(dur_ms(config.orphan_timeout) + 3_600_000)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM atombot_dedupe WHERE queue = $1 AND job_key IN (
               SELECT job_key FROM atombot_dedupe WHERE queue = $1 AND expires_at <= $2 LIMIT $3)",
        )
        .bind(self.queue.as_str())
        .bind(now)
        .bind(HOUSEKEEPING_BATCH)
        .execute(&self.pool)
        .await?;
        // Bodies first: the same rows pick them, and the jobs then go.
        // The status is written out, not bound, so the planner sees that the partial index
        // of ended jobs serves the query.
        for (status, keep) in [("done", config.keep_done), ("failed", config.keep_failed)] {
            for table in ["atombot_bodies WHERE job_id", "atombot_jobs WHERE id"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} IN (
                       SELECT id FROM atombot_jobs
                       WHERE queue = $1 AND status = '{status}' AND done_at < $2 LIMIT $3)"
                )))
                .bind(self.queue.as_str())
                .bind(now - dur_ms(keep))
                .bind(HOUSEKEEPING_BATCH)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// Of `ids`, those still running under `worker`'s lease.
    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        let rows = sqlx::query(
            "SELECT id FROM atombot_jobs WHERE queue = $1 AND lock_by = $2 AND status = 'running'",
        )
        .bind(self.queue.as_str())
        .bind(worker)
        .fetch_all(&self.beats)
        .await?;
        let mut held = std::collections::HashSet::with_capacity(rows.len());
        for row in rows {
            held.insert(row.try_get::<String, _>("id")?);
        }
        Ok(ids
            .iter()
            .filter(|id| held.contains(&id.0))
            .cloned()
            .collect())
    }

    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM atombot_workers WHERE name = $1")
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
