//! One tracing span per request: method, path (never the query or the token), status and
//! duration.

use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::BoxFuture;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::client::{HttpRequest, HttpResponse, request_path};
use crate::error::Error;

/// Layer for [`Trace`].
#[derive(Debug, Clone, Default)]
pub struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;
    fn layer(&self, inner: S) -> Trace<S> {
        Trace { inner }
    }
}

/// Wraps each request in an `atomgit.request` span.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
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
                result
            }
            .instrument(span),
        )
    }
}
