//! Issue 12: the batching writer is supervised. When its task dies (a panic outside the
//! per-batch guard, as a bug would cause), readiness turns red until a new writer runs, and
//! pushes made meanwhile or afterwards are stored and run.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;
use serde_json::json;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writer_is_restarted_and_pushes_still_run() {
    for config in backends("writer") {
        let backend = config.scheme().to_owned();
        let queue = Queue::connect(config).await.unwrap();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = tokio::spawn(
            queue
                .worker(move |_job: Job, _ctx: JobContext| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { Ok::<(), JobError>(()) }
                })
                .run(async move {
                    let _ = stopped.await;
                }),
        );
        queue.push(Job::new("before", json!({}))).await.unwrap();
        queue.ping().await.unwrap();

        for round in 1..=2u32 {
            queue.crash_writer_for_tests().await;
            // While no writer runs, readiness says so.
            let down = queue.ping().await;
            assert!(
                down.as_ref().is_err_and(|e| e.is_unavailable()),
                "{backend}: ping while the writer is down: {down:?}"
            );
            // A push made now waits for the new writer instead of failing.
            let push = tokio::time::timeout(
                Duration::from_secs(15),
                queue.push(Job::new("after", json!({ "round": round }))),
            )
            .await;
            assert!(
                matches!(push, Ok(Ok(_))),
                "{backend}: push after the writer died: {push:?}"
            );
            assert!(
                eventually(Duration::from_secs(10), async || queue.ping().await.is_ok()).await,
                "{backend}: readiness never recovered"
            );
        }
        // And a push after the restarts commits like any other.
        queue.push(Job::new("later", json!({}))).await.unwrap();
        assert!(
            eventually(Duration::from_secs(10), async || queue
                .stats()
                .await
                .is_ok_and(|s| s.done == 4))
            .await,
            "{backend}: {:?}",
            queue.stats().await
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            4,
            "{backend}: each job ran once"
        );
        assert!(
            queue.commits() >= 4,
            "{backend}: {} commits",
            queue.commits()
        );
        drop(stop);
        worker.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_writer_that_dies_without_pushes_is_restarted_too() {
    let queue = Queue::connect(fast(QueueConfig::new("memory")))
        .await
        .unwrap();
    queue.crash_writer_for_tests().await;
    assert!(queue.ping().await.is_err());
    assert!(
        eventually(Duration::from_secs(10), async || queue.ping().await.is_ok()).await,
        "readiness never recovered"
    );
    queue.push(Job::new("n", json!(1))).await.unwrap();
    assert_eq!(queue.stats().await.unwrap().pending, 1);
}
