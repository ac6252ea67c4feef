//! Runs queued work: a delivery fans out into one durable unit per matching handler; a unit
//! runs its one handler with the delivery's [`Context`], its error or panic caught, logged,
//! counted and turned into what the queue does next ([`steer`]).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use atombot_jobs::{JobError, Payload};
use futures_util::FutureExt;
use futures_util::future::join_all;

use super::metrics::Metrics;
use super::queue::{StoredDelivery, handler_unit};
use super::resolve::InstallationResolver;
use super::steer::steer;
use crate::app::App;
use crate::client::Client;
use crate::context::{Context, MakeClient, Unit};
use crate::jobs::{DELIVERY, INSTALLATION, JobHandlers, Jobs, Queue, QueuedJob};
use crate::models::InstallationId;
use crate::observe::{Observed, Observer};
use crate::state::StateMap;
use crate::webhook::{Delivery, NamedHandler, Router};

/// Everything a worker needs to handle a delivery.
#[derive(Debug)]
pub(crate) struct Dispatch {
    /// The app, for scheduled handlers.
    pub(crate) app: App,
    /// Scheduled handlers by name.
    pub(crate) schedules: Arc<crate::schedule::Schedules>,
    /// [`client_for`](Self::client_for), shared with the contexts that build their client
    /// on first use.
    pub(crate) make_client: MakeClient,
    pub(crate) router: Router<Context>,
    pub(crate) resolver: Arc<InstallationResolver>,
    /// Removed installations and per-installation activity.
    pub(crate) lifecycle: Arc<super::lifecycle::Lifecycle>,
    pub(crate) metrics: Metrics,
    pub(crate) queue: Queue,
    pub(crate) jobs: JobHandlers,
    /// Shared values handlers and jobs reach with `state::<S>()`.
    pub(crate) state: StateMap,
    /// Where outcomes are reported (the test kit), if anywhere.
    pub(crate) observer: Option<Observer>,
    /// Repository configuration files read by `Context::config`.
    pub(crate) repo_config: crate::repo_config::RepoConfigCache,
    /// Units keep the delivery's body in the queue for the delivery log.
    pub(crate) keep_bodies: bool,
}

impl Dispatch {
    /// A client acting as `installation`, or as the app when there is none.
    pub(crate) fn client_for(&self, installation: Option<InstallationId>) -> Client {
        (self.make_client.0)(installation)
    }

    /// Resolves the installation of `delivery` (stored as `stored`), then queues its units
    /// ([`push_units`](Self::push_units)). Running this again (after a crash before the
    /// delivery job was acknowledged) queues nothing twice.
    pub(crate) async fn fan_out(
        &self,
        delivery: &Delivery,
        stored: &Payload,
    ) -> Result<(), JobError> {
        if self
            .router
            .handlers_for(delivery.event(), delivery.action())
            .is_empty()
        {
            // Queued by a replica that has a handler this one lacks.
            return Err(JobError::Unknown);
        }
        let installation = self.resolver.resolve(delivery).await.map_err(|error| {
            JobError::Retry(format!(
                "could not resolve the delivery's installation: {error}"
            ))
        })?;
        self.push_units(delivery, stored.clone(), installation)
            .await
            .map(|_| ())
            .map_err(JobError::Retry)
    }

    /// Queues one unit per handler that matches `delivery` (stored as `stored`), keyed by
    /// delivery id and handler name, for `installation`; resolves to whether any unit was
    /// new (`false`: all were already queued), or says how many could not be queued.
    pub(crate) async fn push_units(
        &self,
        delivery: &Delivery,
        stored: Payload,
        installation: Option<InstallationId>,
    ) -> Result<bool, String> {
        let handlers = self
            .router
            .handlers_for(delivery.event(), delivery.action());
        match installation {
            Some(id) => self.lifecycle.delivered(id),
            None => {
                tracing::debug!(owner = ?delivery.owner_path(), "no installation; handlers get an app client");
            }
        }
        // The units share the stored delivery's text.
        let push = |handler: &NamedHandler<Context>| {
            let unit = handler_unit(
                delivery,
                handler.name(),
                stored.clone(),
                installation,
                self.keep_bodies,
            );
            self.queue.push_unique(unit)
        };
        let pushed = match handlers.as_slice() {
            [one] => vec![push(one).await],
            _ => join_all(handlers.iter().map(push)).await,
        };
        let failed: Vec<String> = pushed
            .iter()
            .filter_map(|pushed| pushed.as_ref().err().map(ToString::to_string))
            .collect();
        match failed.first() {
            None => {
                tracing::debug!(units = handlers.len(), "delivery fanned out");
                self.report(|| Observed::FannedOut {
                    delivery: delivery.id().to_owned(),
                    units: handlers
                        .iter()
                        .zip(&pushed)
                        .filter_map(|(h, p)| {
                            Some((h.name().to_owned(), p.as_ref().ok()?.id().0.clone()))
                        })
                        .collect(),
                });
                Ok(pushed
                    .iter()
                    .any(|p| p.as_ref().is_ok_and(|p| !p.is_duplicate())))
            }
            Some(error) => Err(format!(
                "could not queue {} of {} handler units: {error}",
                failed.len(),
                handlers.len()
            )),
        }
    }

