//! [`AckLayer`] / [`AckService`]: the backend middleware that runs each task on its own Tokio
//! task and records what came of it in the store.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apalis_core::error::{AbortError, BoxDynError, RetryAfterError};
use apalis_core::layers::{Layer, Service};
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;

use futures_util::FutureExt;
use futures_util::future::{AbortHandle, Abortable, Aborted, BoxFuture};
use tracing::{Instrument, debug, error, info_span, warn};

use super::{AbortOnDrop, JobLease, Shared};
use crate::error::{JobError, panic_message};
use crate::job::{Job, JobId, OnRecorded, Recorded, RecordedOutcome, dur_ms, now_ms};
use crate::store::{Ack, Store};

/// The backend middleware of [`JobBackend`](super::JobBackend): runs each task on its own Tokio
/// task and records its outcome in the store. apalis adds it for you; see [`AckService`].
#[derive(Clone)]
pub struct AckLayer {
    pub(super) worker: WorkerContext,
    pub(super) shutdown_timeout: Duration,
    pub(super) shared: Arc<Shared>,
    pub(super) on_recorded: Option<OnRecorded>,
}

impl fmt::Debug for AckLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckLayer")
            .field("worker", &self.worker.name())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AckLayer {
    type Service = AckService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AckService {
            inner,
            layer: self.clone(),
        }
    }
}

/// Runs a task (the user's layers and handler) and records what came of it:
///
/// | result | recorded |
/// |---|---|
/// | `Ok(_)` | done |
/// | [`JobError::Retry`], apalis' [`RetryAfterError`], any other error, a panic | retry at a stored time (exponential backoff, or the `RetryAfterError` delay); failed after the last attempt |
/// | [`JobError::RetryAfter`] | retry at the given delay; failed after the last attempt |
/// | [`JobError::Postpone`] | returned to the queue for the given delay, attempt given back; failed past `max_postpone` |
/// | [`JobError::Abort`], apalis' [`AbortError`] | failed now |
/// | [`JobError::Unknown`] | returned to the queue after `unknown_kind_delay`, attempt given back; failed with "no worker knows …" past `unknown_timeout` |
/// | unfinished at the shutdown timeout | cancelled, returned to the queue at once, attempt given back |
/// | unfinished after `job_timeout` | cancelled, retried with backoff (uses the attempt); failed after the last |
///
/// If the store cannot be reached, recording is retried until it succeeds or the shutdown
/// timeout passes; then orphan recovery takes over.
#[derive(Clone)]
pub struct AckService<S> {
    inner: S,
    layer: AckLayer,
}

impl<S> fmt::Debug for AckService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckService")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl<S> Service<Task<Job>> for AckService<S>
where
    S: Service<Task<Job>>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Into<BoxDynError> + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxDynError;
    type Future = BoxFuture<'static, Result<S::Response, BoxDynError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, task: Task<Job>) -> Self::Future {
        let Some(lease) = task.data().get::<JobLease>().cloned() else {
            // Not one of ours: run it without recording anything.
            return self.inner.call(task).map(|r| r.map_err(Into::into)).boxed();
        };
        let span = info_span!(
            "job",
            id = %lease.id,
            kind = %task.args.kind,
            attempt = lease.attempt,
            max_attempts = lease.max_attempts
        );
        let fut = span.in_scope(|| self.inner.call(task));
        let AckLayer {
            shutdown_timeout,
            shared,
            on_recorded,
            ..
        } = self.layer.clone();
        async move {
            let _counted = InFlight(shared.clone());
            let started = Instant::now();
            let (abort, registration) = AbortHandle::new_pair();
            let _registered = Registered::new(shared.clone(), lease.id.clone(), abort);
            // Its own Tokio task: jobs run in parallel, and a panic without catch-panic is
            // still only this job's failure. Dropping the handle aborts it.
            let run = AbortOnDrop(tokio::spawn(
                Abortable::new(fut, registration).in_current_span(),
            ));
            let ended = run_guarded(&lease, &shared, shutdown_timeout, async move {
                let mut run = run;
                match (&mut run.0).await {
                    Ok(Ok(Ok(response))) => Ended::Finished(Ok(response)),
                    Ok(Ok(Err(e))) => Ended::Finished(Err(e.into())),
                    Ok(Err(Aborted)) => Ended::Cancelled,
                    Err(joined) if joined.is_panic() => {
                        Ended::Panicked(panic_message(&*joined.into_panic()))
                    }
                    Err(_) => Ended::Cancelled,
                }
            })
            .await;
            let on_recorded = on_recorded.as_ref();
            settle(
                &lease,
                &shared,
                shutdown_timeout,
                on_recorded,
                started,
                ended,
            )
            .await
        }
        .instrument(span)
        .boxed()
    }
}

