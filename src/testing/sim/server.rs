//! The axum server: shared state, the front door (log, faults, rate limit) and serving.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderValue, StatusCode};
use jsonwebtoken::DecodingKey;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::auth::bearer;
use super::faults::{Admission, Fault};
use super::routes::{self, ApiError};
use super::state::{RecordedRequest, State as SimState, TokenKind};

/// The prefix of the `/api/v5` path family.
const V5_PREFIX: &str = "/api/v5";

/// Largest request body the simulator reads (1 MiB).
const MAX_BODY: usize = 1 << 20;

/// Configuration fixed at start plus the mutable model.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) app_id: u64,
    pub(crate) app_slug: String,
    pub(crate) key: DecodingKey,
    /// `""` or a prefix like `/api/v5` (leading slash, no trailing slash).
    pub(crate) prefix: String,
    /// `http://127.0.0.1:<port>/`.
    pub(crate) root_url: String,
    state: Mutex<SimState>,
}

impl Shared {
    pub(crate) fn new(
        app_id: u64,
        app_slug: String,
        key: DecodingKey,
        prefix: String,
        addr: SocketAddr,
        state: SimState,
    ) -> Self {
        let root_url = format!("http://{addr}/");
        Self {
            app_id,
            app_slug,
            key,
            prefix,
            root_url,
            state: Mutex::new(state),
        }
    }

    /// Locks the model; a panic in another holder does not poison the simulator.
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Base URL of the API, with prefix, ending in `/`.
    pub(crate) fn api_url(&self) -> String {
        format!("{}{}/", self.root_url.trim_end_matches('/'), self.prefix)
    }

    /// Base URL of the web UI, ending in `/`.
    pub(crate) fn web_url(&self) -> &str {
        &self.root_url
    }

    /// A repository's JSON, if it exists.
    pub(crate) fn lock_repo_json(&self, owner: &str, repo: &str) -> Option<serde_json::Value> {
        let state = self.lock();
        state.repo(owner, repo).map(|r| r.to_json(self.web_url()))
    }
}

/// The whole application: API routes (under the prefix, if any), fallback, front door.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let api = routes::api(Arc::clone(&shared));
    // Both path families: unprefixed and `/api/v5` when the simulator has no prefix; only
    // under the prefix otherwise (a client never doubles a prefix its base URL has).
    let router = if shared.prefix.is_empty() {
        Router::new().nest(V5_PREFIX, api.clone()).merge(api)
    } else {
        Router::new().nest(&shared.prefix, api)
    };
    router
        .merge(routes::web(Arc::clone(&shared)))
        .fallback(|| async { ApiError::not_found() })
        .layer(from_fn_with_state(shared, front_door))
}

/// Records the request, then applies a pending fault and the rate limit.
async fn front_door(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            .into_response();
    };
    let token = bearer(&parts.headers).map(str::to_owned);
    let path = parts.uri.path();
    let prefix = if shared.prefix.is_empty() && path.starts_with(V5_PREFIX) {
        V5_PREFIX
    } else {
        shared.prefix.as_str()
    };
    let api_path = path
        .strip_prefix(prefix)
        .filter(|p| p.is_empty() || p.starts_with('/'));
    let (seq, fault) = {
        let mut state = shared.lock();
        let seq = state.request_seq;
        state.request_seq += 1;
        state.log.push(RecordedRequest {
            method: parts.method.clone(),
            path: path.to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
            body: body.clone(),
            token_kind: token.as_deref().map(TokenKind::of),
            received_at: Utc::now(),
            status: None,
            seq,
        });
        (
            seq,
            state.faults.take(&parts.method, api_path.unwrap_or(path)),
        )
    };
    let response = answer(&shared, parts, body, token, fault, next).await;
    let mut state = shared.lock();
    if let Some(r) = state.log.iter_mut().rev().find(|r| r.seq == seq) {
        r.status = Some(response.status().as_u16());
    }
    response
}

/// Applies a pending fault and the rate limit, then runs the route.
async fn answer(
    shared: &Shared,
    parts: http::request::Parts,
    body: bytes::Bytes,
    token: Option<String>,
    fault: Option<Fault>,
    next: Next,
) -> Response {
    match fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Injected fault");
            return ApiError::new(status, reason).into_response();
        }
        Some(Fault::TooManyRequests { retry_after }) => {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
            return response;
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let admission = shared
        .lock()
        .limiter
        .check(token.as_deref().unwrap_or(""), Instant::now());
    let headers = match admission {
        Admission::Unlimited => None,
        Admission::Allowed(headers) => Some(headers),
        Admission::Refused(headers) => {
            let mut response =
                ApiError::new(StatusCode::FORBIDDEN, "API rate limit exceeded").into_response();
            headers.apply(response.headers_mut());
            return response;
        }
    };
    let mut response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if let Some(headers) = headers {
        headers.apply(response.headers_mut());
    }
    response
}

/// Serves until `stop` fires (or its sender is dropped), then shuts down gracefully.
pub(crate) async fn serve(listener: TcpListener, router: Router, stop: oneshot::Receiver<()>) {
    let server = axum::serve(listener, router).with_graceful_shutdown(async {
        let _ = stop.await;
    });
    if let Err(error) = server.await {
        tracing::warn!(%error, "simulator server stopped with an error");
    }
}

/// How long `Simulator::shutdown` waits for open connections before giving up.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
