//! Workers: claim jobs, run the handler in a span, report the outcome, beat, shut down cleanly.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::error::{Error, JobError};
use crate::job::{Job, JobId, dur_ms, now_ms};
use crate::queue::Queue;
use crate::store::{Ack, Leased};

type DataMap = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// What a handler learns about the job it runs, plus shared data.
#[derive(Clone)]
pub struct JobContext {
    id: JobId,
    attempt: u32,
    max_attempts: u32,
    worker: Arc<str>,
    queue: Queue,
    data: Arc<DataMap>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl JobContext {
    /// The job's id.
    pub fn id(&self) -> &JobId {
        &self.id
    }

    /// Which run this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// How many runs the job gets before it is kept as failed.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The name of the worker running the job.
    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    /// The queue the job came from, to push follow-up jobs.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Shared data registered with [`WorkerBuilder::data`], by type.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data
            .get(&TypeId::of::<T>())
            .and_then(|d| d.downcast_ref::<T>())
    }
}

/// Builds and runs a worker; reads as a sentence, like apalis' `WorkerBuilder`.
///
/// # Example
/// ```no_run
/// # async fn demo(queue: atombot_jobs::Queue) -> Result<(), atombot_jobs::Error> {
/// use atombot_jobs::{Job, JobContext, JobError};
/// queue
///     .worker(|job: Job, ctx: JobContext| async move {
///         match job.kind.as_str() {
///             "greet" => Ok(()),
///             _ => Err(JobError::Unknown),
///         }
///     })
///     .name_prefix("bot")
///     .concurrency(4)
///     .run(async { let _ = tokio::signal::ctrl_c().await; })
///     .await
/// # }
/// ```
pub struct WorkerBuilder<F> {
    queue: Queue,
    handler: F,
    prefix: String,
    concurrency: usize,
    shutdown_timeout: Duration,
    data: DataMap,
}

