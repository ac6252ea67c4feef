//! Schedules on the queue: every replica queues each schedule's next tick ahead of its time,
//! keyed by schedule name and tick time, so the queue keeps one job per tick however many
//! replicas run; a worker runs it as a [`Tick`].

use std::sync::Arc;
use std::time::Duration;

use atombot_jobs::JobError;
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::Instrument;

use super::dispatch::Dispatch;
use super::steer::steer;
use crate::jobs::{Queue, QueuedJob};
use crate::observe::Observed;
use crate::schedule::{Entry, Schedules, Tick};

/// The job kind of a schedule's tick is this prefix and the schedule's name.
pub(crate) const TICK_KIND_PREFIX: &str = "atombot.schedule:";

/// How long a replica waits before trying again to queue a tick the queue refused.
const RETRY_PUSH: Duration = Duration::from_secs(1);

/// A tick job's payload.
#[derive(Debug, Serialize, Deserialize)]
struct TickArgs {
    /// When the tick is due, in milliseconds since the epoch.
    at: i64,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The key of schedule `name`'s tick at `at`: the same on every replica.
fn tick_key(name: &str, at: i64) -> String {
    ["schedule:", name, ":", &at.to_string()].concat()
}

/// Queues every schedule's ticks, each one ahead of its time, until `stopped` turns true.
pub(crate) async fn queue_ticks(
    schedules: Arc<Schedules>,
    queue: Queue,
    stopped: watch::Receiver<bool>,
) {
    let loops = schedules.entries.iter().map(|entry| {
        let (queue, stopped) = (queue.clone(), stopped.clone());
        let span = tracing::info_span!("schedule", name = %entry.name);
        queue_ticks_of(entry.clone(), queue, stopped).instrument(span)
    });
    futures_util::future::join_all(loops).await;
}

async fn queue_ticks_of(entry: Entry, queue: Queue, mut stopped: watch::Receiver<bool>) {
    loop {
        let now = now_ms();
        let Some(at) = entry.schedule.next_after(now) else {
            tracing::warn!(schedule = %entry.schedule, "the schedule has no next tick");
            return;
        };
        // Queued while the previous tick is due (or at start-up): a tick whose time passes
        // while every replica is down is in the queue already, and runs when one starts.
        let delay = Duration::from_millis(u64::try_from(at - now).unwrap_or(0));
        let job = QueuedJob::from_args([TICK_KIND_PREFIX, &entry.name].concat(), &TickArgs { at })
            .map(|job| job.with_key(tick_key(&entry.name, at)));
        let pushed = match job {
            Ok(job) => queue.push_unique_after(delay, job).await,
            Err(e) => Err(e),
        };
        let next_try = match pushed {
            Ok(pushed) => {
                tracing::debug!(at, new = !pushed.is_duplicate(), "tick queued");
                at
            }
            Err(error) => {
                tracing::warn!(%error, at, "could not queue the schedule's next tick; trying again");
                (now_ms() + i64::try_from(RETRY_PUSH.as_millis()).unwrap_or(1000)).min(at)
            }
        };
        if !sleep_until(next_try, &mut stopped).await {
            return;
        }
    }
}

/// Sleeps until `at` (ms since the epoch); `false` when `stopped` turned true first.
async fn sleep_until(at: i64, stopped: &mut watch::Receiver<bool>) -> bool {
    let wait = Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0));
    let slept = tokio::select! {
        () = tokio::time::sleep(wait) => true,
        _ = stopped.wait_for(|s| *s) => false,
    };
    slept && !*stopped.borrow()
}

/// Runs the tick of schedule `name` stored in `job`.
pub(crate) async fn run_tick(
    dispatch: &Dispatch,
    name: &str,
    job: &QueuedJob,
    ctx: &atombot_jobs::JobContext,
) -> Result<(), JobError> {
    let Some(entry) = dispatch.schedules.get(name) else {
        // A schedule of another replica's build (or one removed since).
        return Err(JobError::Unknown);
    };
    let TickArgs { at } = job
        .args()
        .map_err(|e| JobError::Abort(format!("not a tick: {e}")))?;
    if !entry.schedule.is_tick(at) {
        tracing::info!(at, schedule = %entry.schedule, "not a tick of the schedule any more (it was changed); skipped");
        return Ok(());
    }
    if entry.schedule.skips(at, now_ms()) {
        tracing::info!(at, "tick started late; skipped (skip_missed)");
        return Ok(());
    }
    let tick = Tick {
        app: dispatch.app.clone(),
        name: entry.name.clone(),
        at: Utc.timestamp_millis_opt(at).single().unwrap_or_default(),
        attempt: ctx.attempt(),
        key: tick_key(name, at),
        jobs: dispatch.jobs_for(None, None),
        state: dispatch.state.clone(),
    };
    let span = tracing::info_span!("tick", schedule = name, at, attempt = ctx.attempt());
    let result = entry
        .handler
        .call(tick)
        .instrument(span.clone())
        .await
        .map_err(|error| {
            let next = steer(&*error);
            span.in_scope(|| tracing::warn!(%error, next = %next, "scheduled handler failed"));
            next
        });
    dispatch.report(|| Observed::Job {
        id: ctx.id().0.clone(),
        kind: job.kind.clone(),
        delivery: None,
        attempt: ctx.attempt(),
    });
    result
}