    /// Reports what `what` builds, when someone observes.
    pub(crate) fn report(&self, what: impl FnOnce() -> Observed) {
        if let Some(observer) = &self.observer {
            observer.report(what());
        }
    }

    /// Queues user jobs for `installation` on behalf of `delivery`.
    pub(crate) fn jobs_for(
        &self,
        installation: Option<InstallationId>,
        delivery: Option<String>,
    ) -> Jobs {
        Jobs::new(self.queue.clone(), installation).on_behalf_of(delivery, self.observer.clone())
    }

    /// Runs handler `name` for the delivery stored in `job` (attempt `attempt`) and reports
    /// the outcome.
    pub(crate) async fn run_unit(
        &self,
        name: &str,
        job: &QueuedJob,
        attempt: u32,
    ) -> Result<(), JobError> {
        let result = self.run_unit_once(name, job, attempt).await;
        if let Some(delivery) = job.meta.get(DELIVERY).and_then(|v| v.as_str()) {
            self.report(|| Observed::Unit {
                delivery: delivery.to_owned(),
                handler: name.to_owned(),
                attempt,
                outcome: result.as_ref().map(|_| ()).map_err(ToString::to_string),
            });
        }
        result
    }

    async fn run_unit_once(
        &self,
        name: &str,
        job: &QueuedJob,
        attempt: u32,
    ) -> Result<(), JobError> {
        let Some(handler) = self.router.handler(name).cloned() else {
            return Err(JobError::Unknown);
        };
        let delivery = restore(job)?;
        let installation = installation_of(job);
        self.lifecycle.refuse(installation, Some(&delivery))?;
        let unit = Unit {
            key: [delivery.id(), ":", name].concat(),
            handler: name.to_owned(),
            attempt,
        };
        let jobs = self.jobs_for(installation, Some(delivery.id().to_owned()));
        // A push that changed configuration files: the handlers read the new contents.
        self.repo_config.apply_push(&delivery).await;
        let ctx = Context::for_unit(
            Arc::new(delivery),
            installation,
            self.make_client.clone(),
            jobs,
            unit,
            self.state.clone(),
            self.repo_config.clone(),
        );
        let start = Instant::now();
        // Catch a panic where it happens, in this task: nothing is left running detached.
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(ctx))) {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        let seconds = start.elapsed().as_secs_f64();
        let (failure, result) = match outcome {
            Ok(Ok(())) => (None, Ok(())),
            Ok(Err(error)) => {
                let next = steer(&*error);
                tracing::error!(%error, next = %next, "handler failed");
                (Some("error"), Err(next))
            }
            Err(panic) => {
                let message = atombot_jobs::panic_message(&*panic);
                tracing::error!(panic = %message, "handler panicked");
                (
                    Some("panic"),
                    Err(JobError::Retry(format!("handler panicked: {message}"))),
                )
            }
        };
        self.metrics.handler_finished(name, seconds, failure);
        result
    }
}

/// Builds `app`'s client acting as an installation, or as the app when there is none.
pub(crate) fn clients_of(app: App) -> MakeClient {
    MakeClient(Arc::new(move |installation| match installation {
        Some(id) => app.installation_client(id),
        None => app.client().clone(),
    }))
}

/// The delivery stored in `job` (a delivery job or a handler unit); one that does not
/// decode fails at once.
pub(crate) fn restore(job: &QueuedJob) -> Result<Delivery, JobError> {
    let stored: StoredDelivery = job
        .args()
        .map_err(|e| JobError::Abort(format!("not a stored delivery: {e}")))?;
    stored
        .restore(job.body.as_ref())
        .map_err(|r| JobError::Abort(format!("stored delivery does not parse: {r}")))
}

/// The installation id recorded in a job's metadata.
pub(crate) fn installation_of(job: &QueuedJob) -> Option<InstallationId> {
    job.meta
        .get(INSTALLATION)
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .map(InstallationId)
}
