//! The apalis side of the queue: [`JobBackend`] implements apalis-core 1.0's [`Backend`] over
//! our own storage, and [`AckLayer`] is its backend middleware that records each outcome.
//!
//! How the pieces map onto apalis:
//!
//! - **Polling**: [`Backend::poll_next`] claims up to the number of free slots from the store
//!   (one atomic lease per job, attempts counted in the store) and hands them out one by one as
//!   `Task<Job>`s with the job id as [`TaskId`], the lease in the task's extensions and
//!   apalis' attempt counter set so that it reads the same as ours while the job runs.
//!   An empty queue parks the backend for `poll_interval`; backend outages are logged and
//!   retried with backoff, never returned as errors (apalis ends a worker on a backend error).
//! - **Registration, heartbeat, recovery**: [`Backend::poll_ready`] registers the worker before
//!   it takes any job, then a heartbeat task beats every third of the orphan timeout and
//!   re-enqueues the jobs of dead workers. It runs as its own Tokio task because apalis does
//!   not poll the backend while it drains running jobs at shutdown, and a drain can outlast
//!   the orphan timeout.
//! - **Acknowledgement**: apalis places the backend's middleware ([`BackendConfig::Layer`])
//!   around the user's layers, so [`AckService`] sees every task's final result (after
//!   catch-panic, tracing, concurrency…) and records it: done, retry with *durable* backoff
//!   (the next run time is stored, not slept), failed, or returned. apalis' own statuses
//!   cannot express "return without using up an attempt", so [`JobError::Unknown`] is handled
//!   here: the store gives the attempt back.
//! - **Shutdown**: apalis stops fetching and waits for running tasks without a time limit
//!   (and stops polling the backend meanwhile, so fetches run on Tokio tasks of their own, or
//!   a half-done one would keep a connection the running jobs need to record their outcome);
//!   [`AckService`] adds ours: once the worker is shutting down, a task that has not finished
//!   within the shutdown timeout is cancelled and its job returned to the queue.
//!   [`Backend::poll_close`] then returns claimed-but-not-started jobs, stops the heartbeat
//!   and deregisters the worker.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::{Backend, BackendConfig, finalize::Ephemeral};
use apalis_core::task::Task;
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use apalis_core::worker::context::WorkerContext;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, info, warn};

use crate::config::QueueConfig;
use crate::error::Error;
use crate::handoff::Slots;
use crate::job::{Job, JobId, OnRecorded, Recorded};
use crate::store::{Leased, Parts, Store};

mod ack;

pub(crate) use ack::panic_to_retry;

/// Starts a job's handler: what [`Queue::worker`](crate::Queue::worker) gives its backend to
/// run handed-over jobs directly (see [`JobBackend::run_directly`]).
pub(crate) type Runner =
    Arc<dyn Fn(Job, JobLease) -> BoxFuture<'static, Result<(), crate::JobError>> + Send + Sync>;
#[doc(inline)]
pub use ack::{AckLayer, AckService};

/// What the backend knows about a claimed job; stored in each task's extensions.
#[derive(Debug, Clone)]
pub(crate) struct JobLease {
    pub(crate) id: JobId,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    /// The job's kind and when it was pushed (for the unknown-kind and postpone bounds).
    pub(crate) kind: Arc<str>,
    /// The job's key, if it has one.
    pub(crate) key: Option<Arc<str>>,
    pub(crate) enqueued_at: std::time::SystemTime,
    pub(crate) worker: Arc<str>,
    /// The store and settings of the queue the job came from.
    pub(crate) parts: Arc<Parts>,
}

impl JobLease {
    fn new(leased: &Leased, worker: Arc<str>, parts: Arc<Parts>) -> Self {
        JobLease {
            id: leased.id.clone(),
            attempt: leased.attempts,
            max_attempts: leased.max_attempts,
            kind: leased.job.kind.as_str().into(),
            key: leased.job.key.as_deref().map(Into::into),
            enqueued_at: leased.job.enqueued_at,
            worker,
            parts,
        }
    }
}

