//! The queue as a plain apalis 1.0 backend: a worker built with apalis' own `WorkerBuilder`,
//! an apalis task function with extractors, and apalis layers, on our storage.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use atombot_jobs::apalis::prelude::*;
use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

async fn handle(
    job: Job,
    ctx: JobContext,
    runs: Data<Runs>,
    attempt: Attempt,
) -> Result<(), JobError> {
    runs.0.0.fetch_add(1, Ordering::SeqCst);
    // apalis' attempt counter reads the same as ours while the job runs.
    assert_eq!(attempt.current(), ctx.attempt() as usize);
    match job.kind.as_str() {
        "flaky" if ctx.attempt() < 2 => Err(JobError::retry("not yet")),
        "flaky" | "ok" => Ok(()),
        "abort" => Err(JobError::abort("no")),
        _ => Err(JobError::Unknown),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apalis_worker_builder_runs_on_the_queue() {
    let queue = Queue::connect(
        fast(QueueConfig::new("memory"))
            .backoff(Duration::from_millis(10), Duration::from_millis(10)),
    )
    .await
    .unwrap();
    for kind in ["ok", "flaky", "abort", "mystery"] {
        queue.push(Job::new(kind, json!({}))).await.unwrap();
    }
    let runs = Runs::default();
    let worker = WorkerBuilder::new("apalis-test")
        .backend(
            queue
                .backend()
                .poll_with_interval(Duration::from_millis(20)),
        )
        .data(runs.clone())
        .concurrency(2)
        .enable_tracing()
        .catch_panic()
        .build(handle);
    let watched = queue.clone();
    worker
        .run_with_ctx(move |ctx| {
            let queue = watched.clone();
            async move {
                let start = std::time::Instant::now();
                loop {
                    let s = queue.stats().await.unwrap();
                    if s.done == 2 && s.failed == 1 {
                        break;
                    }
                    assert!(start.elapsed() < Duration::from_secs(10), "{s:?}");
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                ctx.stop()
            }
        })
        .await
        .unwrap();
    // ok once, flaky twice, abort once, and the unknown kind at least once.
    assert!(runs.0.load(Ordering::SeqCst) >= 5);
    let s = queue.stats().await.unwrap();
    assert_eq!(
        (s.pending, s.running, s.done, s.failed),
        (1, 0, 2, 1),
        "{s:?}"
    );
    let failed = queue.failed().await.unwrap();
    assert_eq!(failed[0].kind, "abort");
    assert_eq!(failed[0].attempts, 1);

    // The unknown kind's runs were given back: a worker that knows it sees attempt 1.
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(
        queue
            .worker(move |_job: Job, ctx: JobContext| {
                seen.store(ctx.attempt() as usize, Ordering::SeqCst);
                async { Ok(()) }
            })
            .run(async move {
                let _ = stopped.await;
            }),
    );
    assert!(
        eventually(Duration::from_secs(5), async || attempts
            .load(Ordering::SeqCst)
            == 1)
        .await
    );
    drop(stop);
    run.await.unwrap().unwrap();
    assert_eq!(queue.stats().await.unwrap().done, 3);
}