impl<F> std::fmt::Debug for WorkerBuilder<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("prefix", &self.prefix)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl<F, Fut> WorkerBuilder<F>
where
    F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    pub(crate) fn new(queue: Queue, handler: F) -> Self {
        let config = queue.config();
        WorkerBuilder {
            concurrency: config.concurrency,
            shutdown_timeout: config.shutdown_timeout,
            queue,
            handler,
            prefix: "worker".into(),
            data: HashMap::new(),
        }
    }

    /// The worker's name prefix; each run adds a random suffix, so a restarted process never
    /// collides with its dead predecessor.
    #[must_use]
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many jobs run at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long running jobs get to finish after shutdown is requested.
    #[must_use]
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.shutdown_timeout = d;
        self
    }

    /// Shares `value` with every handler call through [`JobContext::data`].
    #[must_use]
    pub fn data<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// Runs until `shutdown` completes, then stops taking jobs and lets running ones finish
    /// within the shutdown timeout; unfinished ones go back to the queue.
    ///
    /// Backend outages are logged and retried, never fatal.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
        let name: Arc<str> = format!("{}-{:08x}", self.prefix, fastrand::u32(..)).into();
        let queue = self.queue.clone();
        let config = queue.config().clone();
        let handler = Arc::new(self.handler);
        let data = Arc::new(self.data);
        let span = info_span!("worker", name = %name, queue = %config.queue);
        async move {
            info!(concurrency = self.concurrency, "worker started");
            let mut shutdown = std::pin::pin!(shutdown);
            // Register before taking any job, so no other worker mistakes ours for orphans.
            let mut wait = Duration::from_millis(100);
            loop {
                match queue.timed(queue.store().heartbeat(&name, &config)).await {
                    Ok(n) => {
                        if n > 0 {
                            info!(jobs = n, "re-enqueued jobs of dead workers");
                        }
                        break;
                    }
                    Err(e) => warn!(error = %e, "registering worker failed; retrying"),
                }
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            let (stop_tx, stop_rx) = watch::channel(false);
            let beat = tokio::spawn(heartbeat(queue.clone(), name.clone(), stop_rx.clone()).in_current_span());
            let in_flight: Arc<Mutex<HashSet<JobId>>> = Arc::default();
            let mut tasks = JoinSet::new();
            let mut failures = 0u32;
            loop {
                while tasks.try_join_next().is_some() {}
                let free = self.concurrency.saturating_sub(tasks.len());
                let mut full_batch = false;
                if free > 0 {
                    match queue.timed(queue.store().fetch(&name, free)).await {
                        Ok(jobs) => {
                            failures = 0;
                            full_batch = jobs.len() == free;
                            for leased in jobs {
                                in_flight.lock().map(|mut s| s.insert(leased.id.clone())).ok();
                                let ctx = JobContext {
                                    id: leased.id.clone(),
                                    attempt: leased.attempts,
                                    max_attempts: leased.max_attempts,
                                    worker: name.clone(),
                                    queue: queue.clone(),
                                    data: data.clone(),
                                };
                                tasks.spawn(run_job(
                                    leased,
                                    ctx,
                                    handler.clone(),
                                    in_flight.clone(),
                                    stop_rx.clone(),
                                ));
                            }
                        }
                        Err(e) => {
                            failures = failures.saturating_add(1);
                            warn!(error = %e, "fetching jobs failed");
                        }
                    }
                }
                if full_batch {
                    // More may be waiting; look again once a slot frees up.
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tasks.join_next() => {}
                    }
                    continue;
                }
                let idle = if failures > 0 {
                    config.poll_interval.saturating_mul(1 << failures.min(5)).min(Duration::from_secs(2))
                } else {
                    config.poll_interval
                };
                tokio::select! {
                    _ = &mut shutdown => break,
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    _ = tokio::time::sleep(idle) => {}
                }
            }
            info!(running = tasks.len(), "worker stopping");
            let drained = tokio::time::timeout(self.shutdown_timeout, async {
                while tasks.join_next().await.is_some() {}
            })
            .await;
            let _ = stop_tx.send(true);
            if drained.is_err() {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                let left: Vec<JobId> = in_flight.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default();
                warn!(jobs = left.len(), "shutdown timeout: returning unfinished jobs to the queue");
                for id in left {
                    let release = Ack::Release { run_at: now_ms() };
                    if let Err(e) = queue.timed(queue.store().ack(&id, &name, &release)).await {
                        warn!(job = %id, error = %e, "could not return job; it is recovered as an orphan");
                    }
                }
            }
            let _ = beat.await;
            if let Err(e) = queue.timed(queue.store().deregister(&name)).await {
                warn!(error = %e, "could not deregister worker");
            }
            info!("worker stopped");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

/// Beats every third of the orphan timeout, queuing the jobs of dead workers again.
async fn heartbeat(queue: Queue, name: Arc<str>, mut stop: watch::Receiver<bool>) {
    let config = queue.config().clone();
    let every = (config.orphan_timeout / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match queue.timed(queue.store().heartbeat(&name, &config)).await {
            Ok(0) => {}
            Ok(n) => info!(jobs = n, "re-enqueued jobs of dead workers"),
            Err(e) => warn!(error = %e, "heartbeat failed"),
        }
    }
}

async fn run_job<F, Fut>(
    leased: Leased,
    ctx: JobContext,
    handler: Arc<F>,
    in_flight: Arc<Mutex<HashSet<JobId>>>,
    mut stop: watch::Receiver<bool>,
) where
    F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    let queue = ctx.queue.clone();
    let worker = ctx.worker.clone();
    let config = queue.config().clone();
    let id = leased.id.clone();
    let span = info_span!(
        "job",
        id = %id,
        kind = %leased.job.kind,
        attempt = leased.attempts,
        max_attempts = leased.max_attempts
    );
    async move {
        let started = std::time::Instant::now();
        let outcome = AssertUnwindSafe(handler(leased.job, ctx))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".into());
                Err(JobError::Retry(format!("handler panicked: {msg}")))
            });
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let ack = match outcome {
            Ok(()) => {
                debug!(elapsed_ms, "job done");
                Ack::Done
            }
            Err(JobError::Retry(error)) if leased.attempts < leased.max_attempts => {
                let delay = config.backoff_for(leased.attempts);
                warn!(elapsed_ms, %error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                Ack::Retry { run_at: now_ms() + dur_ms(delay), error }
            }
            Err(JobError::Retry(error)) => {
                error!(elapsed_ms, %error, "job failed on its last attempt");
                Ack::Fail { error }
            }
            Err(JobError::Abort(error)) => {
                error!(elapsed_ms, %error, "job aborted");
                Ack::Fail { error }
            }
            Err(JobError::Unknown) => {
                debug!("unknown job kind; returning it to the queue");
                Ack::Release { run_at: now_ms() + dur_ms(config.unknown_kind_delay) }
            }
        };
        // Until the outcome is recorded the job stays ours: keep trying (the backend may be
        // down) unless the worker is shutting down, in which case orphan recovery takes over.
        let mut wait = Duration::from_millis(50);
        loop {
            match queue.timed(queue.store().ack(&id, &worker, &ack)).await {
                Ok(true) => break,
                Ok(false) => {
                    warn!("job was taken over by another worker; outcome dropped");
                    break;
                }
                Err(e) => {
                    warn!(error = %e, "recording job outcome failed; retrying");
                    if *stop.borrow() {
                        break;
                    }
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
        if let Ok(mut set) = in_flight.lock() {
            set.remove(&id);
        }
    }
    .instrument(span)
    .await
}
