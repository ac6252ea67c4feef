//! Runs queued deliveries: resolve the installation, build the [`Context`], run every
//! matching handler with its error or panic caught, logged and counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tracing::Instrument;

use super::metrics::Metrics;
use super::queue::{InProcessReceiver, QueuedDelivery};
use super::resolve::InstallationResolver;
use crate::app::App;
use crate::context::Context;
use crate::webhook::Router;

/// Everything a worker needs to handle a delivery.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) app: App,
    pub(crate) router: Router<Context>,
    pub(crate) resolver: InstallationResolver,
    pub(crate) metrics: Metrics,
}

impl Dispatch {
    /// Handles one delivery: every matching handler runs, concurrently, in its own task.
    pub(crate) async fn handle(&self, queued: QueuedDelivery) {
        let delivery = queued.delivery;
        let installation = match self.resolver.resolve(&delivery).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "could not resolve the delivery's installation");
                None
            }
        };
        if installation.is_none() {
            tracing::debug!(owner = ?delivery.owner_path(), "no installation; handlers get an app client");
        }
        let client = match installation {
            Some(id) => self.app.installation_client(id),
            None => self.app.client().clone(),
        };
        let ctx = Context::new(delivery.clone(), installation, client);
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
                        Some("error")
                    }
                    Err(join) if join.is_panic() => {
                        tracing::error!(panic = %panic_message(join.into_panic()), "handler panicked");
                        Some("panic")
                    }
                    Err(_) => Some("cancelled"),
                };
                metrics.handler_finished(handler.name(), seconds, failure);
            }
        });
        join_all(runs).await;
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Takes deliveries off `rx` and runs at most `concurrency` at once until `rx` is closed
/// and drained, then waits for running ones.
pub(crate) async fn run_workers(
    mut rx: InProcessReceiver,
    dispatch: Arc<Dispatch>,
    concurrency: usize,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut stopping = false;
    loop {
        let next = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                next = rx.recv() => next,
                _ = stop.wait_for(|stop| *stop) => {
                    // Refuse new deliveries; drain what was already acknowledged.
                    rx.close();
                    stopping = true;
                    continue;
                }
            }
        };
        let Some(queued) = next else { break };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let dispatch = dispatch.clone();
        let span = tracing::info_span!(
            "delivery",
            id = queued.delivery.id(),
            event = queued.delivery.event(),
            action = queued.delivery.action().unwrap_or(""),
        );
        tokio::spawn(
            async move {
                dispatch.handle(queued).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
    // Every permit back means every delivery finished.
    let _ = permits.acquire_many(concurrency as u32).await;
}

/// Waits for the workers to drain, at most `timeout`; returns whether they did.
pub(crate) async fn drain(workers: tokio::task::JoinHandle<()>, timeout: Duration) -> bool {
    match tokio::time::timeout(timeout, workers).await {
        Ok(_) => true,
        Err(_) => {
            tracing::warn!(?timeout, "handlers still running at the shutdown timeout");
            false
        }
    }
}
