//! The bot's job worker: runs queued deliveries and user jobs, and tells the queue what
//! happened (done, retry with backoff, failed, or unknown: back to the queue for a worker
//! that knows it — during a rolling deploy, say).

use std::sync::Arc;

use tracing::Instrument;

use super::dispatch::Dispatch;
use super::queue::{DELIVERY_KIND, StoredDelivery};
use crate::jobs::{INSTALLATION, Job, JobContext, Jobs};
use crate::models::InstallationId;

/// Runs one job for the worker.
pub(crate) async fn run_job(
    dispatch: Arc<Dispatch>,
    job: Job,
    ctx: atombot_jobs::JobContext,
) -> Result<(), atombot_jobs::JobError> {
    use atombot_jobs::JobError;

    if job.kind == DELIVERY_KIND {
        let stored: StoredDelivery = job
            .args()
            .map_err(|e| JobError::Abort(format!("not a stored delivery: {e}")))?;
        let delivery = stored
            .restore()
            .map_err(|r| JobError::Abort(format!("stored delivery does not parse: {r}")))?;
        if !dispatch.router.wants(delivery.event(), delivery.action()) {
            // Queued by a replica that has a handler this one lacks.
            return Err(JobError::Unknown);
        }
        let span = tracing::info_span!(
            "delivery",
            id = delivery.id(),
            event = delivery.event(),
            action = delivery.action().unwrap_or(""),
            attempt = ctx.attempt(),
        );
        return dispatch
            .handle(Arc::new(delivery))
            .instrument(span)
            .await
            .map_err(JobError::Retry);
    }

    let Some(handler) = dispatch.jobs.0.get(&job.kind).cloned() else {
        return Err(JobError::Unknown);
    };
    let installation = job
        .meta
        .get(INSTALLATION)
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .map(InstallationId);
    let job_ctx = JobContext {
        client: dispatch.client_for(installation),
        installation,
        jobs: Jobs::new(dispatch.queue.clone(), installation),
        id: ctx.id().clone(),
        attempt: ctx.attempt(),
        key: job.key.clone(),
    };
    let span =
        tracing::info_span!("job", kind = %job.kind, id = %ctx.id(), attempt = ctx.attempt());
    let run = handler(job_ctx, job.payload).map_err(JobError::Abort)?;
    run.instrument(span.clone()).await.map_err(|error| {
        span.in_scope(|| tracing::warn!(%error, "job failed"));
        JobError::Retry(error.to_string())
    })
}
