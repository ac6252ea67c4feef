//! [`Queue`]: push, inspect and retry jobs; pushes share commits through one writer task.

use std::sync::Arc;
use std::time::Duration;

use tracing::debug;

use crate::config::QueueConfig;
use crate::error::Error;
use crate::handoff::Reserved;
use crate::job::{FailedJob, Job, JobId, Pushed, Stats, dur_ms, now_ms, time_to_ms};
use crate::store::{Leased, NewJob, Parts, Store};

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
    parts: Arc<Parts>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("config", &self.parts.config)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to the backend named by the config's URL and creates its tables if needed.
    ///
    /// Fails with [`Error::InvalidUrl`], [`Error::FeatureDisabled`] or [`Error::Unavailable`].
    /// Must be called inside a Tokio runtime (it starts the writer task).
    pub async fn connect(config: QueueConfig) -> Result<Queue, Error> {
        let parts = Parts::connect(config).await?;
        debug!(backend = parts.config.scheme(), queue = %parts.config.queue, "queue connected");
        Ok(Queue::from_parts(Arc::new(parts)))
    }

    /// A handle on parts a backend or job context holds.
    pub(crate) fn from_parts(parts: Arc<Parts>) -> Queue {
        Queue { parts }
    }

    /// What this queue shares with the worker backends built from it.
    pub(crate) fn parts(&self) -> &Arc<Parts> {
        &self.parts
    }

    /// The settings this queue was opened with.
    pub fn config(&self) -> &QueueConfig {
        &self.parts.config
    }

    /// How many batches have been committed (by the SQLite store's thread, which commits
    /// pushes, outcomes and claims together, or else by this handle's writer); with
    /// `pushes / commits` it shows how well concurrent pushes share commits.
    pub fn commits(&self) -> u64 {
        let parts = &self.parts;
        if parts.store.batches_itself() {
            parts.store.commits()
        } else {
            parts.writer.commits()
        }
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

    /// Like [`push_unique`](Self::push_unique), for a job that no worker takes before
    /// `delay` has passed; its key stays taken for the dedupe TTL counted from then, so a
    /// job queued far ahead (a schedule's next tick) is never pushed twice.
    pub async fn push_unique_after(&self, delay: Duration, job: Job) -> Result<Pushed, Error> {
        if job.key.as_deref().is_none_or(str::is_empty) {
            return Err(Error::MissingKey);
        }
        self.submit(job, delay, true).await
    }

    async fn submit(&self, mut job: Job, delay: Duration, unique: bool) -> Result<Pushed, Error> {
        let parts = &self.parts;
        let config = &parts.config;
        let now = now_ms();
        job.enqueued_at = std::time::SystemTime::now();
        let meta =
            serde_json::to_string(&job.meta).map_err(|e| Error::InvalidJob(e.to_string()))?;
        // A job due now goes straight to an idle worker of this process, if there is one.
        let reserved = (delay.is_zero() && parts.store.hands_off())
            .then(|| parts.handoff.reserve())
            .flatten();
        let max_attempts = i64::from(config.max_attempts);
        let new_id = JobId::generate();
        let new = NewJob {
            id: new_id.clone(),
            kind: job.kind.clone(),
            key: job.key.clone(),
            payload: job.payload.clone(),
            body: job.body.clone(),
            body_kept_as: job.body_kept_as.clone(),
            meta,
            enqueued_at: time_to_ms(job.enqueued_at),
            run_at: now.saturating_add(dur_ms(delay)),
            max_attempts,
            unique,
            dedupe_expires_at: now
                .saturating_add(dur_ms(delay))
                .saturating_add(dur_ms(config.dedupe_ttl)),
            lease_to: reserved.as_ref().map(Reserved::worker),
        };
        let pushed = if let Store::Memory(store) = &parts.store {
            // In process there is no commit to share: store it at once, without a hop
            // through the writer task.
            store.push(new)
        } else if parts.store.batches_itself() {
            parts
                .timed(parts.store.push_owned(vec![new]))
                .await
                .and_then(|mut one| {
                    one.pop()
                        .unwrap_or_else(|| Err(Error::Backend("push answered short".into())))
                })
        } else {
            parts.writer.push(new, config.backend_timeout).await
        };
        match (&pushed, reserved) {
            (Ok(Pushed::Enqueued(id)), Some(reserved)) => {
                let leased = Leased {
                    id: id.clone(),
                    job,
                    attempts: 1,
                    max_attempts: crate::store::to_u32(max_attempts),
                };
                let worker = reserved.worker();
                if let Err(leased) = reserved.hand_over(leased) {
                    // The worker stopped between the reservation and now: back to the queue.
                    release(parts, leased.id, worker);
                }
            }
            (Err(_), Some(reserved)) => {
                // The push may still have been stored (a timeout), claimed by a worker that
                // will never get it: return it to the queue, if it is there. Sent after the
                // push, so a store that serves requests in order sees the push first.
                release(parts, new_id, reserved.worker());
            }
            (Ok(Pushed::Enqueued(_)), None) if delay.is_zero() => parts.pushed.notify_one(),
            _ => {}
        }
        pushed
    }

    /// Jobs kept as failed, newest first (at most 1,000).
    pub async fn failed(&self) -> Result<Vec<FailedJob>, Error> {
        self.parts.timed(self.parts.store.failed(1000)).await
    }

    /// Queues a failed job again with a fresh set of attempts, and claims its key again for
    /// the dedupe TTL (so the same key pushed meanwhile is a duplicate of it); `false` if
    /// `id` is not failed.
    pub async fn retry(&self, id: &JobId) -> Result<bool, Error> {
        let parts = &self.parts;
        parts.timed(parts.store.retry(id, &parts.config)).await
    }

    /// Job counts by state.
    pub async fn stats(&self) -> Result<Stats, Error> {
        self.parts.timed(self.parts.store.stats()).await
    }

    /// Checks that the writer runs and the backend answers (for readiness probes).
    ///
    /// Fails with [`Error::Unavailable`] while the writer is being restarted after it died,
    /// or the backend does not answer, and with [`Error::Closed`] once the writer has stopped.
    pub async fn ping(&self) -> Result<(), Error> {
        self.parts.writer.check()?;
        self.parts.timed(self.parts.store.ping()).await
    }

    /// Makes the writer task die as a bug would (a panic outside its per-batch guard) and
    /// returns once its supervisor has noticed; for tests of supervision only.
    #[doc(hidden)]
    pub async fn crash_writer_for_tests(&self) {
        self.parts.writer.crash_for_tests().await;
    }
}

/// Returns job `id`, stored as claimed by `worker` of this process but never handed to it,
/// to the queue (attempt given back) in the background; if that fails too, orphan recovery
/// takes it once the worker is gone.
fn release(parts: &Arc<Parts>, id: JobId, worker: Arc<str>) {
    let parts = parts.clone();
    tokio::spawn(async move { parts.give_back(&worker, [id]).await });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_pushes_share_commits() {
        // SQLite, where pushes go through the writer (the memory store needs no commits).
        let dir = std::env::temp_dir().join(format!("atombot-commits-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("q.db").display());
        let queue = Queue::connect(QueueConfig::new(url)).await.unwrap();
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
            queue.commits() > 0 && queue.commits() < 50,
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