/// Counters shared by a backend and its ack layer.
#[derive(Debug, Default)]
struct Shared {
    /// Tasks handed to the worker whose outcome is not yet recorded (also taken by this
    /// process's pushes that hand a job straight over).
    slots: Arc<Slots>,
    /// Set once the worker is shutting down (watched by [`watch_shutdown`]), which starts
    /// the running jobs' shutdown timeout.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The running jobs, to cancel one whose lease this worker lost.
    running: std::sync::Mutex<std::collections::HashMap<JobId, futures_util::future::AbortHandle>>,
    /// The tasks of jobs handed straight to this worker, awaited when it stops.
    direct: tokio_util::task::TaskTracker,
}

impl Shared {
    fn running_ids(&self) -> Vec<JobId> {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.keys().cloned().collect()
    }

    /// Cancels the running jobs among `ids` that are not in `kept`.
    fn cancel_lost(&self, ids: &[JobId], kept: &[JobId]) -> usize {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mut cancelled = 0;
        for id in ids.iter().filter(|id| !kept.contains(id)) {
            if let Some(task) = running.get(id) {
                warn!(job = %id, "this worker lost the job's lease (taken over as an orphan); cancelling it");
                task.abort();
                cancelled += 1;
            }
        }
        cancelled
    }
}

/// An apalis-core 1.0 [`Backend`] over a [`Queue`](crate::Queue)'s storage; get one from
/// [`Queue::backend`](crate::Queue::backend).
///
/// It emits `Task<Job>`s and is [`Ephemeral`] in apalis' terms (the store already decodes
/// jobs). Use it with apalis' own builder when [`Queue::worker`](crate::Queue::worker) is not
/// enough:
///
/// ```no_run
/// # async fn demo(queue: atombot_jobs::Queue) -> Result<(), Box<dyn std::error::Error>> {
/// use apalis::prelude::*;
/// use atombot_jobs::{Job, JobContext, JobError};
///
/// async fn handle(job: Job, ctx: JobContext) -> Result<(), JobError> {
///     match job.kind.as_str() {
///         "greet" => Ok(()),
///         _ => Err(JobError::Unknown),
///     }
/// }
///
/// WorkerBuilder::new("bot-1")
///     .backend(queue.backend().poll_with_interval(std::time::Duration::from_millis(100)))
///     .concurrency(4)
///     .enable_tracing()
///     .build(handle)
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Worker names must be unique among live workers of a queue (the store leases jobs to them).
pub struct JobBackend {
    parts: Arc<Parts>,
    batch: usize,
    shutdown_timeout: Duration,
    shared: Arc<Shared>,
    phase: Phase,
    worker: Arc<str>,
    buffer: VecDeque<Leased>,
    /// Jobs this process's pushes hand straight to this worker (slots already taken).
    inbox: Option<tokio::sync::mpsc::UnboundedReceiver<Leased>>,
    fetching: Option<BoxFuture<'static, Result<Vec<Leased>, Error>>>,
    pause: Option<BoxFuture<'static, ()>>,
    failures: u32,
    beat: Option<AbortOnDrop>,
    closing: Option<BoxFuture<'static, ()>>,
    on_recorded: Option<OnRecorded>,
    /// Runs jobs handed over by this process's pushes at once, beside apalis' stream.
    runner: Option<Runner>,
}

enum Phase {
    New,
    Registering(BoxFuture<'static, ()>),
    Running,
}

impl fmt::Debug for JobBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobBackend")
            .field("queue", &self.parts.config.queue)
            .field("batch", &self.batch)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl Clone for JobBackend {
    /// A fresh backend over the same queue and settings (state such as leases is not shared).
    fn clone(&self) -> Self {
        let mut backend = JobBackend::new(self.parts.clone())
            .batch_size(self.batch)
            .shutdown_timeout(self.shutdown_timeout);
        backend.on_recorded = self.on_recorded.clone();
        backend.runner = self.runner.clone();
        backend
    }
}

impl JobBackend {
    /// A backend over a queue's store and settings.
    pub(crate) fn new(parts: Arc<Parts>) -> Self {
        JobBackend {
            batch: parts.config.concurrency,
            shutdown_timeout: parts.config.shutdown_timeout,
            parts,
            shared: Arc::default(),
            phase: Phase::New,
            worker: "".into(),
            buffer: VecDeque::new(),
            inbox: None,
            fetching: None,
            pause: None,
            failures: 0,
            beat: None,
            closing: None,
            on_recorded: None,
            runner: None,
        }
    }

