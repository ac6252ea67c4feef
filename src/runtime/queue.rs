//! Where the receiver puts accepted deliveries: the [`DeliveryQueue`] interface and its
//! durable implementation on the bot's job queue.
//!
//! A delivery becomes one job of kind [`DELIVERY_KIND`] keyed by its delivery id, so the
//! same delivery received again (by this replica or another) is stored, and run, once.
//! A worker then fans it out into one unit per matching handler, of kind
//! `handler:{name}` ([`HANDLER_KIND_PREFIX`]) keyed by delivery id and handler name, each
//! with its own attempts, backoff and failed state. The receiver stores one job per delivery
//! whatever the number of handlers, so acknowledging stays one insert.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use atombot_jobs::Payload;
use bytes::Bytes;
use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dispatch::Dispatch;
use crate::jobs::{INSTALLATION, Pushed, Queue, QueuedJob as Job};
use crate::models::InstallationId;
use crate::webhook::{Delivery, Rejection, Route};

/// The job kind of a queued delivery.
pub const DELIVERY_KIND: &str = "atombot.delivery";

/// The job kind of one handler's unit of a delivery is this prefix and the handler's name.
pub const HANDLER_KIND_PREFIX: &str = "handler:";

/// Why a delivery could not be queued; the receiver answers 503 so the platform redelivers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError {
    /// The bot is shutting down.
    #[error("the bot is shutting down")]
    Closed,
    /// The queue's storage cannot take it now.
    #[error("the delivery queue is unavailable: {0}")]
    Unavailable(String),
}

/// Accepts deliveries for background handling. The receiver answers 2xx only once
/// [`enqueue`](Self::enqueue) succeeded, that is once the delivery is durably stored.
pub trait DeliveryQueue: Send + Sync + 'static {
    /// Stores a delivery; resolves to whether it was new (`false`: a duplicate).
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<bool, EnqueueError>>;

    /// Deliveries and jobs waiting to run, as last sampled.
    fn depth(&self) -> u64;
}

/// A stored delivery's payload: what the worker needs, besides the raw body, to rebuild it.
/// No header but the event, no secret, no token. The body travels as the job's raw
/// [`body`](atombot_jobs::Job::body) (a BLOB, never escaped into JSON); deliveries queued by
/// earlier versions carry it here as a string instead.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredDelivery {
    pub(crate) id: String,
    pub(crate) header_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    /// How the receiver routed it (absent from deliveries queued by earlier versions, which
    /// are routed again from the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) route: Option<Route>,
    /// When it was received, in milliseconds since the epoch; kept in the stored job for
    /// whoever inspects it, not read back (the worker has no use for it, and skipping it
    /// saves parsing a timestamp per unit; a number rather than RFC 3339 text saves
    /// formatting one).
    #[serde(
        skip_deserializing,
        serialize_with = "chrono::serde::ts_milliseconds::serialize"
    )]
    pub(crate) received_at: chrono::DateTime<Utc>,
}

impl StoredDelivery {
    /// The delivery, from `raw` (the job's body) or else the body stored in the payload.
    pub(crate) fn restore(self, raw: Option<&Bytes>) -> Result<Delivery, Rejection> {
        let body = match (raw, self.body) {
            (Some(raw), _) => raw.clone(),
            (None, Some(body)) => Bytes::from(body),
            (None, None) => Bytes::new(),
        };
        match self.route {
            Some(route) => Ok(Delivery::restore_routed(
                &self.id,
                self.header_event.as_deref(),
                body,
                route,
            )),
            None => Delivery::restore(&self.id, self.header_event.as_deref(), body),
        }
    }
}

/// The unit that runs handler `name` for `delivery`: the stored delivery as payload, keyed by
/// delivery id and handler name, with the resolved installation.
pub(crate) fn handler_unit(
    delivery: &Delivery,
    name: &str,
    stored: Payload,
    installation: Option<InstallationId>,
    keep_body: bool,
) -> Job {
    // `concat`, not `format!`: this runs for every unit of every delivery.
    let mut unit = with_body(
        Job::new([HANDLER_KIND_PREFIX, name].concat(), stored),
        delivery,
        keep_body,
    )
    .with_key(["handler:", delivery.id(), ":", name].concat())
    .with_meta("event", delivery.event())
    .with_meta("delivery", delivery.id());
    if let Some(id) = installation {
        unit = unit.with_meta(INSTALLATION, id.0);
    }
    unit
}

/// `job` with the body of `delivery`, kept by the queue under the delivery id for the
/// delivery log when `keep` (see [`atombot_jobs::Job::with_kept_body`]).
fn with_body(job: Job, delivery: &Delivery, keep: bool) -> Job {
    let body = delivery.body().clone();
    if keep {
        job.with_kept_body(delivery.id(), body)
    } else {
        job.with_body(body)
    }
}

