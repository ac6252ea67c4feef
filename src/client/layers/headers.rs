//! Adds the headers every request carries: `X-Api-Version`, `User-Agent`, `Accept`.

use std::task::{Context, Poll};

use http::HeaderMap;
use tower::{Layer, Service};

use crate::client::HttpRequest;

/// Layer for [`ExtraHeaders`].
#[derive(Debug, Clone)]
pub struct ExtraHeadersLayer {
    headers: HeaderMap,
}

impl ExtraHeadersLayer {
    /// Adds each of `headers` to requests that do not already have it.
    pub fn new(headers: HeaderMap) -> Self {
        Self { headers }
    }
}

impl<S> Layer<S> for ExtraHeadersLayer {
    type Service = ExtraHeaders<S>;
    fn layer(&self, inner: S) -> ExtraHeaders<S> {
        ExtraHeaders {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// Adds fixed headers to each request.
#[derive(Debug, Clone)]
pub struct ExtraHeaders<S> {
    inner: S,
    headers: HeaderMap,
}

impl<S: Service<HttpRequest>> Service<HttpRequest> for ExtraHeaders<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: HttpRequest) -> S::Future {
        for (name, value) in &self.headers {
            if !req.headers().contains_key(name) {
                req.headers_mut().insert(name.clone(), value.clone());
            }
        }
        self.inner.call(req)
    }
}