/// How a job's run ended, before it is turned into an outcome.
enum Ended<R> {
    Finished(Result<R, BoxDynError>),
    Panicked(String),
    Cancelled,
    TimedOut,
    /// Still running when the shutdown timeout ran out.
    ShutDown,
}

/// Runs `run` until it ends, the job timeout passes, or the shutdown timeout runs out.
async fn run_guarded<R>(
    lease: &JobLease,
    shared: &Shared,
    shutdown_timeout: Duration,
    run: impl Future<Output = Ended<R>>,
) -> Ended<R> {
    let deadline = deadline(shared, shutdown_timeout);
    tokio::select! {
        ended = tokio::time::timeout(lease.parts.config.job_timeout, run) => {
            ended.unwrap_or(Ended::TimedOut)
        }
        () = deadline => Ended::ShutDown,
    }
}

/// Turns how a job ended into its outcome, records it (retrying while the store is down,
/// until the shutdown deadline) and tells `on_recorded`.
async fn settle<R>(
    lease: &JobLease,
    shared: &Shared,
    shutdown_timeout: Duration,
    on_recorded: Option<&OnRecorded>,
    started: Instant,
    ended: Ended<R>,
) -> Result<R, BoxDynError> {
    let config = &lease.parts.config;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    // Past the shutdown deadline: one try to record, then orphan recovery takes over.
    let late = matches!(ended, Ended::ShutDown);
    let retry = |msg: String| -> BoxDynError { Box::new(JobError::Retry(msg)) };
    let (ack, result) = match ended {
        Ended::Finished(Ok(response)) => {
            debug!(elapsed_ms, "job done");
            (Ack::Done, Ok(response))
        }
        Ended::Finished(Err(e)) => (outcome(&e, lease, config, elapsed_ms), Err(e)),
        Ended::Panicked(message) => {
            let e = retry(format!("handler panicked: {message}"));
            (outcome(&e, lease, config, elapsed_ms), Err(e))
        }
        Ended::Cancelled => {
            let e = retry("handler task was cancelled".to_string());
            (outcome(&e, lease, config, elapsed_ms), Err(e))
        }
        Ended::TimedOut => {
            let e = retry(format!(
                "did not finish within the job timeout ({}s); cancelled",
                config.job_timeout.as_secs()
            ));
            (outcome(&e, lease, config, elapsed_ms), Err(e))
        }
        Ended::ShutDown => {
            warn!(
                elapsed_ms,
                "shutdown timeout: returning unfinished job to the queue"
            );
            let e: BoxDynError = "job did not finish before the shutdown timeout".into();
            (Ack::give_back(now_ms()), Err(e))
        }
    };
    let deadline = std::pin::pin!(deadline(shared, shutdown_timeout));
    let stored = record(lease, &ack, deadline, late).await;
    if let (true, Some(on_recorded)) = (stored, on_recorded) {
        on_recorded(&Recorded {
            id: lease.id.clone(),
            kind: lease.kind.to_string(),
            key: lease.key.as_deref().map(str::to_owned),
            attempt: lease.attempt,
            outcome: recorded_outcome(&ack),
        });
    }
    result
}

