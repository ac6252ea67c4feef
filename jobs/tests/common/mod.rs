//! Shared test helpers: backends from the environment, temp dirs, child processes.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atombot_jobs::{Job, JobContext, Queue, QueueConfig};

/// A unique name for queues, files and workers of one test run.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// A fresh temporary directory.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("atombot-jobs-{prefix}")));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The Redis URL for tests, or `None` after printing why the test is skipped.
pub fn redis_url() -> Option<String> {
    if cfg!(not(feature = "redis")) {
        eprintln!("skipped: built without the `redis` feature (use --all-features)");
        return None;
    }
    let url = std::env::var("ATOMBOT_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!(
            "skipped: ATOMBOT_TEST_REDIS_URL not set (start redis-server, e.g. run jobs/ci-services.sh)"
        );
    }
    url
}

/// The Postgres URL for tests, or `None` after printing why the test is skipped.
pub fn postgres_url() -> Option<String> {
    if cfg!(not(feature = "postgres")) {
        eprintln!("skipped: built without the `postgres` feature (use --all-features)");
        return None;
    }
    let url = std::env::var("ATOMBOT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!(
            "skipped: ATOMBOT_TEST_POSTGRES_URL not set (start postgres, e.g. run jobs/ci-services.sh)"
        );
    }
    url
}

/// Configs for every available backend (SQLite file always), each on its own queue.
pub fn backends(test: &str) -> Vec<QueueConfig> {
    let mut out = vec![sqlite(test)];
    if let Some(url) = redis_url() {
        out.push(fast(QueueConfig::new(url).queue_name(unique(test))));
    }
    if let Some(url) = postgres_url() {
        out.push(fast(QueueConfig::new(url).queue_name(unique(test))));
    }
    out
}

/// A config on a fresh SQLite file.
pub fn sqlite(test: &str) -> QueueConfig {
    let dir = temp_dir(test);
    fast(
        QueueConfig::new(format!("sqlite://{}", dir.join("queue.db").display()))
            .queue_name(unique(test)),
    )
}

/// Short timings so tests finish quickly.
pub fn fast(config: QueueConfig) -> QueueConfig {
    config
        .poll_interval(Duration::from_millis(20))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .orphan_timeout(Duration::from_millis(1500))
        .unknown_kind_delay(Duration::from_millis(100))
        .backend_timeout(Duration::from_secs(2))
}

/// Polls `check` until it holds or `timeout` passes; returns whether it held.
pub async fn eventually(timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    check().await
}

/// Starts a worker on `queue` whose handler passes `check` on each job and counts it; the
/// worker stops when the returned sender is dropped.
pub fn counting_worker(
    queue: &Queue,
    check: impl Fn(&Job) + Send + Sync + 'static,
) -> (Arc<AtomicUsize>, tokio::sync::oneshot::Sender<()>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = runs.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        queue
            .worker(move |job: Job, _ctx: JobContext| {
                check(&job);
                seen.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            })
            .run(async move {
                let _ = stopped.await;
            }),
    );
    (runs, stop)
}

/// Whether `queue` counts `n` jobs done within 10 s.
pub async fn done_eventually(queue: &Queue, n: u64) -> bool {
    eventually(Duration::from_secs(10), async || {
        queue.stats().await.is_ok_and(|s| s.done == n)
    })
    .await
}

/// A child process killed (SIGKILL) when dropped.
pub struct Kid(pub Child);

impl Kid {
    /// Kills the child now, like a crash.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the `child_process` test of this test binary as a child with `env`.
pub fn spawn_child(env: &[(&str, String)]) -> Kid {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.args([
        "child_process",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env("ATOMBOT_JOBS_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::null());
    Kid(cmd.spawn().expect("spawn child"))
}

/// Lines of a file (empty when missing).
pub fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
