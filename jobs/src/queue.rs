//! [`Queue`]: push, inspect and retry jobs; pushes share commits through one writer task.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use crate::backend::JobBackend;
use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, Job, JobId, Pushed, Stats, dur_ms, now_ms, time_to_ms};
use crate::store::{NewJob, Store};
use crate::worker::WorkerBuilder;
use crate::{JobContext, JobError};

type PushRequest = (NewJob, oneshot::Sender<Result<Pushed, Error>>);

/// A handle to one named queue; cheap to clone and share.
///
/// # Example
/// ```no_run
/// # async fn demo() -> Result<(), atombot_jobs::Error> {
/// use atombot_jobs::{Job, Queue, QueueConfig};
/// let queue = Queue::connect(QueueConfig::new("sqlite://atombot.db")).await?;
/// queue.push(Job::new("greet", serde_json::json!({ "issue": 7 }))).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: QueueConfig,
    writer: mpsc::Sender<PushRequest>,
    commits: Arc<AtomicU64>,
    /// Whether the writer task is running (pushes can be stored).
    alive: Arc<AtomicBool>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to the backend named by the config's URL and creates its tables if needed.
    ///
    /// Fails with [`Error::InvalidUrl`], [`Error::FeatureDisabled`] or [`Error::Unavailable`].
    /// Must be called inside a Tokio runtime (it starts the writer task).
    pub async fn connect(config: QueueConfig) -> Result<Queue, Error> {
        let store = tokio::time::timeout(
            config.backend_timeout.saturating_mul(2),
            Store::connect(&config),
        )
        .await
        .map_err(|_| Error::Unavailable("timed out connecting".into()))??;
        let (writer, requests) = mpsc::channel(config.max_batch * 4);
        let commits = Arc::new(AtomicU64::new(0));
        let alive = Arc::new(AtomicBool::new(true));
        tokio::spawn(write_batches(
            store.clone(),
            requests,
            config.max_batch,
            config.backend_timeout,
            commits.clone(),
            alive.clone(),
        ));
        debug!(backend = config.scheme(), queue = %config.queue, "queue connected");
        Ok(Queue {
            inner: Arc::new(Inner {
                store,
                config,
                writer,
                commits,
                alive,
            }),
        })
    }

    /// The settings this queue was opened with.
    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    /// How many push batches this handle's writer has committed; with `pushes / commits`
    /// it shows how well concurrent pushes share commits.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// Stores a job to run as soon as a worker is free; returns once it is committed.
    ///
    /// Fails promptly with [`Error::Unavailable`] if the backend cannot be reached.
    pub async fn push(&self, job: Job) -> Result<JobId, Error> {
        Ok(self.submit(job, Duration::ZERO, false).await?.id().clone())
    }

    /// Stores a job that no worker takes before `delay` has passed.
    pub async fn push_after(&self, delay: Duration, job: Job) -> Result<JobId, Error> {
        Ok(self.submit(job, delay, false).await?.id().clone())
    }

    /// Stores a job unless a job with the same [`Job::key`] was pushed within the dedupe TTL.
    ///
    /// Returns [`Pushed::Duplicate`] with the earlier job's id when the key is taken, even
    /// across processes sharing the backend; a key whose job finally failed is free again.
    /// Fails with [`Error::MissingKey`] when the job has no (or an empty) key.
    pub async fn push_unique(&self, job: Job) -> Result<Pushed, Error> {
        if job.key.as_deref().is_none_or(str::is_empty) {
            return Err(Error::MissingKey);
        }
        self.submit(job, Duration::ZERO, true).await
    }

    async fn submit(&self, mut job: Job, delay: Duration, unique: bool) -> Result<Pushed, Error> {
        let config = &self.inner.config;
        let now = now_ms();
        job.enqueued_at = std::time::SystemTime::now();
        let payload =
            serde_json::to_string(&job.payload).map_err(|e| Error::InvalidJob(e.to_string()))?;
        let meta =
            serde_json::to_string(&job.meta).map_err(|e| Error::InvalidJob(e.to_string()))?;
        let new = NewJob {
            id: JobId::generate(),
            kind: job.kind,
            key: job.key,
            payload,
            meta,
            enqueued_at: time_to_ms(job.enqueued_at),
            run_at: now.saturating_add(dur_ms(delay)),
            max_attempts: i64::from(config.max_attempts),
            unique,
            dedupe_expires_at: now.saturating_add(dur_ms(config.dedupe_ttl)),
        };
        let (tx, rx) = oneshot::channel();
        let send = self.inner.writer.send((new, tx));
        tokio::time::timeout(config.backend_timeout, send)
            .await
            .map_err(|_| Error::Unavailable("push queue is full".into()))?
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// A builder for a worker that runs `handler` for each job of this queue.
    ///
    /// See [`WorkerBuilder`] for the options and [`JobError`] for what handler errors do.
    pub fn worker<F, Fut>(&self, handler: F) -> WorkerBuilder<F>
    where
        F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        WorkerBuilder::new(self.clone(), handler)
    }

    /// This queue as an apalis-core 1.0 backend, for building apalis workers directly:
    /// `apalis::prelude::WorkerBuilder::new(name).backend(queue.backend())…` (see [`JobBackend`]).
    /// [`Queue::worker`] does this for you.
    pub fn backend(&self) -> JobBackend {
        JobBackend::new(self.clone())
    }

    /// Jobs kept as failed, newest first (at most 1,000).
    pub async fn failed(&self) -> Result<Vec<FailedJob>, Error> {
        self.timed(self.inner.store.failed(1000)).await
    }

    /// Queues a failed job again with a fresh set of attempts, and claims its key again for
    /// the dedupe TTL (so the same key pushed meanwhile is a duplicate of it); `false` if
    /// `id` is not failed.
    pub async fn retry(&self, id: &JobId) -> Result<bool, Error> {
        let config = &self.inner.config;
        self.timed(self.inner.store.retry(id, config)).await
    }

    /// Job counts by state.
    pub async fn stats(&self) -> Result<Stats, Error> {
        self.timed(self.inner.store.stats()).await
    }

    /// Checks that the writer runs and the backend answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), Error> {
        if !self.inner.alive.load(Ordering::SeqCst) || self.inner.writer.is_closed() {
            return Err(Error::Closed);
        }
        self.timed(self.inner.store.ping()).await
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::time::timeout(self.inner.config.backend_timeout, fut)
            .await
            .map_err(|_| Error::Unavailable("backend did not answer in time".into()))?
    }
}