/// Runs a job that a push of this process handed straight to this worker (its slot already
/// taken) on a Tokio task of its own, under the same guards and with the same outcomes as
/// [`AckService`] gives a claimed one, without a round through apalis' worker loop.
pub(crate) fn spawn_direct(
    lease: JobLease,
    run: BoxFuture<'static, Result<(), JobError>>,
    shared: Arc<Shared>,
    shutdown_timeout: Duration,
    on_recorded: Option<OnRecorded>,
) {
    let span = info_span!(
        "job",
        id = %lease.id,
        kind = %lease.kind,
        attempt = lease.attempt,
        max_attempts = lease.max_attempts
    );
    let (abort, registration) = AbortHandle::new_pair();
    let registered = Registered::new(shared.clone(), lease.id.clone(), abort);
    let tasks = shared.direct.clone();
    let job = async move {
        let _counted = InFlight(shared.clone());
        let _registered = registered;
        let started = Instant::now();
        let ended = run_guarded(&lease, &shared, shutdown_timeout, async move {
            match AssertUnwindSafe(run).catch_unwind().await {
                Ok(result) => Ended::Finished(result.map_err(BoxDynError::from)),
                Err(panic) => Ended::Panicked(panic_message(&*panic)),
            }
        })
        .await;
        let on_recorded = on_recorded.as_ref();
        let _ = settle(
            &lease,
            &shared,
            shutdown_timeout,
            on_recorded,
            started,
            ended,
        )
        .await;
    };
    // Aborted when another worker took the job over (its lease lost): nothing is recorded.
    let job = Abortable::new(job, registration).map(|_| ());
    tasks.spawn(job.instrument(span));
}

/// Lists a running job (for cancellation on a lost lease) while it runs.
struct Registered {
    shared: Arc<Shared>,
    id: JobId,
}

impl Registered {
    fn new(shared: Arc<Shared>, id: JobId, abort: AbortHandle) -> Self {
        shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), abort);
        Self { shared, id }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Counts a task as in flight until its outcome is recorded (or it is dropped).
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.slots.give_back();
    }
}

