//! The in-process hand-off: jobs this process pushes go straight to its own worker, already
//! claimed; with every slot taken they wait claimed in memory and start as slots free up,
//! and at shutdown those that never started go back to the queue (on every backend, and
//! the in-process `memory` one).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;
use serde_json::json;
use tokio::sync::{Semaphore, oneshot};

/// Every backend of `common::backends`, and the in-process one.
fn every_backend(test: &str) -> Vec<QueueConfig> {
    let mut out = backends(test);
    out.push(fast(QueueConfig::new("memory")));
    out
}

/// Waits until `check` holds, for up to 10 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A one-slot worker whose handler counts runs and waits for a permit of `gate` each time.
fn gated_worker(
    queue: &Queue,
    gate: Arc<Semaphore>,
    runs: Arc<AtomicUsize>,
    shutdown_timeout: Duration,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = queue
        .worker(move |_job: Job, _ctx: JobContext| {
            let (gate, runs) = (gate.clone(), runs.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| JobError::Abort(e.to_string()))?;
                Ok(())
            }
        })
        .name_prefix("handoff")
        .concurrency(1)
        .shutdown_timeout(shutdown_timeout);
    let running = tokio::spawn(async move {
        let _ = worker
            .run(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (stop, running)
}

/// Pushes until the one-slot worker runs a first job (it registers before it takes one,
/// then a push goes straight to it), then two more, which wait claimed (two per slot).
async fn fill_the_slot_and_queue_two(queue: &Queue, runs: &AtomicUsize) {
    eventually("the worker takes a first job", async || {
        if queue.stats().await.unwrap().pending == 0 && runs.load(Ordering::SeqCst) == 0 {
            queue.push(Job::new("k", json!(0))).await.unwrap();
        }
        runs.load(Ordering::SeqCst) == 1
    })
    .await;
    for n in 1..3 {
        queue.push(Job::new("k", json!(n))).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_pushed_while_every_slot_is_busy_wait_claimed_and_each_runs_once() {
    for config in every_backend("handoff-wait") {
        let scheme = config.scheme().to_owned();
        let queue = Queue::connect(config).await.unwrap();
        let (gate, runs) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
        let (stop, running) =
            gated_worker(&queue, gate.clone(), runs.clone(), Duration::from_secs(5));
        fill_the_slot_and_queue_two(&queue, &runs).await;
        let stats = queue.stats().await.unwrap();
        assert_eq!(
            (stats.pending, stats.running),
            (0, 3),
            "{scheme}: the waiting jobs are claimed, not pending"
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "{scheme}: one slot, one run"
        );
        gate.add_permits(3);
        eventually("every job is done", async || {
            queue.stats().await.unwrap().done == 3
        })
        .await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "{scheme}: each job ran once"
        );
        drop(stop);
        running.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_handed_over_jobs_that_never_started_go_back_to_the_queue() {
    for config in every_backend("handoff-stop") {
        let scheme = config.scheme().to_owned();
        let queue = Queue::connect(config).await.unwrap();
        let (gate, runs) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
        let (stop, running) = gated_worker(
            &queue,
            gate.clone(),
            runs.clone(),
            Duration::from_millis(200),
        );
        fill_the_slot_and_queue_two(&queue, &runs).await;
        // The running job outlives the shutdown timeout; the two waiting never start.
        drop(stop);
        running.await.unwrap();
        let stats = queue.stats().await.unwrap();
        assert_eq!(
            (stats.pending, stats.running, stats.done),
            (3, 0, 0),
            "{scheme}: every unfinished job is back in the queue"
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "{scheme}: the waiting ones never ran"
        );
        gate.add_permits(3);
    }
}
