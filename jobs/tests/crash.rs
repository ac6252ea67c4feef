//! Acceptance 1 and 3: workers SIGKILLed mid-load lose no job; two processes share a queue.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
use common::*;

/// Entry point of child processes (does nothing in a normal test run).
#[test]
fn child_process() {
    if std::env::var("ATOMBOT_JOBS_CHILD").is_err() {
        return;
    }
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let config = fast(QueueConfig::new(var("URL")).queue_name(var("QUEUE")));
    let out = PathBuf::from(var("OUT"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let queue = Queue::connect(config).await.expect("connect");
        match var("MODE").as_str() {
            "worker" => {
                let concurrency = var("CONCURRENCY").parse().unwrap_or(4);
                queue
                    .worker(move |job: Job, ctx: JobContext| {
                        let out = out.clone();
                        async move {
                            let n = job.payload["n"].as_u64().ok_or(JobError::Unknown)?;
                            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..4))).await;
                            append(&out, &format!("{n} {}", ctx.worker_name()));
                            Ok(())
                        }
                    })
                    .name_prefix("crash-worker")
                    .concurrency(concurrency)
                    .run(std::future::pending())
                    .await
                    .expect("worker");
            }
            "pusher" => {
                let from: u64 = var("FROM").parse().unwrap_or(0);
                let to: u64 = var("TO").parse().unwrap_or(0);
                let mut tasks = tokio::task::JoinSet::new();
                for lane in 0..32 {
                    let (queue, out) = (queue.clone(), out.clone());
                    tasks.spawn(async move {
                        for n in (from + lane..to).step_by(32) {
                            let job = Job::new("count", serde_json::json!({ "n": n }));
                            match queue.push(job).await {
                                Ok(_) => append(&out, &n.to_string()),
                                Err(e) => eprintln!("push {n} failed: {e}"),
                            }
                        }
                    });
                }
                while tasks.join_next().await.is_some() {}
            }
            other => panic!("unknown MODE {other:?}"),
        }
    });
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open out file");
    f.write_all(format!("{line}\n").as_bytes()).expect("append");
}

fn worker(url: &str, queue: &str, out: &Path, concurrency: usize) -> Kid {
    spawn_child(&[
        ("MODE", "worker".into()),
        ("URL", url.into()),
        ("QUEUE", queue.into()),
        ("OUT", out.display().to_string()),
        ("CONCURRENCY", concurrency.to_string()),
    ])
}

