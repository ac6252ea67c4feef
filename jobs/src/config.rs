//! [`QueueConfig`]: which backend, which queue, and how workers retry.

use std::time::Duration;

/// Settings for a [`Queue`](crate::Queue) and its workers; a builder.
///
/// The URL picks the backend:
/// - `sqlite://atombot.db` (default): a file, created if missing;
/// - `redis://host:6379` (feature `redis`);
/// - `postgres://user:pass@host/db` (feature `postgres`);
/// - `memory`: an in-process queue for tests and demos, **not durable**; its memory is
///   bounded by [`memory_capacity`](Self::memory_capacity).
///
/// SQLite runs in WAL mode with `synchronous = FULL`. For Redis, run the server with
/// `appendonly yes`, or acknowledged jobs can be lost when it restarts.
///
/// # Example
/// ```
/// use std::time::Duration;
/// let config = atombot_jobs::QueueConfig::new("sqlite://atombot.db")
///     .queue_name("atombot")
///     .max_attempts(5)
///     .orphan_timeout(Duration::from_secs(20));
/// assert_eq!(config.name(), "atombot");
/// ```
#[derive(Clone, PartialEq)]
pub struct QueueConfig {
    pub(crate) url: String,
    pub(crate) queue: String,
    pub(crate) concurrency: usize,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) orphan_timeout: Duration,
    pub(crate) dedupe_ttl: Duration,
    pub(crate) backend_timeout: Duration,
    pub(crate) unknown_kind_delay: Duration,
    pub(crate) unknown_timeout: Duration,
    pub(crate) max_postpone: Duration,
    pub(crate) job_timeout: Duration,
    pub(crate) clock_skew_ms: i64,
    pub(crate) keep_done: Duration,
    pub(crate) keep_failed: Duration,
    pub(crate) keep_bodies: Duration,
    pub(crate) keep_bodies_max: u64,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) max_batch: usize,
    pub(crate) memory_capacity: usize,
}

impl std::fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may contain a password: show the scheme only.
        f.debug_struct("QueueConfig")
            .field("backend", &self.scheme())
            .field("queue", &self.queue)
            .field("concurrency", &self.concurrency)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("poll_interval", &self.poll_interval)
            .field("orphan_timeout", &self.orphan_timeout)
            .field("dedupe_ttl", &self.dedupe_ttl)
            .field("backend_timeout", &self.backend_timeout)
            .field("unknown_timeout", &self.unknown_timeout)
            .field("max_postpone", &self.max_postpone)
            .field("job_timeout", &self.job_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig::new("sqlite://atombot.db")
    }
}

impl QueueConfig {
    /// Settings with defaults for the backend at `url` (see the type docs).
    pub fn new(url: impl Into<String>) -> Self {
        QueueConfig {
            url: url.into(),
            queue: "atombot".into(),
            concurrency: 8,
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            poll_interval: Duration::from_millis(100),
            orphan_timeout: Duration::from_secs(30),
            dedupe_ttl: Duration::from_secs(7 * 24 * 3600),
            backend_timeout: Duration::from_secs(5),
            unknown_kind_delay: Duration::from_secs(2),
            unknown_timeout: Duration::from_secs(3600),
            max_postpone: Duration::from_secs(3600),
            job_timeout: Duration::from_secs(600),
            clock_skew_ms: 0,
            keep_done: Duration::from_secs(24 * 3600),
            keep_failed: Duration::from_secs(30 * 24 * 3600),
            keep_bodies: Duration::from_secs(7 * 24 * 3600),
            keep_bodies_max: 100_000,
            shutdown_timeout: Duration::from_secs(30),
            max_batch: 512,
            memory_capacity: 10_000,
        }
    }

    /// The same settings for the backend at `url` (see [`new`](Self::new) for the forms).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Settings from the `ATOMBOT_QUEUE` environment variable, else its default
    /// ([`settings::QUEUE`](crate::settings::QUEUE)).
    pub fn from_env() -> Self {
        QueueConfig::new(crate::settings::QUEUE.read_env().unwrap_or_default())
    }

    /// For the `memory` queue: how many dedupe keys, how many failed jobs, and how many
    /// waiting or running jobs it holds at most (default 10,000 each). Past that the oldest
    /// keys and failed jobs are forgotten and new pushes are refused with
    /// [`Error::Unavailable`](crate::Error::Unavailable), so memory stays flat however many
    /// jobs pass. Finished jobs are not kept (only counted).
    #[must_use]
    pub fn memory_capacity(mut self, n: usize) -> Self {
        self.memory_capacity = n.max(1);
        self
    }

    /// The queue name (default `atombot`); one backend can hold many queues.
    #[must_use]
    pub fn queue_name(mut self, name: impl Into<String>) -> Self {
        self.queue = name.into();
        self
    }

