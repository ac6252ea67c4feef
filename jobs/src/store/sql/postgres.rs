//! The Postgres dialect: `FOR UPDATE SKIP LOCKED` lets many workers claim jobs side by side.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPoolOptions, PgQueryResult};
use sqlx::{Connection, Row};

use super::{Dialect, SqlStore};
use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{JobId, Pushed, dur_ms, now_ms};
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
    const HAS_SCHEMA: &'static str = "SELECT CASE WHEN to_regclass('atombot_jobs_running') IS NULL
        THEN 0 ELSE 1 END::BIGINT AS n";

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Settings of the queue's sessions, for its short statements on churning tables:
///
/// - `enable_seqscan = off`: every delivery inserts rows that are deleted milliseconds
///   later, so between two autovacuum runs a table holds a few live rows among thousands of
///   pages of dead ones. The planner, going by the live rows, would then read every page to
///   find a few jobs by id (seen in `perf`: most of the server's time in
///   `heap_page_prune_opt` and visibility checks), where the index reads a handful. Every
///   query of the queue has an index; a scan of the whole table stays possible where none
///   applies, just last in line.
/// - `jit = off`: a scan kept last in line is priced so high that it crossed the JIT
///   thresholds, and compiling it took a hundred milliseconds or more, once a second
///   (the metrics' depth sample) while deliveries waited. These statements never gain
///   from JIT.
/// - `plan_cache_mode = force_generic_plan`: the batch statement was planned again on
///   every run (its custom plan looked cheaper than the generic one), about a tenth of the
///   server's time under load; its plan does not depend on the arrays bound to it.
async fn session_settings(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "SET enable_seqscan = off; SET jit = off; SET plan_cache_mode = force_generic_plan",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How recently a pooled connection must have been used to skip the check before use.
const RECENTLY_USED: Duration = Duration::from_secs(1);
/// How long after a failed batch every pooled connection is checked before use.
const CHECK_AFTER_FAILURE: Duration = Duration::from_secs(10);

impl SqlStore<Postgres> {
    /// Connects to the Postgres database named by the config's URL.
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Self, Error> {
        let failed_at = Arc::new(AtomicI64::new(i64::MIN));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(config.backend_timeout)
            // A connection used within the last second is not pinged before each batch (a
            // round trip on the way of every delivery), as HikariCP skips its check within
            // half a second of the last use. After a failed batch every connection is
            // pinged for a while, so the ones a restart broke are replaced, not each
            // failing a batch of its own.
            .test_before_acquire(false)
            .before_acquire({
                let failed_at = failed_at.clone();
                move |conn, meta| {
                    let check = meta.idle_for >= RECENTLY_USED
                        || now_ms().saturating_sub(failed_at.load(Ordering::Relaxed))
                            < dur_ms(CHECK_AFTER_FAILURE);
                    Box::pin(async move {
                        if check {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }
            })
            .after_connect(|conn, _| Box::pin(session_settings(conn)))
            .connect(&config.url)
            .await?;
        // Heartbeats and lease checks on a connection of their own.
        let beats = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(config.backend_timeout)
            .after_connect(|conn, _| Box::pin(session_settings(conn)))
            .connect(&config.url)
            .await?;
        SqlStore::open(pool, beats, failed_at, config).await
    }
}

/// Pushes and done outcomes of a batch, many at a time, in one statement (data-modifying
/// `WITH` clauses over arrays): claims the new dedupe keys, inserts the jobs whose key was
/// free and their bodies, deletes the finished jobs and their bodies, counts them. Its
/// answer: each dedupe key with the job that holds it, then each finished job with a NULL
/// key. A key still held by an earlier job is "updated" to itself, so it is answered too.
/// A job is finished by its id and worker alone (`lock_by` is set exactly while a job
/// runs): a `status` test would let the planner walk the whole index of running jobs,
/// dead entries included, instead of the primary key.
const STORE_MANY: &str = "
WITH claimed AS (
  INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
  SELECT $1, k, i, e FROM UNNEST($12::text[], $13::text[], $14::bigint[]) AS t(k, i, e)
  ON CONFLICT (queue, job_key) DO UPDATE SET
    job_id = CASE WHEN atombot_dedupe.expires_at <= $11
                  THEN excluded.job_id ELSE atombot_dedupe.job_id END,
    expires_at = CASE WHEN atombot_dedupe.expires_at <= $11
                      THEN excluded.expires_at ELSE atombot_dedupe.expires_at END
  RETURNING job_key, job_id
), stored AS (
  INSERT INTO atombot_jobs
    (id, queue, kind, payload, job_key, meta, enqueued_at, status, attempts, max_attempts,
     run_at, lock_by, lock_at)
  SELECT id, $1, kind, payload, job_key, meta, enqueued_at,
         CASE WHEN lock_by IS NULL THEN 'pending' ELSE 'running' END,
         CASE WHEN lock_by IS NULL THEN 0 ELSE 1 END,
         max_attempts, run_at, lock_by, CASE WHEN lock_by IS NULL THEN NULL ELSE $11 END
  FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
              $8::bigint[], $9::bigint[], $10::text[], $15::bool[])
    AS t(id, kind, payload, job_key, meta, enqueued_at, max_attempts, run_at, lock_by, uniq)
  WHERE NOT uniq OR id IN (SELECT job_id FROM claimed)
  RETURNING id
), bodies AS (
  INSERT INTO atombot_bodies (job_id, body)
  SELECT id, body FROM UNNEST($16::text[], $17::bytea[]) AS t(id, body)
  WHERE id IN (SELECT id FROM stored)
), finished AS (
  DELETE FROM atombot_jobs AS j
  WHERE j.id = ANY($18::text[])
    AND j.lock_by = ($19::text[])[array_position($18::text[], j.id)]
  RETURNING j.id
), unbodied AS (
  DELETE FROM atombot_bodies WHERE job_id = ANY(ARRAY(SELECT id FROM finished))
), counted AS (
  INSERT INTO atombot_counters (queue, shard, done)
  SELECT $1, $20, count(*) FROM finished HAVING count(*) > 0
  ON CONFLICT (queue, shard) DO UPDATE SET done = atombot_counters.done + excluded.done
)
SELECT job_key, job_id FROM claimed
UNION ALL SELECT NULL, id FROM finished";

/// Whole batches in one statement: the writer's batch of pushes and done outcomes is one
/// round trip to the server whatever its size (arrays through `UNNEST`), and needs no
/// transaction of its own (a statement is atomic).
impl SqlStore<Postgres> {
    /// [`SqlStore::write_together`] with pushes and done outcomes stored many at a time;
    /// a batch of only those is one statement, else one transaction.
    pub(crate) async fn write_batch(
        &self,
        jobs: &[NewJob],
        acks: &[(JobId, Arc<str>, Ack)],
        claims: &[(Arc<str>, usize)],
    ) -> Result<Written, Error> {
        let written = self.write_batch_once(jobs, acks, claims).await;
        if written.is_err() {
            self.failed_at.store(now_ms(), Ordering::Relaxed);
        }
        written
    }

    async fn write_batch_once(
        &self,
        jobs: &[NewJob],
        acks: &[(JobId, Arc<str>, Ack)],
        claims: &[(Arc<str>, usize)],
    ) -> Result<Written, Error> {
        let now = self.now();
        let done: Vec<(&str, &str)> = acks
            .iter()
            .filter(|(.., ack)| matches!(ack, Ack::Done))
            .map(|(id, worker, _)| (id.0.as_str(), &**worker))
            .collect();
        let simple = claims.is_empty() && done.len() == acks.len();
        let mut tx = if simple {
            None
        } else {
            Some(self.pool.begin_with(Postgres::BEGIN).await?)
        };
        let (pushed, finished) = match tx.as_mut() {
            Some(tx) => self.store_many(tx, jobs, &done, now).await?,
            None => {
                let mut conn = self.pool.acquire().await?;
                self.store_many(&mut conn, jobs, &done, now).await?
            }
        };
        let mut written = Written {
            pushed,
            ..Written::default()
        };
        for (id, worker, ack) in acks {
            let acked = match (ack, tx.as_mut()) {
                (Ack::Done, _) | (_, None) => finished.contains(id.0.as_str()),
                (_, Some(tx)) => self.ack_in(tx, id, worker, ack).await?,
            };
            written.acked.push(acked);
        }
        if let Some(mut tx) = tx {
            for (worker, limit) in claims {
                written
                    .claimed
                    .push(self.fetch_in(&mut tx, worker, *limit).await?);
            }
            tx.commit().await?;
        }
        Ok(written)
    }

    /// Stores `jobs` and finishes the jobs of `done` (id, worker) their worker still holds,
    /// in one statement on `conn`: what each push did, and the ids finished. A key repeated
    /// within the batch is a duplicate of its first job.
    async fn store_many(
        &self,
        conn: &mut PgConnection,
        jobs: &[NewJob],
        done: &[(&str, &str)],
        now: i64,
    ) -> Result<(Vec<Pushed>, HashSet<String>), Error> {
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
        let followers: HashSet<usize> = follows.iter().map(|&(i, _)| i).collect();
        let new: Vec<&NewJob> = (0..jobs.len())
            .filter(|i| !followers.contains(i))
            .map(|i| &jobs[i])
            .collect();
        // In one order, so batches committing side by side take the keys' locks alike.
        let mut keys: Vec<&str> = first.keys().copied().collect();
        keys.sort_unstable();
        let bodies: Vec<&NewJob> = new.iter().copied().filter(|j| j.body.is_some()).collect();
        let rows = sqlx::query(STORE_MANY)
            .bind(self.queue.as_str())
            .bind(new.iter().map(|j| j.id.0.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>())
            .bind(new.iter().map(|j| j.payload.json()).collect::<Vec<_>>())
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
            .bind(&keys)
            .bind(
                keys.iter()
                    .map(|k| jobs[first[k]].id.0.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                keys.iter()
                    .map(|k| jobs[first[k]].dedupe_expires_at)
                    .collect::<Vec<_>>(),
            )
            .bind(
                new.iter()
                    .map(|j| j.unique && j.key.is_some())
                    .collect::<Vec<_>>(),
            )
            .bind(bodies.iter().map(|j| j.id.0.as_str()).collect::<Vec<_>>())
            .bind(
                bodies
                    .iter()
                    .map(|j| j.body.as_deref().unwrap_or_default())
                    .collect::<Vec<&[u8]>>(),
            )
            .bind(done.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(done.iter().map(|(_, worker)| *worker).collect::<Vec<_>>())
            .bind(fastrand::i64(0..super::COUNTER_SHARDS))
            .fetch_all(conn)
            .await?;
        let mut holders: HashMap<String, String> = HashMap::new();
        let mut finished = HashSet::new();
        for row in rows {
            let id: String = row.try_get(1)?;
            match row.try_get::<Option<String>, _>(0)? {
                Some(key) => {
                    holders.insert(key, id);
                }
                None => {
                    finished.insert(id);
                }
            }
        }
        let mut out: Vec<Option<Pushed>> = vec![None; jobs.len()];
        for (&key, &i) in &first {
            let holder = holders
                .remove(key)
                .ok_or_else(|| Error::Backend("dedupe key not answered".into()))?;
            out[i] = Some(if holder == jobs[i].id.0 {
                Pushed::Enqueued(jobs[i].id.clone())
            } else {
                Pushed::Duplicate(JobId(holder))
            });
        }
        for (i, j) in follows {
            let earlier = out[j].as_ref().map_or(&jobs[j].id, Pushed::id).clone();
            out[i] = Some(Pushed::Duplicate(earlier));
        }
        let pushed = jobs
            .iter()
            .zip(out)
            .map(|(job, pushed)| pushed.unwrap_or_else(|| Pushed::Enqueued(job.id.clone())))
            .collect();
        Ok((pushed, finished))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The depth sample must not read the whole jobs table: on a churning table that was
    /// a scan of every dead page, once a second, while deliveries waited.
    #[tokio::test]
    async fn stats_read_indexes_not_the_table() {
        let Some(url) = std::env::var("ATOMBOT_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipped: ATOMBOT_TEST_POSTGRES_URL not set");
            return;
        };
        // Connecting brings the schema up to date.
        let store = SqlStore::<Postgres>::connect(&QueueConfig::new(url))
            .await
            .unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "EXPLAIN {}",
            super::super::STATS
        )))
        .bind("stats-plan")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan"), "{plan}");
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(jit, "off");
    }
}
