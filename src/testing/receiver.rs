//! [`WebhookReceiver`]: a tiny webhook endpoint on `127.0.0.1` that verifies and records.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::webhook::{Delivery, Rejection, WebhookSettings, parse_delivery};

/// A webhook endpoint for tests: each request goes through
/// [`parse_delivery`](crate::webhook::parse_delivery) and is recorded as a [`Delivery`] or
/// a [`Rejection`].
///
/// Accepted deliveries are answered with the status set by
/// [`set_status`](Self::set_status) (default 202) and the body `accepted <event>[.<action>]`;
/// rejections with their own status and text. Any path is served. Dropping it stops it.
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use atombot::testing::{deliver, events, WebhookReceiver};
///
/// let receiver = WebhookReceiver::start("s3cret").await?;
/// deliver(&receiver.url(), "s3cret", "push", events::push("acme/app")).await?;
/// assert_eq!(receiver.deliveries()[0].event(), "push");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebhookReceiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<oneshot::Sender<()>>,
}

#[derive(Debug)]
struct Inner {
    settings: WebhookSettings,
    log: Mutex<Log>,
}

#[derive(Debug)]
struct Log {
    status: StatusCode,
    outcomes: Vec<Result<Delivery, Rejection>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl WebhookReceiver {
    /// Starts a receiver accepting deliveries signed with (or carrying) `secret`.
    ///
    /// Must run inside a Tokio runtime; fails only if `127.0.0.1:0` cannot be bound.
    pub async fn start(secret: &str) -> std::io::Result<Self> {
        Self::start_with(WebhookSettings::default().with_secret(secret)).await
    }

    /// Starts a receiver with explicit settings.
    ///
    /// # Errors
    /// As for [`start`](Self::start).
    pub async fn start_with(settings: WebhookSettings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            settings,
            log: Mutex::new(Log {
                status: StatusCode::ACCEPTED,
                outcomes: Vec::new(),
            }),
        });
        let app = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&inner));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                tracing::warn!(%error, "webhook receiver stopped with an error");
            }
        });
        Ok(Self {
            addr,
            inner,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:<port>/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The status accepted deliveries are answered with from now on (e.g. 500 to test
    /// failure handling); invalid codes become 500.
    pub fn set_status(&self, status: u16) {
        self.inner.lock().status =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// Deliveries that verified and parsed, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let log = self.inner.lock();
        log.outcomes.iter().filter_map(|o| o.clone().ok()).collect()
    }

    /// Requests that were refused, oldest first.
    pub fn rejections(&self) -> Vec<Rejection> {
        let log = self.inner.lock();
        log.outcomes
            .iter()
            .filter_map(|o| o.clone().err())
            .collect()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.inner.lock().outcomes.len()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let outcome = parse_delivery(&headers, body, &inner.settings);
    let mut log = inner.lock();
    let response = match &outcome {
        Ok(delivery) => {
            let name = match delivery.action() {
                Some(action) => format!("{}.{action}", delivery.event()),
                None => delivery.event().to_owned(),
            };
            (log.status, format!("accepted {name}")).into_response()
        }
        Err(rejection) => rejection.clone().into_response(),
    };
    log.outcomes.push(outcome);
    response
}
