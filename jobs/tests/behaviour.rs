//! Acceptance 2, 4, 5 and the worker contract on every available backend
//! (SQLite always; Redis and Postgres when their URL variables are set).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot_jobs::{Error, Job, JobContext, JobError, Pushed, Queue, QueueConfig};
use common::*;
use serde_json::json;
use tokio::sync::oneshot;

type Runs = Arc<Mutex<HashMap<String, usize>>>;

/// Runs `test` against every backend at once.
async fn on_each_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(QueueConfig) -> Fut,
    Fut: Future<Output = ()>,
{
    futures_util::future::join_all(backends(name).into_iter().map(test)).await;
}

/// Starts a worker in this process; dropping the sender stops it.
fn start_worker<F, Fut>(queue: &Queue, handler: F) -> oneshot::Sender<()>
where
    F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = queue.worker(handler).name_prefix("test").concurrency(4);
    tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    stop
}

fn count(runs: &Runs, what: &str) -> usize {
    runs.lock().unwrap().get(what).copied().unwrap_or(0)
}

fn counting(
    runs: &Runs,
) -> impl Fn(Job, JobContext) -> std::future::Ready<Result<(), JobError>> + use<> {
    let runs = runs.clone();
    move |job: Job, _ctx: JobContext| {
        let label = job.key.clone().unwrap_or(job.kind.clone());
        *runs.lock().unwrap().entry(label).or_default() += 1;
        std::future::ready(if job.kind == "fail" {
            Err(JobError::Abort("told to fail".into()))
        } else {
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_runs_a_key_once() {
    on_each_backend("dedupe", async |config| {
        // Two handles with their own connections and writers, like two processes.
        let queue = Queue::connect(config.clone()).await.unwrap();
        let other = Queue::connect(config).await.unwrap();
        let job = || Job::new("work", json!({})).with_key("delivery-1");
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..5 {
            let queue = if n % 2 == 0 {
                queue.clone()
            } else {
                other.clone()
            };
            let job = job();
            tasks.spawn(async move { queue.push_unique(job).await.unwrap() });
        }
        let pushed: Vec<Pushed> = tasks.join_all().await;
        assert_eq!(
            pushed.iter().filter(|p| !p.is_duplicate()).count(),
            1,
            "{pushed:?}"
        );
        assert!(pushed.iter().all(|p| p.id() == pushed[0].id()));
        let runs = Runs::default();
        let _stop = start_worker(&queue, counting(&runs));
        assert!(
            eventually(Duration::from_secs(10), async || count(&runs, "delivery-1")
                == 1)
            .await
        );
        for n in 0..5 {
            let queue = if n % 2 == 0 { &queue } else { &other };
            assert!(queue.push_unique(job()).await.unwrap().is_duplicate());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&runs, "delivery-1"), 1);

        // A key whose job finally failed is free again.
        let failing = || Job::new("fail", json!({})).with_key("fails");
        assert!(!queue.push_unique(failing()).await.unwrap().is_duplicate());
        assert!(
            eventually(Duration::from_secs(10), async || {
                queue.stats().await.unwrap().failed == 1
            })
            .await
        );
        assert!(!queue.push_unique(failing()).await.unwrap().is_duplicate());
        assert!(eventually(Duration::from_secs(10), async || count(&runs, "fails") == 2).await);
        assert!(matches!(
            queue.push_unique(Job::new("work", json!({}))).await,
            Err(Error::MissingKey)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_records_expire_after_the_ttl() {
    on_each_backend("ttl", async |config| {
        let queue = Queue::connect(config.dedupe_ttl(Duration::from_millis(300)))
            .await
            .unwrap();
        let job = || Job::new("work", json!({})).with_key("k");
        assert!(!queue.push_unique(job()).await.unwrap().is_duplicate());
        assert!(queue.push_unique(job()).await.unwrap().is_duplicate());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!queue.push_unique(job()).await.unwrap().is_duplicate());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_then_fails_then_retry_by_id() {
    on_each_backend("retry", async |config| {
        let queue = Queue::connect(config.max_attempts(3)).await.unwrap();
        let runs = Runs::default();
        let seen = runs.clone();
        let _stop = start_worker(&queue, move |job: Job, ctx: JobContext| {
            *seen.lock().unwrap().entry(job.kind.clone()).or_default() += 1;
            async move {
                match job.kind.as_str() {
                    "flaky" if ctx.attempt() < 3 => Err(JobError::Retry("not yet".into())),
                    "flaky" => Ok(()),
                    "panics" if ctx.attempt() == 1 => panic!("boom"),
                    "panics" => Ok(()),
                    _ => Err(JobError::retry("always broken")),
                }
            }
        });
        queue.push(Job::new("flaky", json!({}))).await.unwrap();
        queue.push(Job::new("panics", json!({}))).await.unwrap();
        let broken = queue
            .push(Job::new("broken", json!({ "n": 1 })))
            .await
            .unwrap();
        let settled = eventually(Duration::from_secs(15), async || {
            let s = queue.stats().await.unwrap();
            s.done == 2 && s.failed == 1
        })
        .await;
        assert!(settled, "{:?}", queue.stats().await);
        assert_eq!(count(&runs, "flaky"), 3);
        assert_eq!(count(&runs, "panics"), 2);
        assert_eq!(count(&runs, "broken"), 3);
        let failed = queue.failed().await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, broken);
        assert_eq!(failed[0].kind, "broken");
        assert_eq!(failed[0].attempts, 3);
        assert_eq!(failed[0].payload, json!({ "n": 1 }));
        assert_eq!(failed[0].last_error.as_deref(), Some("always broken"));
        assert!(queue.retry(&broken).await.unwrap());
        assert!(!queue.retry(&broken).await.unwrap(), "no longer failed");
        assert!(
            eventually(Duration::from_secs(15), async || count(&runs, "broken")
                == 6)
            .await
        );
        assert!(
            eventually(Duration::from_secs(5), async || {
                queue.stats().await.unwrap().failed == 1
            })
            .await
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_jobs_wait_their_turn() {
    on_each_backend("delay", async |config| {
        let queue = Queue::connect(config).await.unwrap();
        let runs = Runs::default();
        let _stop = start_worker(&queue, counting(&runs));
        let start = Instant::now();
        queue
            .push_after(Duration::from_secs(5), Job::new("later", json!({})))
            .await
            .unwrap();
        queue.push(Job::new("now", json!({}))).await.unwrap();
        assert!(eventually(Duration::from_secs(3), async || count(&runs, "now") == 1).await);
        while start.elapsed() < Duration::from_millis(4700) {
            assert_eq!(
                count(&runs, "later"),
                0,
                "ran early at {:?}",
                start.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(eventually(Duration::from_secs(3), async || count(&runs, "later") == 1).await);
        assert!(start.elapsed() >= Duration::from_secs(5));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kinds_go_back_without_using_attempts() {
    on_each_backend("unknown", async |config| {
        let queue = Queue::connect(config.max_attempts(2)).await.unwrap();
        let offered = Arc::new(AtomicUsize::new(0));
        let seen = offered.clone();
        let stop_a = start_worker(&queue, move |_job: Job, _ctx: JobContext| {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Err(JobError::Unknown) }
        });
        let id = queue.push(Job::new("special", json!({}))).await.unwrap();
        assert!(
            eventually(Duration::from_secs(10), async || offered
                .load(Ordering::SeqCst)
                >= 2)
            .await,
            "offered again"
        );
        let before = offered.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(800)).await;
        let offers = offered.load(Ordering::SeqCst) - before;
        assert!(offers <= 12, "spins hot: {offers} offers in 800 ms");
        let s = queue.stats().await.unwrap();
        assert_eq!((s.done, s.failed), (0, 0), "{s:?}");
        drop(stop_a);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let attempt = Arc::new(Mutex::new(None));
        let got = attempt.clone();
        let _stop_b = start_worker(&queue, move |_job: Job, ctx: JobContext| {
            *got.lock().unwrap() = Some((ctx.id().clone(), ctx.attempt()));
            async { Ok(()) }
        });
        assert!(
            eventually(Duration::from_secs(5), async || attempt
                .lock()
                .unwrap()
                .is_some())
            .await
        );
        assert_eq!(attempt.lock().unwrap().clone(), Some((id, 1)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_or_returns_jobs() {
    on_each_backend("shutdown", async |config| {
        let queue = Queue::connect(config).await.unwrap();
        let (started_tx, started_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let started_rx = Arc::new(tokio::sync::Mutex::new(started_rx));
        let handler = move |job: Job, _ctx: JobContext| {
            let started = started_tx.clone();
            async move {
                let _ = started.send(job.kind.clone());
                let ms = job.payload["ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(())
            }
        };
        // A job that finishes within the shutdown timeout completes.
        queue
            .push(Job::new("short", json!({ "ms": 300 })))
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let run = tokio::spawn(
            queue
                .worker(handler.clone())
                .shutdown_timeout(Duration::from_secs(5))
                .run(async move {
                    let _ = stopped.await;
                }),
        );
        assert_eq!(
            started_rx.lock().await.recv().await.as_deref(),
            Some("short")
        );
        drop(stop);
        run.await.unwrap().unwrap();
        assert_eq!(queue.stats().await.unwrap().done, 1);

        // One that does not is returned to the queue and runs after restart.
        queue
            .push(Job::new("long", json!({ "ms": 60_000 })))
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let run = tokio::spawn(
            queue
                .worker(handler.clone())
                .shutdown_timeout(Duration::from_millis(200))
                .run(async move {
                    let _ = stopped.await;
                }),
        );
        assert_eq!(
            started_rx.lock().await.recv().await.as_deref(),
            Some("long")
        );
        drop(stop);
        let t = Instant::now();
        run.await.unwrap().unwrap();
        assert!(t.elapsed() < Duration::from_secs(3));
        let s = queue.stats().await.unwrap();
        assert_eq!((s.pending, s.running), (1, 0), "{s:?}");
        let attempts = Arc::new(AtomicUsize::new(0));
        let seen = attempts.clone();
        let _stop = start_worker(&queue, move |_job: Job, ctx: JobContext| {
            seen.store(ctx.attempt() as usize, Ordering::SeqCst);
            async { Ok(()) }
        });
        assert!(
            eventually(Duration::from_secs(5), async || attempts
                .load(Ordering::SeqCst)
                == 1)
            .await
        );
    })
    .await;
}

#[tokio::test]
async fn handlers_see_shared_data_and_can_push_follow_ups() {
    let queue = Queue::connect(fast(QueueConfig::new("memory")))
        .await
        .unwrap();
    let runs = Runs::default();
    let seen = runs.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        queue
            .worker(move |job: Job, ctx: JobContext| {
                let seen = seen.clone();
                async move {
                    let greeting = ctx.data::<String>().cloned().unwrap_or_default();
                    *seen
                        .lock()
                        .unwrap()
                        .entry(format!("{}:{greeting}", job.kind))
                        .or_default() += 1;
                    if job.kind == "first" {
                        ctx.queue()
                            .push(Job::new("second", json!({})))
                            .await
                            .map_err(JobError::retry)?;
                    }
                    Ok(())
                }
            })
            .data(String::from("hi"))
            .run(async move {
                let _ = stopped.await;
            }),
    );
    queue
        .push(Job::new("first", json!({})).with_meta("installation", 42))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), async || count(&runs, "second:hi")
            == 1)
        .await
    );
    assert_eq!(count(&runs, "first:hi"), 1);
    queue.ping().await.unwrap();
    drop(stop);
}

#[tokio::test]
async fn bad_urls_are_errors_not_panics() {
    for url in ["ftp://x", "", "mysql://localhost/db"] {
        assert!(
            matches!(
                Queue::connect(QueueConfig::new(url)).await,
                Err(Error::InvalidUrl(_))
            ),
            "{url}"
        );
    }
    let err = Queue::connect(QueueConfig::new("sqlite:///nonexistent-dir/x/y.db"))
        .await
        .unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn sqlite_file_is_created_and_survives_reopen() {
    let config = sqlite("reopen");
    let queue = Queue::connect(config.clone()).await.unwrap();
    queue.push(Job::new("persisted", json!({}))).await.unwrap();
    drop(queue);
    let queue = Queue::connect(config).await.unwrap();
    assert_eq!(queue.stats().await.unwrap().pending, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kinds_fail_after_the_time_bound_and_are_counted() {
    on_each_backend("unknown-bound", async |config| {
        let queue = Queue::connect(
            config
                .unknown_kind_delay(Duration::from_millis(100))
                .unknown_timeout(Duration::from_millis(1500)),
        )
        .await
        .unwrap();
        let _stop = start_worker(&queue, |_job: Job, _ctx: JobContext| async {
            Err(JobError::Unknown)
        });
        let id = queue.push(Job::new("renamed", json!({}))).await.unwrap();
        // While within the bound it waits, counted as unknown.
        assert!(
            eventually(Duration::from_secs(1), async || queue
                .stats()
                .await
                .unwrap()
                .unknown
                == 1)
            .await
        );
        assert_eq!(queue.stats().await.unwrap().failed, 0);
        // Then it fails, naming the kind, and is no longer counted as unknown.
        assert!(
            eventually(Duration::from_secs(5), async || queue
                .stats()
                .await
                .unwrap()
                .failed
                == 1)
            .await
        );
        let failed = queue.failed().await.unwrap();
        assert_eq!(failed[0].id, id);
        let error = failed[0].last_error.clone().unwrap();
        assert!(error.contains("no worker knows renamed"), "{error}");
        let stats = queue.stats().await.unwrap();
        assert_eq!((stats.unknown, stats.pending), (0, 0), "{stats:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postponed_jobs_keep_their_attempt_then_fail_past_the_bound() {
    on_each_backend("postpone", async |config| {
        let queue = Queue::connect(config.max_attempts(1).max_postpone(Duration::from_secs(3)))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let _stop = start_worker(&queue, move |job: Job, ctx: JobContext| {
            log.lock()
                .unwrap()
                .push((job.kind.clone(), ctx.attempt(), Instant::now()));
            async {
                Err(JobError::Postpone(
                    Duration::from_millis(400),
                    "rate limited".into(),
                ))
            }
        });
        let start = Instant::now();
        queue.push(Job::new("limited", json!({}))).await.unwrap();
        // One attempt allowed, yet it runs again and again, each time as attempt 1, until
        // the next postponement would pass the bound.
        assert!(
            eventually(Duration::from_secs(8), async || queue
                .stats()
                .await
                .unwrap()
                .failed
                == 1)
            .await
        );
        let runs = seen.lock().unwrap().clone();
        assert!(runs.len() >= 3, "{} runs", runs.len());
        assert!(runs.iter().all(|(_, attempt, _)| *attempt == 1), "{runs:?}");
        for pair in runs.windows(2) {
            assert!(pair[1].2 - pair[0].2 >= Duration::from_millis(350));
        }
        assert!(start.elapsed() >= Duration::from_millis(2500));
        let failed = queue.failed().await.unwrap();
        let error = failed[0].last_error.clone().unwrap();
        assert!(
            error.contains("rate limited") && error.contains("limit"),
            "{error}"
        );
    })
    .await;
}

/// Issue 12: a manual retry claims the job's key again, so the same key pushed afterwards is
/// a duplicate of the retried job (not a second run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_retry_claims_the_key_again() {
    on_each_backend("retry-key", async |config| {
        let queue = Queue::connect(config.max_attempts(1)).await.unwrap();
        let runs: Runs = Arc::default();
        let stop = start_worker(&queue, counting(&runs));
        let first = queue
            .push_unique(Job::new("fail", json!({})).with_key("k-1"))
            .await
            .unwrap();
        assert!(
            eventually(Duration::from_secs(5), async || queue
                .stats()
                .await
                .unwrap()
                .failed
                == 1)
            .await
        );
        drop(stop);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(queue.retry(first.id()).await.unwrap());
        let again = queue
            .push_unique(Job::new("fail", json!({})).with_key("k-1"))
            .await
            .unwrap();
        assert_eq!(again, Pushed::Duplicate(first.id().clone()));
    })
    .await;
}

/// Issue 12: failed jobs are pruned after `keep_failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_jobs_are_pruned_after_keep_failed() {
    on_each_backend("keep-failed", async |config| {
        let queue = Queue::connect(
            config
                .max_attempts(1)
                .keep_failed(Duration::from_millis(300))
                .orphan_timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap();
        let runs: Runs = Arc::default();
        let _stop = start_worker(&queue, counting(&runs));
        queue.push(Job::new("fail", json!({}))).await.unwrap();
        assert!(
            eventually(Duration::from_secs(5), async || queue
                .stats()
                .await
                .unwrap()
                .failed
                == 1)
            .await
        );
        assert!(
            eventually(Duration::from_secs(5), async || queue
                .failed()
                .await
                .unwrap()
                .is_empty())
            .await,
            "pruned"
        );
        assert_eq!(queue.stats().await.unwrap().failed, 0);
    })
    .await;
}
