//! Issue 12: heartbeats and leases are not starved by housekeeping. On a SQLite file with a
//! huge backlog of expired rows (finished jobs past retention, dedupe keys past their TTL)
//! that all expire while a long job runs, every worker's heartbeat stays fresh, the backlog is
//! deleted a bounded batch at a time, and the live job is never taken over.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;
use serde_json::json;
use sqlx::Row;
use tokio::sync::oneshot;

/// Expired rows of each kind (finished jobs, dedupe keys): deleting them in one transaction
/// takes well over the orphan timeout (about 1.5 s on an idle machine).
const LOAD: i64 = 400_000;
const ORPHAN_TIMEOUT: Duration = Duration::from_millis(900);
const KEEP_DONE: Duration = Duration::from_secs(24 * 3600);
/// How many rows of each kind housekeeping must have deleted while the job runs.
const CLEANED: i64 = 4_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Inserts the backlog straight into the file: rows that all expire at `expire_at`.
async fn insert_load(pool: &sqlx::SqlitePool, queue: &str, expire_at: i64) {
    let done_at = expire_at - KEEP_DONE.as_millis() as i64;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO atombot_jobs (id, queue, kind, payload, job_key, meta, enqueued_at, status,
                                   attempts, max_attempts, run_at, done_at)
         SELECT printf('load-%08d', i), $2, 'load', '{}', NULL, '{}', $3, 'done', 1, 5, $3, $3
         FROM n",
    )
    .bind(LOAD)
    .bind(queue)
    .bind(done_at)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
         SELECT $2, printf('load-key-%08d', i), printf('load-%08d', i), $3 FROM n",
    )
    .bind(LOAD)
    .bind(queue)
    .bind(expire_at)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Start the workers on a checkpointed WAL, so no commit of theirs copies the backlog.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .unwrap();
}

/// Rows of the backlog still stored: (finished jobs, dedupe keys).
async fn load_left(pool: &sqlx::SqlitePool, queue: &str) -> (i64, i64) {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM atombot_jobs WHERE queue = $1 AND kind = 'load') AS jobs,
                (SELECT COUNT(*) FROM atombot_dedupe WHERE queue = $1) AS keys",
    )
    .bind(queue)
    .fetch_one(pool)
    .await
    .unwrap();
    (row.get("jobs"), row.get("keys"))
}

fn start_worker(
    queue: &Queue,
    prefix: &str,
    runs: &Arc<AtomicU32>,
    release: &Arc<AtomicBool>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (runs, release) = (runs.clone(), release.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = queue
        .worker(move |_job: Job, _ctx: JobContext| {
            let (runs, release) = (runs.clone(), release.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                // Runs until the test has seen housekeeping at work (at most a minute).
                let start = Instant::now();
                while !release.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok::<(), JobError>(())
            }
        })
        .name_prefix(prefix)
        .concurrency(1);
    let task = tokio::spawn(async move {
        worker
            .run(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housekeeping_a_huge_backlog_never_starves_heartbeats() {
    let dir = temp_dir("housekeeping");
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    let config = fast(QueueConfig::new(&url))
        .queue_name(unique("hk"))
        .orphan_timeout(ORPHAN_TIMEOUT)
        .keep_done(KEEP_DONE)
        .dedupe_ttl(Duration::from_secs(3600));
    let name = config.name().to_owned();
    let a = Queue::connect(config.clone()).await.unwrap();
    let b = Queue::connect(config).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();

    // The backlog expires a few seconds from now: after the workers have started and while
    // the job runs.
    let expire_at = now_ms() + 6_000;
    insert_load(&pool, &name, expire_at).await;
    assert_eq!(load_left(&pool, &name).await, (LOAD, LOAD));

    // Watch every worker's heartbeat age on the database's clock, the clock leases use.
    let oldest = Arc::new(AtomicI64::new(0));
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (pool, name, oldest, watching) =
            (pool.clone(), name.clone(), oldest.clone(), watching.clone());
        tokio::spawn(async move {
            while watching.load(Ordering::SeqCst) {
                let age: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
                                - last_seen)
                     FROM atombot_workers WHERE queue = $1",
                )
                .bind(&name)
                .fetch_one(&pool)
                .await
                .unwrap_or(None);
                if let Some(age) = age {
                    oldest.fetch_max(age, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let runs = Arc::new(AtomicU32::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let (stop_a, worker_a) = start_worker(&a, "hk-a", &runs, &release);
    let id = a.push(Job::new("long", json!({}))).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || runs
            .load(Ordering::SeqCst)
            == 1)
        .await,
        "the job started"
    );
    // A second replica that would take the job over if A's heartbeat lapsed.
    let (stop_b, worker_b) = start_worker(&b, "hk-b", &runs, &release);

    // Hold the job until housekeeping has deleted part of the expired backlog (or a
    // heartbeat has already gone stale).
    let stale = || oldest.load(Ordering::SeqCst) >= ORPHAN_TIMEOUT.as_millis() as i64;
    let cleaned = eventually(Duration::from_secs(40), async || {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (jobs, keys) = load_left(&pool, &name).await;
        stale() || (now_ms() > expire_at && LOAD - jobs >= CLEANED && LOAD - keys >= CLEANED)
    })
    .await;
    // The live job is still running on its first attempt.
    let row = sqlx::query("SELECT status, attempts, last_error FROM atombot_jobs WHERE id = $1")
        .bind(&id.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    let status: String = row.get("status");
    let attempts: i64 = row.get("attempts");
    let last_error: Option<String> = row.get("last_error");
    release.store(true, Ordering::SeqCst);
    // A done job's row is deleted at once, and the job counted as done (the backlog's
    // done rows count too, so read the counter itself).
    let finished = eventually(Duration::from_secs(10), async || {
        let gone = sqlx::query("SELECT 1 FROM atombot_jobs WHERE id = $1")
            .bind(&id.0)
            .fetch_optional(&pool)
            .await
            .is_ok_and(|r| r.is_none());
        let counted =
            sqlx::query_scalar::<_, i64>("SELECT done FROM atombot_counters WHERE queue = $1")
                .bind(&name)
                .fetch_optional(&pool)
                .await
                .is_ok_and(|n| n == Some(1));
        gone && counted
    })
    .await;
    watching.store(false, Ordering::SeqCst);
    watcher.await.unwrap();
    let oldest = oldest.load(Ordering::SeqCst);
    assert!(
        oldest < ORPHAN_TIMEOUT.as_millis() as i64,
        "a heartbeat was {oldest} ms old, past the {} ms orphan timeout",
        ORPHAN_TIMEOUT.as_millis()
    );
    assert!(
        cleaned,
        "housekeeping did not delete the expired rows: {:?} left",
        load_left(&pool, &name).await
    );
    assert!(finished, "the job finished");

    assert_eq!(runs.load(Ordering::SeqCst), 1, "the live job ran again");
    assert_eq!(
        (status.as_str(), attempts),
        ("running", 1),
        "the live job was taken over: {last_error:?}"
    );
    // Deletion is bounded per statement, so most of the backlog is still there.
    let (jobs, keys) = load_left(&pool, &name).await;
    assert!(jobs > 0 && keys > 0, "{jobs} jobs, {keys} keys left");

    drop((stop_a, stop_b));
    worker_a.await.unwrap();
    worker_b.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
