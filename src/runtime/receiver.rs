//! The webhook endpoint: check for credentials, read the body under a size limit and a
//! deadline, verify and parse it (off the async threads when it is large), queue it, answer
//! at once. Handlers never run inside the request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::metrics::Metrics;
use super::queue::{DeliveryQueue, EnqueueError};
use crate::context::Context;
use crate::webhook::{
    BodyTimeout, PayloadTooLarge, Rejection, Router, WebhookSettings, parse_delivery,
    require_credentials,
};

/// How many first deliveries have their header names logged at debug level.
const LOG_HEADERS_OF_FIRST: usize = 20;

/// Bodies larger than this are verified and parsed on a blocking thread, so hashing and
/// parsing megabytes never holds up an async worker thread.
const BLOCKING_ABOVE_BYTES: usize = 64 * 1024;

/// State of the webhook endpoint.
pub(crate) struct Receiver {
    pub(crate) settings: WebhookSettings,
    pub(crate) router: Router<Context>,
    pub(crate) queue: Arc<dyn DeliveryQueue>,
    pub(crate) metrics: Metrics,
    pub(crate) seen: AtomicUsize,
    /// Time the whole body gets to arrive.
    pub(crate) body_timeout: std::time::Duration,
    /// Applies installation lifecycle deliveries to the token cache and resolver.
    pub(crate) lifecycle: Arc<super::lifecycle::Lifecycle>,
    /// The delivery log's writer, when the log is on.
    pub(crate) log: Option<crate::deliveries::LogWriter>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn header_delivery_id<'a>(settings: &WebhookSettings, headers: &'a http::HeaderMap) -> &'a str {
    settings
        .delivery_headers
        .iter()
        .find_map(|h| headers.get(h.as_str())?.to_str().ok())
        .unwrap_or("-")
}

fn reject(receiver: &Receiver, delivery: &str, rejection: Rejection) -> Response {
    tracing::warn!(
        delivery,
        reason = rejection.reason(),
        status = rejection.status().as_u16(),
        "delivery rejected"
    );
    receiver
        .metrics
        .delivery("-", &format!("rejected_{}", rejection.reason()));
    rejection.into_response()
}

/// The body of a 2xx answer: `{"delivery": ID, "status": STATUS}`.
#[derive(serde::Serialize)]
struct Answer<'a> {
    delivery: &'a str,
    status: &'static str,
}

impl<'a> Answer<'a> {
    fn new(delivery: &'a str, status: &'static str) -> Self {
        Self { delivery, status }
    }
}

/// `POST {webhook_path}`.
pub(crate) async fn receive(State(receiver): State<Arc<Receiver>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let delivery_header = header_delivery_id(&receiver.settings, &parts.headers).to_owned();
    if receiver.seen.fetch_add(1, Ordering::Relaxed) < LOG_HEADERS_OF_FIRST {
        let names: Vec<&str> = parts
            .headers
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with("x-"))
            .collect();
        tracing::debug!(delivery = %delivery_header, headers = ?names, "delivery headers");
    }

    // Refuse before reading a byte of the body: no credentials, or announced too large.
    if let Err(rejection) = require_credentials(&parts.headers, &receiver.settings) {
        return reject(&receiver, &delivery_header, rejection);
    }
    let limit = receiver.settings.max_body_bytes;
    let announced = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return reject(
            &receiver,
            &delivery_header,
            PayloadTooLarge::new(limit).into(),
        );
    }
    let read = axum::body::to_bytes(Body::new(body), limit.saturating_add(1));
    let read = match tokio::time::timeout(receiver.body_timeout, read).await {
        Ok(read) => read,
        Err(_) => {
            return reject(
                &receiver,
                &delivery_header,
                BodyTimeout::new(receiver.body_timeout).into(),
            );
        }
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                return reject(
                    &receiver,
                    &delivery_header,
                    PayloadTooLarge::new(limit).into(),
                );
            }
            tracing::warn!(delivery = %delivery_header, %error, "could not read the delivery body");
            return (StatusCode::BAD_REQUEST, "could not read the request body").into_response();
        }
    };
    // The headers worth keeping in the delivery log, read before they go to the parser.
    let kept = receiver
        .log
        .as_ref()
        .map(|_| crate::deliveries::KeptHeaders::of(&parts.headers));
    let parsed = if bytes.len() > BLOCKING_ABOVE_BYTES {
        let (headers, state) = (parts.headers, receiver.clone());
        tokio::task::spawn_blocking(move || parse_delivery(&headers, bytes, &state.settings)).await
    } else {
        Ok(parse_delivery(&parts.headers, bytes, &receiver.settings))
    };
    let delivery = match parsed {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(rejection)) => return reject(&receiver, &delivery_header, rejection),
        Err(error) => {
            // Only a panic in verification or parsing gets here (a bug): answer 500, not
            // 2xx, so the platform redelivers once it is fixed.
            tracing::error!(delivery = %delivery_header, %error, "verifying the delivery failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not verify the delivery",
            )
                .into_response();
        }
    };
    // Before any handler: a deleted installation's token goes now, whoever handles it.
    receiver.lifecycle.apply(&delivery).await;
    let (id, event, action) = (
        delivery.id().to_owned(),
        delivery.event().to_owned(),
        delivery.action().map(str::to_owned),
    );
    if !receiver.router.wants(&event, action.as_deref()) {
        tracing::debug!(delivery = %id, event, ?action, "no handler wants this event");
        receiver.metrics.delivery(&event, "ignored");
        return (StatusCode::OK, axum::Json(Answer::new(&id, "ignored"))).into_response();
    }
    match receiver.queue.enqueue(&delivery).await {
        Ok(new) => {
            if let (true, Some(log), Some(headers)) = (new, &receiver.log, kept) {
                log.record(&delivery, headers);
            }
            let outcome = if new { "accepted" } else { "duplicate" };
            tracing::info!(delivery = %id, event, ?action, outcome, "delivery stored");
            receiver.metrics.delivery(&event, outcome);
            let status = if new { "queued" } else { "duplicate" };
            (StatusCode::ACCEPTED, axum::Json(Answer::new(&id, status))).into_response()
        }
        Err(error) => {
            let outcome = match error {
                EnqueueError::Closed => "shutting_down",
                _ => "queue_unavailable",
            };
            tracing::warn!(delivery = %id, event, %error, "delivery not queued; asking for redelivery");
            receiver.metrics.delivery(&event, outcome);
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{error}; redeliver later"),
            )
                .into_response();
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("5"),
            );
            response
        }
    }
}
