//! One tracing span per request: method, path (never the query or the token), status and
//! duration.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::BoxFuture;
use http::{Method, StatusCode};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::client::{HttpRequest, HttpResponse, request_path};
use crate::error::Error;

/// Called once per request with its method and final status (`None`: no answer), e.g. to
/// count API calls by status.
pub type ResponseObserver = Arc<dyn Fn(&Method, Option<StatusCode>) + Send + Sync>;

/// Layer for [`Trace`].
#[derive(Clone, Default)]
pub struct TraceLayer {
    observer: Option<ResponseObserver>,
}

impl std::fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceLayer")
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl TraceLayer {
    /// Also reports each request's outcome to `observer`.
    pub fn with_observer(observer: Option<ResponseObserver>) -> Self {
        Self { observer }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;
    fn layer(&self, inner: S) -> Trace<S> {
        Trace {
            inner,
            observer: self.observer.clone(),
        }
    }
}

/// Wraps each request in an `atomgit.request` span.
#[derive(Clone)]
pub struct Trace<S> {
    inner: S,
    observer: Option<ResponseObserver>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Trace<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S> Service<HttpRequest> for Trace<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let span = tracing::debug_span!(
            "atomgit.request",
            method = %req.method(),
            path = %request_path(req.uri()),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let method = req.method().clone();
        let observer = self.observer.clone();
        let fut = {
            let _enter = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let start = Instant::now();
                let result = fut.await;
                let span = tracing::Span::current();
                span.record("duration_ms", start.elapsed().as_millis() as u64);
                match &result {
                    Ok(resp) => {
                        span.record("status", resp.status().as_u16());
                        tracing::debug!(status = resp.status().as_u16(), "request finished");
                    }
                    Err(e) => tracing::debug!(error = %e, "request failed"),
                }
                if let Some(observe) = &observer {
                    observe(&method, result.as_ref().ok().map(|r| r.status()));
                }
                result
            }
            .instrument(span),
        )
    }
}
