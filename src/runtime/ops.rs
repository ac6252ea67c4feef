//! Operations endpoints: `/readyz` and `/metrics`, and the queue-depth sampler behind them.

use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;
use tokio::sync::watch;

use super::metrics::Metrics;
use super::queue;
use crate::jobs::Queue;

/// State of the operations endpoints.
#[derive(Clone)]
pub(crate) struct Ops {
    pub(crate) queue: Queue,
    pub(crate) metrics: Metrics,
}

pub(crate) async fn readyz(State(ops): State<Ops>) -> impl IntoResponse {
    match ops.queue.ping().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {error}"),
        ),
    }
}

/// Samples the queue depth for `/metrics` every second until the bot stops.
pub(crate) async fn sample_depth(
    queue: queue::JobDeliveryQueue,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        queue.sample_depth().await;
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

pub(crate) async fn render_metrics(State(ops): State<Ops>) -> impl IntoResponse {
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics.render(),
    )
}
