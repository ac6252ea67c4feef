//! The bot's job worker: fans queued deliveries out into one unit per handler, runs handler
//! units and user jobs, and tells the queue what happened (done, retry, postponed, failed,
//! or unknown: back to the queue for a worker that knows it — during a rolling deploy, say).

use std::sync::Arc;

use atombot_jobs::JobError;
use tracing::Instrument;

use super::dispatch::{Dispatch, installation_of, restore};
use super::queue::{DELIVERY_KIND, HANDLER_KIND_PREFIX};
use super::scheduler::{TICK_KIND_PREFIX, run_tick};
use super::steer::steer;
use crate::jobs::{DELIVERY, JobContext, QueuedJob};
use crate::observe::Observed;

/// Runs one job for the worker.
pub(crate) async fn run_job(
    dispatch: Arc<Dispatch>,
    job: QueuedJob,
    ctx: atombot_jobs::JobContext,
) -> Result<(), JobError> {
    if job.kind == DELIVERY_KIND {
        let delivery = restore(&job)?;
        let span = tracing::info_span!(
            "delivery",
            id = delivery.id(),
            event = delivery.event(),
            action = delivery.action().unwrap_or(""),
        );
        return dispatch
            .fan_out(&delivery, &job.payload)
            .instrument(span)
            .await;
    }

    if let Some(name) = job.kind.strip_prefix(HANDLER_KIND_PREFIX) {
        let span = tracing::info_span!(
            "handler",
            name,
            delivery = job
                .meta
                .get("delivery")
                .and_then(|v| v.as_str())
                .unwrap_or(""),
            attempt = ctx.attempt(),
        );
        let result = dispatch
            .run_unit(name, &job, ctx.attempt())
            .instrument(span)
            .await;
        dispatch.lifecycle.finished(installation_of(&job), &result);
        return result;
    }

    if let Some(name) = job.kind.strip_prefix(TICK_KIND_PREFIX) {
        return run_tick(&dispatch, name, &job, &ctx).await;
    }

    let Some(handler) = dispatch.jobs.get(&job.kind).cloned() else {
        return Err(JobError::Unknown);
    };
    let installation = installation_of(&job);
    let delivery = job
        .meta
        .get(DELIVERY)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let job_ctx = JobContext {
        client: dispatch.client_for(installation),
        installation,
        jobs: dispatch.jobs_for(installation, delivery.clone()),
        id: ctx.id().clone(),
        attempt: ctx.attempt(),
        key: job.key.clone(),
        state: dispatch.state.clone(),
    };
    let span =
        tracing::info_span!("job", kind = %job.kind, id = %ctx.id(), attempt = ctx.attempt());
    let refused = dispatch.lifecycle.refuse(installation, None);
    let result = match refused.map(|()| handler(job_ctx, &job.payload)) {
        Err(refused) => Err(refused),
        Ok(Err(error)) => Err(JobError::Abort(error)),
        Ok(Ok(run)) => run.instrument(span.clone()).await.map_err(|error| {
            let next = steer(&*error);
            span.in_scope(|| tracing::warn!(%error, next = %next, "job failed"));
            next
        }),
    };
    dispatch.lifecycle.finished(installation, &result);
    dispatch.report(|| Observed::Job {
        id: ctx.id().0.clone(),
        kind: job.kind.clone(),
        delivery,
        attempt: ctx.attempt(),
    });
    result
}