    /// Default number of jobs a worker runs at once (default 8; at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How many times a job runs before it is kept as failed (default 5; at least 1).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Retry delay: `base × 2^(attempt−1)`, capped at `max`, with ±20 % jitter
    /// (default 1 s, 5 min).
    #[must_use]
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max.max(base);
        self
    }

    /// How often an idle worker looks for due jobs (default 100 ms).
    #[must_use]
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d.max(Duration::from_millis(1));
        self
    }

    /// After this much heartbeat silence a worker counts as dead and its running jobs are
    /// queued again (default 30 s; workers beat every third of it).
    #[must_use]
    pub fn orphan_timeout(mut self, d: Duration) -> Self {
        self.orphan_timeout = d.max(Duration::from_millis(300));
        self
    }

    /// How long a [`push_unique`](crate::Queue::push_unique) key is remembered (default 7 days).
    #[must_use]
    pub fn dedupe_ttl(mut self, d: Duration) -> Self {
        self.dedupe_ttl = d.max(Duration::from_millis(1));
        self
    }

    /// Longest wait for one backend operation before it fails as unavailable (default 5 s).
    #[must_use]
    pub fn backend_timeout(mut self, d: Duration) -> Self {
        self.backend_timeout = d.max(Duration::from_millis(10));
        self
    }

    /// How long a job of a kind the worker does not know waits before it is offered again
    /// (default 2 s).
    #[must_use]
    pub fn unknown_kind_delay(mut self, d: Duration) -> Self {
        self.unknown_kind_delay = d;
        self
    }

    /// How long a job whose kind no worker knows keeps going back to the queue, counted from
    /// when it was pushed (default 1 h); then it is kept as failed with "no worker knows …",
    /// so an operator sees it. Covers rolling deploys, where an old worker meets a kind only
    /// the new version has.
    #[must_use]
    pub fn unknown_timeout(mut self, d: Duration) -> Self {
        self.unknown_timeout = d;
        self
    }

    /// The latest a [`JobError::Postpone`](crate::JobError::Postpone)d job may be run, counted
    /// from when it was pushed (default 1 h); a postponement beyond it fails the job instead.
    #[must_use]
    pub fn max_postpone(mut self, d: Duration) -> Self {
        self.max_postpone = d;
        self
    }

    /// Longest one run of a job may take (default 10 min): then it is cancelled and counts
    /// as a failed attempt (retried with backoff), so no job holds a worker slot forever.
    #[must_use]
    pub fn job_timeout(mut self, d: Duration) -> Self {
        self.job_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// Shifts this replica's clock by `ms` milliseconds — for tests of clock skew between
    /// replicas only. Leases never depend on it: they use the backend's clock.
    #[doc(hidden)]
    #[must_use]
    pub fn clock_skew_for_tests(mut self, ms: i64) -> Self {
        self.clock_skew_ms = ms;
        self
    }

    /// How long finished jobs kept by older versions are retained before pruning (default
    /// 24 h); this version deletes a job as it finishes and only counts it.
    #[must_use]
    pub fn keep_done(mut self, d: Duration) -> Self {
        self.keep_done = d;
        self
    }

    /// How long failed jobs are kept for inspection and `retry` before pruning (default
    /// 30 days).
    #[must_use]
    pub fn keep_failed(mut self, d: Duration) -> Self {
        self.keep_failed = d;
        self
    }

    /// How long bodies pushed with [`Job::with_kept_body`](crate::Job::with_kept_body) are
    /// kept after they were stored, and how many at most, the oldest going first (default
    /// 7 days, 100,000); a body stays while a job still needs it. The count is kept as
    /// bodies come (the SQLite store prunes the oldest beyond it in the transactions that
    /// store new ones, whatever the load), the retention at each heartbeat.
    #[must_use]
    pub fn keep_bodies(mut self, d: Duration, max: u64) -> Self {
        self.keep_bodies = d;
        self.keep_bodies_max = max;
        self
    }

    /// Default time running jobs get to finish on shutdown (default 30 s).
    #[must_use]
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.shutdown_timeout = d;
        self
    }

    /// The backend's URL as given: it may hold a password, so never log or show it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The queue name.
    pub fn name(&self) -> &str {
        &self.queue
    }

    /// The backend kind (`sqlite`, `redis`, `postgres`, `memory`), never the full URL.
    pub fn scheme(&self) -> &str {
        if self.url == "memory" {
            return "memory";
        }
        self.url.split(':').next().unwrap_or("")
    }

    pub(crate) fn backoff_for(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let raw = self.backoff_base.saturating_mul(1u32 << exp);
        let capped = raw.min(self.backoff_max);
        let jitter = 0.8 + fastrand::f64() * 0.4;
        Duration::try_from_secs_f64(capped.as_secs_f64() * jitter)
            .unwrap_or(capped)
            .min(self.backoff_max)
    }
}
