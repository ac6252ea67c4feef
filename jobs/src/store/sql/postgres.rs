//! The Postgres dialect: `FOR UPDATE SKIP LOCKED` lets many workers claim jobs side by side.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::postgres::{PgPoolOptions, PgQueryResult};
use sqlx::{Row, Transaction};

use super::{Dialect, SqlStore};
use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{JobId, Pushed};
use crate::store::{Ack, NewJob, Written};

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
    const COUNTERS: &'static str = "CREATE TABLE IF NOT EXISTS atombot_counters
        (queue TEXT NOT NULL, shard BIGINT NOT NULL, done BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (queue, shard))";
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
            .max_connections(16)
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

/// Whole batches in a few statements: the writer's batch of pushes and outcomes costs a
/// handful of round trips to the server whatever its size (arrays through `UNNEST`), not
/// three per job.
impl SqlStore<Postgres> {
    /// [`SqlStore::write_together`] with pushes and done outcomes stored many at a time.
    pub(crate) async fn write_batch(
        &self,
        jobs: &[NewJob],
        acks: &[(JobId, Arc<str>, Ack)],
        claims: &[(Arc<str>, usize)],
    ) -> Result<Written, Error> {
        let now = self.now();
        let mut tx = self.pool.begin_with(Postgres::BEGIN).await?;
        let mut written = Written {
            pushed: self.push_many(&mut tx, jobs, now).await?,
            ..Written::default()
        };
        let done: Vec<(&str, &str)> = acks
            .iter()
            .filter(|(.., ack)| matches!(ack, Ack::Done))
            .map(|(id, worker, _)| (id.0.as_str(), &**worker))
            .collect();
        let finished = self.done_many(&mut tx, &done).await?;
        for (id, worker, ack) in acks {
            let acked = match ack {
                Ack::Done => finished.contains(id.0.as_str()),
                _ => self.ack_in(&mut tx, id, worker, ack).await?,
            };
            written.acked.push(acked);
        }
        for (worker, limit) in claims {
            written
                .claimed
                .push(self.fetch_in(&mut tx, worker, *limit).await?);
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Stores `jobs` inside `tx` with at most four statements: dedupe claims, the keys
    /// already taken, the rows, the bodies. A key repeated within the batch is a duplicate
    /// of its first job.
    async fn push_many(
        &self,
        tx: &mut Transaction<'_, sqlx::Postgres>,
        jobs: &[NewJob],
        now: i64,
    ) -> Result<Vec<Pushed>, Error> {
        let mut out: Vec<Option<Pushed>> = vec![None; jobs.len()];
        // Unique jobs: the first of each key claims it; later ones follow the first.
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut follows: Vec<(usize, usize)> = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            if let (true, Some(key)) = (job.unique, job.key.as_deref()) {
                match first.get(key) {
                    Some(&j) => follows.push((i, j)),
                    None => {
                        first.insert(key, i);
                    }
                }
            }
        }
        if !first.is_empty() {
            // In one order, so batches committing side by side take the keys' locks alike.
            let mut keys: Vec<&str> = first.keys().copied().collect();
            keys.sort_unstable();
            let ids: Vec<&str> = keys.iter().map(|k| jobs[first[k]].id.0.as_str()).collect();
            let expires: Vec<i64> = keys
                .iter()
                .map(|k| jobs[first[k]].dedupe_expires_at)
                .collect();
            let claimed: HashSet<String> = sqlx::query(
                "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
                 SELECT $1, k, i, e FROM UNNEST($2::text[], $3::text[], $4::bigint[]) AS t(k, i, e)
                 ON CONFLICT (queue, job_key) DO UPDATE
                   SET job_id = excluded.job_id, expires_at = excluded.expires_at
                   WHERE atombot_dedupe.expires_at <= $5
                 RETURNING job_key",
            )
            .bind(self.queue.as_str())
            .bind(&keys)
            .bind(&ids)
            .bind(&expires)
            .bind(now)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("job_key"))
            .collect::<Result<_, _>>()?;
            let taken: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| !claimed.contains(*k))
                .collect();
            if !taken.is_empty() {
                let rows = sqlx::query(
                    "SELECT job_key, job_id FROM atombot_dedupe
                     WHERE queue = $1 AND job_key = ANY($2)",
                )
                .bind(self.queue.as_str())
                .bind(&taken)
                .fetch_all(&mut **tx)
                .await?;
                for row in rows {
                    let key: String = row.try_get("job_key")?;
                    if let Some(&i) = first.get(key.as_str()) {
                        out[i] = Some(Pushed::Duplicate(JobId(row.try_get("job_id")?)));
                    }
                }
            }
            for (i, j) in follows {
                let earlier = match &out[j] {
                    Some(pushed) => pushed.id().clone(),
                    None => jobs[j].id.clone(),
                };
                out[i] = Some(Pushed::Duplicate(earlier));
            }
        }
        let new: Vec<&NewJob> = jobs
            .iter()
            .zip(&out)
            .filter(|(_, pushed)| pushed.is_none())
            .map(|(job, _)| job)
            .collect();
        if !new.is_empty() {
            sqlx::query(
                "INSERT INTO atombot_jobs
                   (id, queue, kind, payload, job_key, meta, enqueued_at, status, attempts,
                    max_attempts, run_at, lock_by, lock_at)
                 SELECT id, $1, kind, payload, job_key, meta, enqueued_at,
                        CASE WHEN lock_by IS NULL THEN 'pending' ELSE 'running' END,
                        CASE WHEN lock_by IS NULL THEN 0 ELSE 1 END,
                        max_attempts, run_at, lock_by,
                        CASE WHEN lock_by IS NULL THEN NULL ELSE $11 END
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::bigint[], $8::bigint[], $9::bigint[], $10::text[])
                   AS t(id, kind, payload, job_key, meta, enqueued_at, max_attempts, run_at,
                        lock_by)",
            )
            .bind(self.queue.as_str())
            .bind(new.iter().map(|j| j.id.0.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.key.as_deref()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.meta.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.enqueued_at).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.max_attempts).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.run_at).collect::<Vec<_>>())
            .bind(
                new.iter()
                    .map(|j| j.lease_to.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let bodies: Vec<&NewJob> = new.iter().copied().filter(|j| j.body.is_some()).collect();
            if !bodies.is_empty() {
                sqlx::query(
                    "INSERT INTO atombot_bodies (job_id, body)
                     SELECT * FROM UNNEST($1::text[], $2::bytea[])",
                )
                .bind(bodies.iter().map(|j| j.id.0.as_str()).collect::<Vec<_>>())
                .bind(
                    bodies
                        .iter()
                        .map(|j| j.body.as_deref().unwrap_or_default())
                        .collect::<Vec<&[u8]>>(),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(jobs
            .iter()
            .zip(out)
            .map(|(job, pushed)| pushed.unwrap_or_else(|| Pushed::Enqueued(job.id.clone())))
            .collect())
    }

    /// Finishes the jobs of `acks` (id, worker) their worker still holds: deletes them and
    /// their bodies and counts them, with three statements; the ids it finished.
    async fn done_many(
        &self,
        tx: &mut Transaction<'_, sqlx::Postgres>,
        acks: &[(&str, &str)],
    ) -> Result<HashSet<String>, Error> {
        if acks.is_empty() {
            return Ok(HashSet::new());
        }
        // A done job's row goes at once; the queue counts it.
        let done: Vec<String> = sqlx::query(
            "DELETE FROM atombot_jobs AS j
             USING UNNEST($1::text[], $2::text[]) AS t(id, worker)
             WHERE j.id = t.id AND j.lock_by = t.worker AND j.status = 'running'
             RETURNING j.id",
        )
        .bind(acks.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(acks.iter().map(|(_, worker)| *worker).collect::<Vec<_>>())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?;
        if !done.is_empty() {
            sqlx::query("DELETE FROM atombot_bodies WHERE job_id = ANY($1)")
                .bind(&done)
                .execute(&mut **tx)
                .await?;
            self.count_done(tx, done.len()).await?;
        }
        Ok(done.into_iter().collect())
    }
}
