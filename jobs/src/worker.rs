//! Workers: [`Queue::worker`](crate::Queue::worker)'s builder, a thin layer over an apalis
//! [`Worker`](apalis_core::worker::Worker) on a [`JobBackend`], and the [`JobContext`]
//! handlers receive.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use apalis::layers::WorkerBuilderExt;
use apalis::layers::catch_panic::CatchPanicLayer;
use apalis_core::backend::ext::BackendExt;
use apalis_core::error::WorkerError;
use apalis_core::task::Task;
use apalis_core::task::data::MissingDataError;
use apalis_core::task::from_request::FromRequest;
use apalis_core::worker::context::WorkerContext;
use tracing::{Instrument, info, info_span, warn};

use crate::backend::{JobBackend, JobLease, Runner, panic_to_retry};
use crate::error::{Error, JobError};
use crate::job::{Job, JobId};

type DataMap = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// The data registered with [`WorkerBuilder::data`], shared with tasks as an apalis extension.
#[derive(Clone, Default)]
struct WorkerData(Arc<DataMap>);

/// What a handler learns about the job it runs, plus shared data and (through
/// [`JobContext::queue`]) the queue the job came from.
#[derive(Clone)]
pub struct JobContext {
    /// The backend's lease on the job: its id, attempt, worker and queue.
    pub(crate) lease: JobLease,
    data: Arc<DataMap>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.lease.id)
            .field("attempt", &self.lease.attempt)
            .field("max_attempts", &self.lease.max_attempts)
            .field("worker", &self.lease.worker)
            .finish_non_exhaustive()
    }
}

impl JobContext {
    /// The job's id.
    pub fn id(&self) -> &JobId {
        &self.lease.id
    }

    /// Which run this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.lease.attempt
    }

    /// How many runs the job gets before it is kept as failed.
    pub fn max_attempts(&self) -> u32 {
        self.lease.max_attempts
    }

    /// The name of the worker running the job.
    pub fn worker_name(&self) -> &str {
        &self.lease.worker
    }

    /// Shared data registered with [`WorkerBuilder::data`], by type.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data
            .get(&TypeId::of::<T>())
            .and_then(|d| d.downcast_ref::<T>())
    }
}

/// Extracts the context in apalis handlers: `async fn handle(job: Job, ctx: JobContext)`.
///
/// Fails with [`MissingDataError`] for a task that did not come from a [`JobBackend`](crate::JobBackend).
impl FromRequest<Task<Job>> for JobContext {
    type Error = MissingDataError;

    async fn from_request(task: &Task<Job>) -> Result<Self, Self::Error> {
        let lease = task.data().get_checked::<JobLease>()?;
        let data = task
            .data()
            .get::<WorkerData>()
            .map(|d| d.0.clone())
            .unwrap_or_default();
        Ok(JobContext {
            lease: lease.clone(),
            data,
        })
    }
}

/// Builds and runs a worker; reads as a sentence, like apalis' `WorkerBuilder`, and runs on it.
///
/// [`run`](WorkerBuilder::run) builds an apalis worker named `{prefix}-{random}`:
/// `apalis::WorkerBuilder::new(name).backend(queue.backend().poll_with_interval(..))`, then
/// `.data(..)`, `.concurrency(n)`, `.enable_tracing()` and a catch-panic layer that turns a
/// panic into a retry, and `.build(handler)`. For other layers, build the apalis worker
/// yourself on [`Queue::backend`](crate::Queue::backend).
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
    backend: JobBackend,
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
    /// A builder for a worker that runs `handler` on the jobs `backend` claims.
    pub(crate) fn new(backend: JobBackend, handler: F) -> Self {
        let config = backend.settings();
        WorkerBuilder {
            concurrency: config.concurrency,
            shutdown_timeout: config.shutdown_timeout,
            backend,
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

    /// Calls `f` with every outcome the worker records, after it is stored (see
    /// [`JobBackend::on_recorded`]).
    #[must_use]
    pub fn on_recorded(mut self, f: impl Fn(&crate::Recorded) + Send + Sync + 'static) -> Self {
        self.backend = self.backend.on_recorded(f);
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
    pub fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let name = format!("{}-{:08x}", self.prefix, fastrand::u32(..));
        let config = self.backend.settings().clone();
        let context = WorkerContext::new(&name);
        let handler = Arc::new(self.handler);
        let data = Arc::new(self.data);
        // Jobs this process's pushes hand straight over run without apalis' stream.
        let runner: Runner = {
            let (handler, data) = (handler.clone(), data.clone());
            Arc::new(move |job: Job, lease: JobLease| {
                let ctx = JobContext {
                    lease,
                    data: data.clone(),
                };
                Box::pin(handler(job, ctx))
            })
        };
        let handle = move |job: Job, ctx: JobContext| handler(job, ctx);
        let backend = self
            .backend
            .batch_size(self.concurrency)
            .shutdown_timeout(self.shutdown_timeout)
            .run_directly(runner);
        let (parts, direct) = (backend.parts().clone(), backend.direct_tasks());
        let backend = backend.poll_with_interval(config.poll_interval);
        let worker = apalis_core::worker::builder::WorkerBuilder::new(context.clone())
            .backend(backend)
            .data(WorkerData(data))
            .concurrency(self.concurrency)
            .enable_tracing()
            .layer(CatchPanicLayer::with_panic_handler(
                panic_to_retry as fn(&Box<dyn Any + Send + 'static>) -> JobError,
            ))
            .build(handle);
        // Boxed here, outside the async block: proving the worker future `Send` inside it trips
        // rustc's higher-ranked lifetime erasure (the catch-panic handler's `for<'a> fn(&'a ..)`).
        let mut running: Pin<Box<dyn Future<Output = Result<(), WorkerError>> + Send>> =
            Box::pin(worker.run());
        let concurrency = self.concurrency;
        let span = info_span!("worker", name = %name, queue = %config.queue);
        async move {
            info!(concurrency, "worker started");
            let mut shutdown = std::pin::pin!(shutdown);
            let result = tokio::select! {
                result = &mut running => result,
                () = &mut shutdown => loop {
                    // No more jobs handed straight over; those running finish below, and
                    // those still waiting for a slot go back to the queue.
                    parts
                        .give_back(&name, parts.handoff.leave(&name).into_iter().map(|l| l.id))
                        .await;
                    // `stop` fails until apalis has started the worker; keep asking.
                    if context.stop().is_ok() || context.is_shutting_down() {
                        info!(running = context.task_count(), "worker stopping");
                        break (&mut running).await;
                    }
                    tokio::select! {
                        result = &mut running => break result,
                        () = tokio::time::sleep(Duration::from_millis(10)) => {}
                    }
                },
            };
            parts
                .give_back(&name, parts.handoff.leave(&name).into_iter().map(|l| l.id))
                .await;
            direct.close();
            direct.wait().await;
            match result {
                Ok(()) => {
                    info!("worker stopped");
                    Ok(())
                }
                Err(e) => {
                    warn!(error = %e, "worker failed");
                    Err(Error::Backend(e.to_string()))
                }
            }
        }
        .instrument(span)
    }
}