/// Completed job numbers, with how often each ran and by which worker.
fn completions(path: &Path) -> (HashMap<u64, usize>, HashMap<String, usize>) {
    let mut runs = HashMap::new();
    let mut by_worker = HashMap::new();
    for line in lines(path) {
        let mut parts = line.split(' ');
        let n: u64 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .expect("job number");
        *runs.entry(n).or_default() += 1;
        *by_worker
            .entry(parts.next().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    (runs, by_worker)
}

async fn wait_lines(path: &Path, at_least: usize, timeout: Duration) -> bool {
    eventually(timeout, async || lines(path).len() >= at_least).await
}

const CONCURRENCY: usize = 4;

/// Acceptance 1: a pusher process and a worker process; the worker is killed mid-load and a
/// new one (new name) finishes every successfully pushed job.
async fn crash_and_restart(url: String, label: &str) {
    let dir = temp_dir(label);
    let queue = unique(label);
    let (done, pushed) = (dir.join("done"), dir.join("pushed"));
    let mut first = worker(&url, &queue, &done, CONCURRENCY);
    let mut pusher = spawn_child(&[
        ("MODE", "pusher".into()),
        ("URL", url.clone()),
        ("QUEUE", queue.clone()),
        ("OUT", pushed.display().to_string()),
        ("FROM", "0".into()),
        ("TO", "2000".into()),
    ]);
    assert!(
        wait_lines(&done, 400, Duration::from_secs(60)).await,
        "first worker too slow"
    );
    first.kill();
    let killed_at = lines(&done).len();
    let _second = worker(&url, &queue, &done, CONCURRENCY);
    let status = tokio::task::spawn_blocking(move || pusher.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "pusher failed");
    let pushed: HashSet<u64> = lines(&pushed).iter().map(|l| l.parse().unwrap()).collect();
    assert_eq!(pushed.len(), 2000, "every push should succeed");
    let all_done = eventually(Duration::from_secs(90), async || {
        let (runs, _) = completions(&done);
        pushed.iter().all(|n| runs.contains_key(n))
    })
    .await;
    let (runs, by_worker) = completions(&done);
    let missing = pushed.iter().filter(|n| !runs.contains_key(n)).count();
    assert!(all_done, "{label}: {missing} pushed jobs never completed");
    let duplicates: usize = runs.values().map(|r| r - 1).sum();
    eprintln!("{label}: killed after {killed_at} completions; {duplicates} re-runs; {by_worker:?}");
    assert!(
        duplicates <= CONCURRENCY,
        "{label}: {duplicates} duplicate runs"
    );
    let q = Queue::connect(QueueConfig::new(url).queue_name(queue))
        .await
        .unwrap();
    let settled = eventually(Duration::from_secs(10), async || {
        let s = q.stats().await.unwrap();
        (s.pending, s.running, s.failed) == (0, 0, 0)
    })
    .await;
    assert!(settled, "{label}: {:?}", q.stats().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_mid_load_loses_nothing() {
    let dir = temp_dir("crash-sqlite");
    let url = format!("sqlite://{}", dir.join("q.db").display());
    crash_and_restart(url, "crash-sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_worker_killed_mid_load_loses_nothing() {
    let Some(url) = redis_url() else { return };
    crash_and_restart(url, "crash-redis").await;
}

/// Acceptance 3: two worker processes share 1,000 jobs; one is killed midway and the
/// survivor takes over its orphans.
async fn two_workers(url: String, label: &str) {
    let dir = temp_dir(label);
    let queue_name = unique(label);
    let done = dir.join("done");
    let mut a = worker(&url, &queue_name, &done, CONCURRENCY);
    let _b = worker(&url, &queue_name, &done, CONCURRENCY);
    let queue = Queue::connect(QueueConfig::new(url).queue_name(&queue_name))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..20u64 {
        let queue = queue.clone();
        tasks.spawn(async move {
            for n in (lane..1000).step_by(20) {
                queue
                    .push(Job::new("count", serde_json::json!({ "n": n })))
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert!(wait_lines(&done, 300, Duration::from_secs(60)).await);
    // A worker process can start a few hundred jobs late on a loaded machine (jobs finish in
    // about a millisecond each): give both time to have taken some.
    eventually(Duration::from_secs(10), async || {
        completions(&done).1.len() == 2
    })
    .await;
    let (_, before_kill) = completions(&done);
    a.kill();
    let all_done = eventually(Duration::from_secs(60), async || {
        completions(&done).0.len() == 1000
    })
    .await;
    let (runs, by_worker) = completions(&done);
    assert!(
        all_done,
        "{label}: only {} of 1000 jobs completed",
        runs.len()
    );
    assert_eq!(
        before_kill.len(),
        2,
        "{label}: both workers should share the load: {before_kill:?}"
    );
    let duplicates: usize = runs.values().map(|r| r - 1).sum();
    eprintln!("{label}: {duplicates} re-runs after kill; {by_worker:?}");
    assert!(
        duplicates <= CONCURRENCY,
        "{label}: {duplicates} duplicate runs"
    );
    let settled = eventually(Duration::from_secs(10), async || {
        let s = queue.stats().await.unwrap();
        (s.pending, s.running, s.done) == (0, 0, 1000)
    })
    .await;
    assert!(settled, "{label}: {:?}", queue.stats().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_two_workers_share_and_survive_a_kill() {
    let Some(url) = redis_url() else { return };
    two_workers(url, "two-redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers_share_and_survive_a_kill() {
    let Some(url) = postgres_url() else { return };
    two_workers(url, "two-postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_workers_share_and_survive_a_kill() {
    let dir = temp_dir("two-sqlite");
    two_workers(
        format!("sqlite://{}", dir.join("q.db").display()),
        "two-sqlite",
    )
    .await;
}