/// The writer task: takes everything that arrived while the last commit ran and commits it
/// in one transaction (or one Redis `MULTI`), then answers each caller with its own job's
/// result. A panic while storing a batch fails that batch's pushes and the writer goes on;
/// `alive` turns false only when the writer has stopped for good.
async fn write_batches(
    store: Store,
    mut requests: mpsc::Receiver<PushRequest>,
    max_batch: usize,
    timeout: Duration,
    commits: Arc<AtomicU64>,
    alive: Arc<AtomicBool>,
) {
    struct Stopped(Arc<AtomicBool>);
    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    let _stopped = Stopped(alive);
    let mut batch: Vec<PushRequest> = Vec::with_capacity(max_batch);
    while requests.recv_many(&mut batch, max_batch).await > 0 {
        let (jobs, replies): (Vec<NewJob>, Vec<_>) = batch.drain(..).unzip();
        let stored = AssertUnwindSafe(tokio::time::timeout(timeout, store.push_batch(&jobs)))
            .catch_unwind()
            .await;
        let result = match stored {
            Ok(Ok(Ok(pushed))) if pushed.len() == replies.len() => Ok(pushed),
            Ok(Ok(Ok(_))) => Err(Error::Backend("push batch answered short".into())),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(Error::Unavailable("push did not commit in time".into())),
            Err(_) => Err(Error::Backend(
                "the queue writer panicked storing this batch".into(),
            )),
        };
        match result {
            Ok(pushed) => {
                commits.fetch_add(1, Ordering::Relaxed);
                debug!(jobs = jobs.len(), "push batch committed");
                for (reply, pushed) in replies.into_iter().zip(pushed) {
                    let _ = reply.send(pushed);
                }
            }
            Err(e) => {
                warn!(jobs = jobs.len(), error = %e, "push batch failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_pushes_share_commits() {
        let queue = Queue::connect(QueueConfig::new("memory")).await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..200 {
            let queue = queue.clone();
            tasks.spawn(async move {
                queue
                    .push(Job::new("n", serde_json::json!(n)))
                    .await
                    .unwrap()
            });
        }
        let ids: std::collections::HashSet<JobId> = tasks.join_all().await.into_iter().collect();
        assert_eq!(ids.len(), 200);
        assert_eq!(queue.stats().await.unwrap().pending, 200);
        assert!(
            queue.commits() < 50,
            "{} commits for 200 pushes",
            queue.commits()
        );
    }

    #[tokio::test]
    async fn one_batch_answers_each_caller() {
        let queue = Queue::connect(QueueConfig::new("memory")).await.unwrap();
        let job = |k: &str| Job::new("n", serde_json::Value::Null).with_key(k);
        let (a, b, c) = tokio::join!(
            queue.push_unique(job("a")),
            queue.push_unique(job("a")),
            queue.push_unique(job("b")),
        );
        let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        assert!(!a.is_duplicate() && b.is_duplicate() && !c.is_duplicate());
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
    }
}