    /// Runs the jobs this process's pushes hand straight to this worker with `runner`, on
    /// tasks of their own under the same guards and outcomes as [`AckService`], instead of
    /// through apalis' stream (whose per-task layers then only serve claimed jobs).
    pub(crate) fn run_directly(mut self, runner: Runner) -> Self {
        self.runner = Some(runner);
        self
    }

    /// The queue's parts (for the worker that stops handing over at shutdown).
    pub(crate) fn parts(&self) -> &Arc<Parts> {
        &self.parts
    }

    /// The tasks of directly run jobs, to wait for at shutdown.
    pub(crate) fn direct_tasks(&self) -> tokio_util::task::TaskTracker {
        self.shared.direct.clone()
    }

    /// This worker's lease on a job it claimed or was handed.
    fn lease(&self, leased: &Leased) -> JobLease {
        JobLease::new(leased, self.worker.clone(), self.parts.clone())
    }

    /// Calls `f` with every outcome this backend's worker records, after it is stored (for
    /// test kits and metrics; `f` must be quick and must not block).
    #[must_use]
    pub fn on_recorded(mut self, f: impl Fn(&Recorded) + Send + Sync + 'static) -> Self {
        self.on_recorded = Some(Arc::new(f));
        self
    }

    /// How many jobs one fetch may claim at most (default: the queue's concurrency); each fetch
    /// claims only as many as are not already running.
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// How long running jobs get to finish once the worker is shutting down (default: the
    /// queue's); unfinished ones are cancelled and returned to the queue.
    #[must_use]
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.shutdown_timeout = d;
        self
    }

    /// The settings of the queue this backend serves.
    pub(crate) fn settings(&self) -> &QueueConfig {
        &self.parts.config
    }

    fn to_task(&self, leased: Leased) -> Task<Job> {
        let lease = self.lease(&leased);
        let key = leased.job.key.clone();
        let mut builder = TaskBuilder::new(leased.job)
            .task_id(TaskId::from_string(leased.id.0))
            // apalis counts the run when it starts polling the task.
            .attempt(leased.attempts.saturating_sub(1) as usize)
            .max_attempts(leased.max_attempts as usize)
            .lock_by(Some(self.worker.to_string()))
            .queue(self.parts.config.queue.as_str().into())
            .data(lease);
        if let Some(key) = key {
            builder = builder.idempotency_key(key);
        }
        builder.build()
    }
}

/// Aborts a Tokio task when dropped.
#[derive(Debug)]
struct AbortOnDrop<T = ()>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `fut` on a Tokio task of its own, so it finishes (and gives its connection back to the
/// pool) even when nobody polls the returned future: apalis stops polling the backend while
/// it drains running jobs at shutdown, and a fetch it left half-done would hold a connection
/// those jobs need to record their outcome (the only one, for an in-memory queue).
fn detached<T: Send + 'static>(
    fut: impl Future<Output = Result<T, Error>> + Send + 'static,
) -> BoxFuture<'static, Result<T, Error>> {
    let task = tokio::spawn(fut.in_current_span());
    async move {
        task.await
            .map_err(|e| Error::Backend(format!("fetch task failed: {e}")))?
    }
    .boxed()
}

