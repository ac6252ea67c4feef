//! Issue 12: leases. Liveness is judged on the backend's clock, so a replica whose clock is
//! a minute ahead does not take a live worker's job; and a worker whose lease was taken over
//! cancels the job it was running.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;
use serde_json::json;
use tokio::sync::oneshot;

fn start(queue: &Queue, runs: &Arc<AtomicU32>, ticks: &Arc<AtomicU32>) -> oneshot::Sender<()> {
    let (runs, ticks) = (runs.clone(), ticks.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = queue
        .worker(move |_job: Job, _ctx: JobContext| {
            let (runs, ticks) = (runs.clone(), ticks.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                for _ in 0..60 {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok::<(), JobError>(())
            }
        })
        .name_prefix("lease")
        .concurrency(2);
    tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    stop
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_a_fast_clock_does_not_take_live_jobs() {
    futures_util::future::join_all(backends("skew").into_iter().map(
        async |config: QueueConfig| {
            let config = config.orphan_timeout(Duration::from_millis(900));
            let a = Queue::connect(config.clone()).await.unwrap();
            // Replica B's clock runs a minute ahead of A's.
            let b = Queue::connect(config.clock_skew_for_tests(60_000))
                .await
                .unwrap();
            let runs = Arc::new(AtomicU32::new(0));
            let ticks = Arc::new(AtomicU32::new(0));
            let _a = start(&a, &runs, &ticks);
            a.push(Job::new("long", json!({}))).await.unwrap();
            assert!(
                eventually(Duration::from_secs(5), async || runs.load(Ordering::SeqCst)
                    == 1)
                .await
            );
            // B beats (every 300 ms) while A runs the 3-second job.
            let _b = start(&b, &runs, &ticks);
            assert!(
                eventually(Duration::from_secs(10), async || a
                    .stats()
                    .await
                    .unwrap()
                    .done
                    == 1)
                .await,
                "{:?}",
                a.stats().await
            );
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "taken over by the skewed replica"
            );
        },
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_lost_its_lease_cancels_the_job() {
    let dir = temp_dir("lost-lease");
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    let config = fast(QueueConfig::new(&url)).orphan_timeout(Duration::from_millis(900));
    let queue = Queue::connect(config).await.unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let ticks = Arc::new(AtomicU32::new(0));
    let _worker = start(&queue, &runs, &ticks);
    let id = queue.push(Job::new("long", json!({}))).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), async || ticks
            .load(Ordering::SeqCst)
            >= 2)
        .await
    );
    // Another worker takes the lease over (as orphan recovery would after a partition).
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO atombot_workers (name, queue, last_seen, started_at)
         SELECT 'intruder', queue, 4102444800000, 0 FROM atombot_jobs WHERE id = $1",
    )
    .bind(&id.0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE atombot_jobs SET lock_by = 'intruder' WHERE id = $1")
        .bind(&id.0)
        .execute(&pool)
        .await
        .unwrap();
    // Within a couple of heartbeats the job stops: its ticks no longer grow.
    let mut last = ticks.load(Ordering::SeqCst);
    let stopped = eventually(Duration::from_secs(3), async || {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = ticks.load(Ordering::SeqCst);
        let still = now == last;
        last = now;
        still
    })
    .await;
    assert!(stopped, "the job kept running after its lease was lost");
    assert!(
        ticks.load(Ordering::SeqCst) < 60,
        "it was cancelled, not finished"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1, "not started again here");
}