/// Completes `shutdown_timeout` after the worker starts shutting down.
async fn deadline(shared: &Shared, shutdown_timeout: Duration) {
    let mut stopping = shared.stopping.subscribe();
    if stopping.wait_for(|s| *s).await.is_err() {
        // The backend is gone (a worker built without it running): never.
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(shutdown_timeout).await;
}

/// Maps a handler error to what the store should record.
fn outcome(e: &BoxDynError, lease: &JobLease, config: &crate::QueueConfig, elapsed_ms: u64) -> Ack {
    let retry = |error: String, delay: Option<Duration>| {
        if lease.attempt < lease.max_attempts {
            let delay = delay.unwrap_or_else(|| config.backoff_for(lease.attempt));
            warn!(elapsed_ms, %error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
            Ack::Retry {
                run_at: now_ms().saturating_add(dur_ms(delay)),
                error,
            }
        } else {
            error!(elapsed_ms, %error, "job failed on its last attempt");
            Ack::Fail { error }
        }
    };
    if let Some(job_error) = e.downcast_ref::<JobError>() {
        return match job_error {
            JobError::Retry(error) => retry(error.clone(), None),
            JobError::RetryAfter(delay, error) => retry(error.clone(), Some(*delay)),
            JobError::Postpone(delay, error) => postpone(lease, config, *delay, error),
            JobError::Abort(error) => {
                error!(elapsed_ms, %error, "job aborted");
                Ack::Fail {
                    error: error.clone(),
                }
            }
            JobError::Unknown => unknown(lease, config),
        };
    }
    if let Some(abort) = e.downcast_ref::<AbortError>() {
        let error = abort.to_string();
        error!(elapsed_ms, %error, "job aborted");
        return Ack::Fail { error };
    }
    if let Some(later) = e.downcast_ref::<RetryAfterError>() {
        return retry(later.to_string(), Some(later.get_duration()));
    }
    retry(e.to_string(), None)
}

/// How long ago the job was pushed, in milliseconds.
fn age_ms(lease: &JobLease) -> i64 {
    lease
        .enqueued_at
        .elapsed()
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A postponed job goes back without using an attempt, unless it would then run later than
/// `max_postpone` after it was pushed.
fn postpone(lease: &JobLease, config: &crate::QueueConfig, delay: Duration, error: &str) -> Ack {
    let delay_ms = dur_ms(delay);
    if age_ms(lease).saturating_add(delay_ms) > dur_ms(config.max_postpone) {
        let error = format!(
            "{error} (postponed past the {}s limit; not retried)",
            config.max_postpone.as_secs()
        );
        error!(%error, "job postponed for too long; failed");
        return Ack::Fail { error };
    }
    warn!(%error, retry_in_ms = delay_ms, "job postponed; its attempt is given back");
    Ack::Release {
        run_at: now_ms().saturating_add(delay_ms),
        error: Some(error.to_owned()),
        unknown: false,
    }
}

/// A job of a kind this worker does not know goes back for another worker, until it is older
/// than `unknown_timeout`.
fn unknown(lease: &JobLease, config: &crate::QueueConfig) -> Ack {
    if age_ms(lease) > dur_ms(config.unknown_timeout) {
        let error = format!(
            "no worker knows {} (waited {}s for one; was it renamed or removed?)",
            lease.kind,
            config.unknown_timeout.as_secs()
        );
        error!(%error, "unknown job kind; failed");
        return Ack::Fail { error };
    }
    debug!("unknown job kind; returning it to the queue");
    Ack::Release {
        run_at: now_ms().saturating_add(dur_ms(config.unknown_kind_delay)),
        error: Some(format!("no worker here knows {}", lease.kind)),
        unknown: true,
    }
}

/// What `ack` means for the job, as reported to `on_recorded`.
fn recorded_outcome(ack: &Ack) -> RecordedOutcome {
    match ack {
        Ack::Done => RecordedOutcome::Done,
        Ack::Retry { error, .. } => RecordedOutcome::Retry {
            error: error.clone(),
        },
        Ack::Release { error, .. } => RecordedOutcome::Released {
            error: error.clone(),
        },
        Ack::Fail { error } => RecordedOutcome::Failed {
            error: error.clone(),
        },
    }
}

/// Records `ack` and returns whether it was stored; until that succeeds the job stays ours, so keep trying (the backend may be
/// down) unless the shutdown deadline has passed, in which case orphan recovery takes over.
async fn record(
    lease: &JobLease,
    ack: &Ack,
    mut deadline: Pin<&mut impl Future<Output = ()>>,
    once: bool,
) -> bool {
    let parts = &lease.parts;
    let mut wait = Duration::from_millis(50);
    loop {
        let stored = if let Store::Memory(store) = &parts.store {
            // In process: nothing to wait for.
            Ok(store.ack_now(&lease.id, &lease.worker, ack))
        } else if parts.store.batches_itself() {
            // SQLite's thread commits outcomes finishing together at once.
            parts
                .timed(parts.store.ack(&lease.id, &lease.worker, ack))
                .await
        } else {
            // Through the writer: outcomes finishing together share one commit (Postgres)
            // or one round trip with the pushes of the moment (Redis).
            let (id, worker) = (lease.id.clone(), lease.worker.clone());
            let ack = parts
                .writer
                .ack(id, worker, ack.clone(), parts.config.backend_timeout);
            parts.timed(ack).await
        };
        match stored {
            Ok(true) => return true,
            Ok(false) => {
                warn!("job was taken over by another worker; outcome dropped");
                return false;
            }
            Err(e) => {
                warn!(error = %e, "recording job outcome failed; retrying");
                if once {
                    warn!("could not return job; it is recovered as an orphan");
                    return false;
                }
                tokio::select! {
                    () = &mut deadline => return false,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Turns a panic caught by apalis' `CatchPanicLayer` into a retry, as
/// [`Queue::worker`](crate::Queue::worker) does.
pub(crate) fn panic_to_retry(panic: &Box<dyn std::any::Any + Send>) -> JobError {
    JobError::Retry(format!("handler panicked: {}", panic_message(&**panic)))
}