/// A delivery job for `body` under delivery id `id` (a replay of the delivery log): routed
/// again from the body when a worker takes it, its handlers keyed by the new id.
pub(crate) fn replay_job(id: &str, header_event: Option<&str>, body: Bytes) -> crate::Result<Job> {
    let stored = StoredDelivery {
        id: id.to_owned(),
        header_event: header_event.map(str::to_owned),
        body: None,
        route: None,
        received_at: Utc::now(),
    };
    Ok(Job::from_args(DELIVERY_KIND, &stored)?
        .with_body(body)
        .with_key(format!("delivery:{id}")))
}

/// The durable [`DeliveryQueue`] on the bot's [`Queue`].
#[derive(Debug, Clone)]
pub(crate) struct JobDeliveryQueue {
    pub(crate) queue: Queue,
    pub(crate) depth: Arc<AtomicU64>,
    /// Key deliveries by a digest of their body rather than their id (the replay guard).
    replay_guard: bool,
    /// Queues the handler units at once when the installation is known without a request.
    dispatch: Option<Arc<Dispatch>>,
    /// Has the queue keep each delivery's body for the delivery log.
    keep_bodies: bool,
}

impl JobDeliveryQueue {
    pub(crate) fn new(queue: Queue) -> Self {
        Self {
            queue,
            depth: Arc::new(AtomicU64::new(0)),
            replay_guard: false,
            dispatch: None,
            keep_bodies: false,
        }
    }

    /// Has the queue keep each delivery's body under its id, for the delivery log.
    pub(crate) fn keep_bodies(mut self, keep: bool) -> Self {
        self.keep_bodies = keep;
        self
    }

    /// Fans deliveries out through `dispatch` as they arrive, when their installation is
    /// known without a request (in the payload, or cached): one job per handler and no
    /// delivery job. Others (and all of them under the replay guard, which keys deliveries
    /// by body) are stored as a delivery job that a worker fans out.
    pub(crate) fn fan_out_with(mut self, dispatch: Arc<Dispatch>) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// The installation of `delivery`, when the units can be queued at once.
    fn direct(&self, delivery: &Delivery) -> Option<(&Dispatch, Option<InstallationId>)> {
        let dispatch = self.dispatch.as_deref().filter(|_| !self.replay_guard)?;
        Some((dispatch, dispatch.resolver.resolve_cached(delivery)?))
    }

    fn stored(delivery: &Delivery) -> StoredDelivery {
        StoredDelivery {
            id: delivery.id().to_owned(),
            header_event: delivery.header_event().map(str::to_owned),
            body: None,
            route: Some(delivery.route()),
            received_at: Utc::now(),
        }
    }

    /// With the guard on, a delivery is keyed by the SHA-256 of its signed body: the same
    /// body under a new delivery id within the dedupe window is a duplicate.
    pub(crate) fn replay_guard(mut self, on: bool) -> Self {
        self.replay_guard = on;
        self
    }

    fn job(&self, delivery: &Delivery) -> Result<Job, EnqueueError> {
        let replay_guard = self.replay_guard;
        let job = Job::from_args(DELIVERY_KIND, &Self::stored(delivery))
            .map_err(|e| EnqueueError::Unavailable(e.to_string()))?;
        let mut job = with_body(job, delivery, self.keep_bodies)
            .with_key(if replay_guard {
                format!(
                    "delivery-body:{}",
                    hex::encode(Sha256::digest(delivery.body()))
                )
            } else {
                format!("delivery:{}", delivery.id())
            })
            .with_meta("event", delivery.event());
        if let Some(id) = delivery.installation_id() {
            job = job.with_meta(INSTALLATION, id.0);
        }
        Ok(job)
    }

    /// Samples the queue's pending count (for metrics).
    pub(crate) async fn sample_depth(&self) {
        if let Ok(stats) = self.queue.stats().await {
            self.depth.store(stats.pending, Ordering::Relaxed);
        }
    }
}

impl DeliveryQueue for JobDeliveryQueue {
    fn enqueue<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<bool, EnqueueError>> {
        if let Some((dispatch, installation)) = self.direct(delivery) {
            let stored = Payload::new(&Self::stored(delivery));
            return Box::pin(async move {
                let stored = stored.map_err(|e| EnqueueError::Unavailable(e.to_string()))?;
                dispatch
                    .push_units(delivery, stored, installation)
                    .await
                    .map_err(EnqueueError::Unavailable)
            });
        }
        let job = self.job(delivery);
        Box::pin(async move {
            match self.queue.push_unique(job?).await {
                Ok(Pushed::Enqueued(_)) => Ok(true),
                Ok(Pushed::Duplicate(_)) => Ok(false),
                Err(atombot_jobs::Error::Closed) => Err(EnqueueError::Closed),
                Err(e) => Err(EnqueueError::Unavailable(e.to_string())),
            }
        })
    }

    fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }
}
