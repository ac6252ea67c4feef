//! The client's tower layers. Outer to inner:
//! [`Trace`] → [`Retry`] → [`Auth`] → [`RateLimit`] → [`Timeout`] → [`BaseUri`] →
//! [`ExtraHeaders`] → transport.
//!
//! Retry sits outside auth so every attempt carries a current token; rate limiting sits
//! inside auth so each attempt that really goes out is paced against its token's budget.

mod auth;
mod base_uri;
mod headers;
mod rate_limit;
mod retry;
mod timeout;
mod trace;

#[doc(inline)]
pub use self::{
    auth::{Auth, AuthLayer, RateKey},
    base_uri::{BaseUri, BaseUriLayer},
    headers::{ExtraHeaders, ExtraHeadersLayer},
    rate_limit::{RateLimit, RateLimitConfig, RateLimitLayer, RateLimitStatus, RateLimiter},
    retry::{DefaultRetryPolicy, Retry, RetryLayer, RetryPolicy},
    timeout::{Timeout, TimeoutLayer},
    trace::{ResponseObserver, Trace, TraceLayer},
};

pub(crate) use retry::{parse_retry_after, until};

use super::HttpRequest;

/// Copies a request (method, URI, headers, body, extensions) so it can be sent again.
pub(crate) fn clone_request(req: &HttpRequest) -> HttpRequest {
    let mut copy = HttpRequest::new(req.body().clone());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    copy
}

/// Takes the service that `poll_ready` prepared, leaving a clone in its place (the
/// readiness of a clone is not guaranteed, so the ready one must make the call).
pub(crate) fn take_ready<S: Clone>(service: &mut S) -> S {
    let clone = service.clone();
    std::mem::replace(service, clone)
}
