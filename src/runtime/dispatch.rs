//! Runs queued deliveries: resolve the installation, build the [`Context`], run every
//! matching handler with its error or panic caught, logged and counted.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use tracing::Instrument;

use super::metrics::Metrics;
use super::resolve::InstallationResolver;
use crate::app::App;
use crate::client::Client;
use crate::context::Context;
use crate::jobs::{JobHandlers, Jobs, Queue};
use crate::models::InstallationId;
use crate::webhook::{Delivery, Router};

/// Everything a worker needs to handle a delivery.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) app: App,
    pub(crate) router: Router<Context>,
    pub(crate) resolver: InstallationResolver,
    pub(crate) metrics: Metrics,
    pub(crate) queue: Queue,
    pub(crate) jobs: JobHandlers,
}

impl Dispatch {
    /// The installation `delivery` came from, if it can be resolved.
    pub(crate) async fn installation_of(&self, delivery: &Delivery) -> Option<InstallationId> {
        match self.resolver.resolve(delivery).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "could not resolve the delivery's installation");
                None
            }
        }
    }

    /// A client acting as `installation`, or as the app when there is none.
    pub(crate) fn client_for(&self, installation: Option<InstallationId>) -> Client {
        match installation {
            Some(id) => self.app.installation_client(id),
            None => self.app.client().clone(),
        }
    }

    /// Handles one delivery: every matching handler runs, concurrently, in its own task.
    /// Fails (naming the handlers) when any handler failed or panicked, so the delivery is
    /// retried.
    pub(crate) async fn handle(&self, delivery: Arc<Delivery>) -> Result<(), String> {
        let installation = self.installation_of(&delivery).await;
        if installation.is_none() {
            tracing::debug!(owner = ?delivery.owner_path(), "no installation; handlers get an app client");
        }
        let jobs = Jobs::new(self.queue.clone(), installation);
        let ctx = Context::new(
            delivery.clone(),
            installation,
            self.client_for(installation),
            jobs,
        );
        let handlers = self
            .router
            .handlers_for(delivery.event(), delivery.action());
        let runs = handlers.into_iter().map(|handler| {
            let span = tracing::info_span!("handler", name = handler.name());
            let future = handler.call(ctx.clone()).instrument(span.clone());
            let metrics = self.metrics.clone();
            async move {
                let start = Instant::now();
                let outcome = tokio::spawn(future).await;
                let seconds = start.elapsed().as_secs_f64();
                let _enter = span.enter();
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => {
                        tracing::error!(%error, "handler failed");
                        Some(("error", error.to_string()))
                    }
                    Err(join) if join.is_panic() => {
                        let message = panic_message(join.into_panic());
                        tracing::error!(panic = %message, "handler panicked");
                        Some(("panic", message))
                    }
                    Err(_) => Some(("cancelled", "the handler task was cancelled".to_owned())),
                };
                metrics.handler_finished(handler.name(), seconds, failure.as_ref().map(|f| f.0));
                failure.map(|(kind, message)| format!("{} ({kind}: {message})", handler.name()))
            }
        });
        let failed: Vec<String> = join_all(runs).await.into_iter().flatten().collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("handlers failed: {}", failed.join(", ")))
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