/// Registers the worker, retrying while the backend is down.
async fn register(parts: Arc<Parts>, name: Arc<str>) {
    let config = &parts.config;
    let mut wait = Duration::from_millis(100);
    loop {
        match parts.timed(parts.store.heartbeat(&name, config)).await {
            Ok(n) => {
                if n > 0 {
                    info!(jobs = n, "re-enqueued jobs of dead workers");
                }
                return;
            }
            Err(e) => warn!(error = %e, "registering worker failed; retrying"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// Tells the running jobs once the worker starts shutting down (apalis has no event for
/// it), so their shutdown timeout starts.
async fn watch_shutdown(worker: WorkerContext, shared: Arc<Shared>) {
    while !worker.is_shutting_down() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shared.stopping.send_replace(true);
}

/// Beats every third of the orphan timeout, queuing the jobs of dead workers again, and
/// cancels this worker's running jobs whose lease it lost (taken over while it was silent).
async fn heartbeat(parts: Arc<Parts>, name: Arc<str>, shared: Arc<Shared>) {
    let config = &parts.config;
    let every = (config.orphan_timeout / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        match parts.timed(parts.store.heartbeat(&name, config)).await {
            Ok(0) => {}
            Ok(n) => info!(jobs = n, "re-enqueued jobs of dead workers"),
            Err(e) => warn!(error = %e, "heartbeat failed"),
        }
        let ids = shared.running_ids();
        if ids.is_empty() {
            continue;
        }
        match parts.timed(parts.store.still_leased(&name, &ids)).await {
            Ok(kept) => {
                shared.cancel_lost(&ids, &kept);
            }
            Err(e) => warn!(error = %e, "checking leases failed"),
        }
    }
}

impl Backend for JobBackend {
    type Task = Task<Job>;
    type Error = Error;

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        loop {
            match &mut self.phase {
                Phase::New => {
                    // Register before taking any job, so no other worker mistakes ours for orphans.
                    self.worker = worker.name().into();
                    let fut = register(self.parts.clone(), self.worker.clone());
                    self.phase = Phase::Registering(fut.in_current_span().boxed());
                }
                Phase::Registering(fut) => {
                    if fut.poll_unpin(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let beat =
                        heartbeat(self.parts.clone(), self.worker.clone(), self.shared.clone());
                    let watch = watch_shutdown(worker.clone(), self.shared.clone());
                    self.beat = Some(AbortOnDrop(tokio::spawn(
                        async move {
                            tokio::join!(beat, watch);
                        }
                        .in_current_span(),
                    )));
                    let (name, slots) = (self.worker.clone(), self.shared.slots.clone());
                    match self.runner.clone() {
                        Some(runner) => {
                            let (parts, shared) = (self.parts.clone(), self.shared.clone());
                            let (worker, timeout) = (name.clone(), self.shutdown_timeout);
                            let on_recorded = self.on_recorded.clone();
                            let run = move |leased: Leased| {
                                let lease = JobLease::new(&leased, worker.clone(), parts.clone());
                                let job = runner(leased.job, lease.clone());
                                let (shared, on_recorded) = (shared.clone(), on_recorded.clone());
                                ack::spawn_direct(lease, job, shared, timeout, on_recorded);
                            };
                            let run = Arc::new(run);
                            self.parts.handoff.join_direct(name, self.batch, slots, run);
                        }
                        None => {
                            self.inbox = Some(self.parts.handoff.join(name, self.batch, slots));
                        }
                    }
                    self.phase = Phase::Running;
                }
                Phase::Running => return Poll::Ready(Ok(())),
            }
        }
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Option<Result<Self::Task, Self::Error>>> {
        if !matches!(self.phase, Phase::Running) {
            return Poll::Pending;
        }
        let config = &self.parts.config;
        loop {
            // Handed over by a push of this process: stored as ours, its slot taken.
            if let Some(Poll::Ready(Some(leased))) =
                self.inbox.as_mut().map(|inbox| inbox.poll_recv(cx))
            {
                return Poll::Ready(Some(Ok(self.to_task(leased))));
            }
            // A slot is free only once the previous job's outcome is recorded, so at most
            // `batch` jobs are ever between "started" and "acknowledged": that bounds what a
            // crash can make run twice.
            let slots = &self.shared.slots;
            if slots.in_flight() >= self.batch {
                slots.wake_on_free(cx.waker());
                if slots.in_flight() >= self.batch {
                    return Poll::Pending;
                }
            }
            if let Some(leased) = self.buffer.pop_front() {
                slots.take();
                return Poll::Ready(Some(Ok(self.to_task(leased))));
            }
            if let Some(fetch) = &mut self.fetching {
                let result = match fetch.poll_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result,
                };
                self.fetching = None;
                match result {
                    Ok(jobs) if jobs.is_empty() => {
                        self.failures = 0;
                        // Until the poll interval passes or this process pushes a job.
                        let (pushed, interval) = (self.parts.pushed.clone(), config.poll_interval);
                        self.pause = Some(
                            async move {
                                tokio::select! {
                                    () = pushed.notified() => {}
                                    () = tokio::time::sleep(interval) => {}
                                }
                            }
                            .boxed(),
                        );
                    }
                    Ok(jobs) => {
                        self.failures = 0;
                        self.buffer.extend(jobs);
                        continue;
                    }
                    Err(e) => {
                        self.failures = self.failures.saturating_add(1);
                        warn!(error = %e, "fetching jobs failed");
                        let idle = config
                            .poll_interval
                            .saturating_mul(1 << self.failures.min(5))
                            .min(Duration::from_secs(2));
                        self.pause = Some(tokio::time::sleep(idle).boxed());
                    }
                }
            }
            if let Some(pause) = &mut self.pause {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.pause = None;
            }
            let free = self
                .batch
                .saturating_sub(self.shared.slots.in_flight())
                .max(1);
            let (parts, name) = (self.parts.clone(), self.worker.clone());
            self.fetching = Some(match &self.parts.store {
                // In process: no connection held, done in one poll, no task needed.
                Store::Memory(_) => {
                    async move { parts.timed(parts.store.fetch(&name, free)).await }.boxed()
                }
                // SQL: between the writer's commits, so claims never wait on the write
                // lock; the writer hands back what nobody waits for any more.
                store if store.is_sql() => async move {
                    let timeout = parts.config.backend_timeout;
                    parts.timed(parts.writer.fetch(name, free, timeout)).await
                }
                .boxed(),
                _ => detached(async move { parts.timed(parts.store.fetch(&name, free)).await }),
            });
        }
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        if self.closing.is_none() {
            // Directly run jobs' shutdown timeout starts now, if the watcher has not seen it.
            self.shared.stopping.send_replace(true);
            let registered = matches!(self.phase, Phase::Running);
            self.phase = Phase::Running;
            self.pause = None;
            let fetching = self.fetching.take();
            let waiting = self.parts.handoff.leave(&self.worker);
            let mut left: Vec<JobId> = self.buffer.drain(..).map(|l| l.id).collect();
            left.extend(waiting.into_iter().map(|l| l.id));
            if let Some(mut inbox) = self.inbox.take() {
                inbox.close();
                while let Ok(leased) = inbox.try_recv() {
                    self.shared.slots.give_back();
                    left.push(leased.id);
                }
            }
            let beat = self.beat.take();
            let (parts, name) = (self.parts.clone(), self.worker.clone());
            let close = async move {
                drop(beat);
                if !registered {
                    return;
                }
                // A fetch in flight may already have claimed jobs: finish it to return them.
                if let Some(Ok(jobs)) = match fetching {
                    Some(f) => Some(f.await),
                    None => None,
                } {
                    left.extend(jobs.into_iter().map(|l| l.id));
                }
                if !left.is_empty() {
                    debug!(
                        jobs = left.len(),
                        "returning claimed jobs that did not start"
                    );
                }
                parts.give_back(&name, left).await;
                if let Err(e) = parts.timed(parts.store.deregister(&name)).await {
                    warn!(error = %e, "could not deregister worker");
                }
            };
            self.closing = Some(close.in_current_span().boxed());
        }
        match self.closing.as_mut().map(|c| c.poll_unpin(cx)) {
            Some(Poll::Pending) => Poll::Pending,
            _ => Poll::Ready(Ok(())),
        }
    }
}

impl BackendConfig for JobBackend {
    type Args = Job;
    type Id = TaskId;
    type Kind = Ephemeral;
    type Config = crate::QueueConfig;
    type Layer = AckLayer;

    fn config(&self) -> &Self::Config {
        &self.parts.config
    }

    fn middleware(&mut self, worker: &mut WorkerContext) -> Self::Layer {
        AckLayer {
            worker: worker.clone(),
            shutdown_timeout: self.shutdown_timeout,
            shared: self.shared.clone(),
            on_recorded: self.on_recorded.clone(),
        }
    }
}
