//! Retries failed attempts as a [`RetryPolicy`] decides.

use std::fmt::Debug;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use http::{Method, StatusCode, header::RETRY_AFTER};
use tower::{Layer, Service, ServiceExt};

use super::{clone_request, take_ready};
use crate::client::{HttpRequest, HttpResponse};
use crate::error::{Error, Result};

/// Decides whether and when an attempt is retried.
pub trait RetryPolicy: Debug + Send + Sync + 'static {
    /// After attempt number `attempt` (1-based) of `req` produced `result`, `elapsed` after
    /// the first attempt started: `Some(delay)` retries after `delay`, `None` stops.
    fn retry_after(
        &self,
        req: &HttpRequest,
        result: &Result<HttpResponse>,
        attempt: u32,
        elapsed: Duration,
    ) -> Option<Duration>;
}

/// Retries idempotent requests on transport errors, timeouts and 5xx, and any request on
/// 429 (it was refused, not run). Honours `Retry-After` (seconds or HTTP date); otherwise
/// waits an exponential backoff with jitter. Bounded in attempts and total time.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DefaultRetryPolicy {
    /// Attempts in all, the first included (default 4).
    pub max_attempts: u32,
    /// First backoff (default 200 ms); doubled each attempt.
    pub base_delay: Duration,
    /// Largest backoff (default 10 s).
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt (default 60 s).
    pub max_elapsed: Duration,
}

impl Default for DefaultRetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl DefaultRetryPolicy {
    /// Sets the number of attempts (1 disables retries).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first backoff.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Sets the largest backoff.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets the total time bound.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        // "Equal jitter": half fixed, half random.
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Whether a method may be sent twice without changing the outcome.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The longest delay any header can ask for; larger values (up to `u64::MAX` seconds) are
/// saturated to it, so no `Duration` or `Instant` arithmetic can overflow.
pub(crate) const MAX_HEADER_DELAY: Duration = Duration::from_secs(24 * 3600);

/// Parses `Retry-After` as seconds or an HTTP date, saturated to [`MAX_HEADER_DELAY`].
pub(crate) fn parse_retry_after(resp: &HttpResponse) -> Option<Duration> {
    let text = resp.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_HEADER_DELAY));
    }
    let date = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    Some(until(date.with_timezone(&chrono::Utc)))
}

/// The time from now until `at` (zero if past), saturated to [`MAX_HEADER_DELAY`].
pub(crate) fn until(at: chrono::DateTime<chrono::Utc>) -> Duration {
    (at - chrono::Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(MAX_HEADER_DELAY)
}

impl RetryPolicy for DefaultRetryPolicy {
    fn retry_after(
        &self,
        req: &HttpRequest,
        result: &Result<HttpResponse>,
        attempt: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let idempotent = is_idempotent(req.method());
        let delay = match result {
            Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                parse_retry_after(resp).unwrap_or_else(|| self.backoff(attempt))
            }
            Ok(resp) if resp.status().is_server_error() && idempotent => {
                parse_retry_after(resp).unwrap_or_else(|| self.backoff(attempt))
            }
            Err(Error::Transport { .. } | Error::Timeout { .. }) if idempotent => {
                self.backoff(attempt)
            }
            _ => return None,
        };
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }
}

/// Layer for [`Retry`].
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: Arc<dyn RetryPolicy>,
}

impl RetryLayer {
    /// Retries as `policy` decides.
    pub fn new(policy: Arc<dyn RetryPolicy>) -> Self {
        Self { policy }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;
    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// Sends a request again while its [`RetryPolicy`] says so.
#[derive(Debug, Clone)]
pub struct Retry<S> {
    inner: S,
    policy: Arc<dyn RetryPolicy>,
}

impl<S> Service<HttpRequest> for Retry<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<HttpResponse>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let inner = take_ready(&mut self.inner);
        let policy = self.policy.clone();
        Box::pin(async move {
            let start = Instant::now();
            let mut attempt = 1;
            loop {
                let result = inner.clone().oneshot(clone_request(&req)).await;
                let Some(delay) = policy.retry_after(&req, &result, attempt, start.elapsed())
                else {
                    return result;
                };
                match &result {
                    Ok(resp) => tracing::debug!(
                        attempt,
                        status = resp.status().as_u16(),
                        ?delay,
                        "retrying"
                    ),
                    Err(e) => tracing::debug!(attempt, error = %e, ?delay, "retrying"),
                }
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn req(method: Method) -> HttpRequest {
        let mut r = HttpRequest::new(Bytes::new());
        *r.method_mut() = method;
        r
    }

    fn resp(status: u16, retry_after: Option<&str>) -> Result<HttpResponse> {
        let mut b = http::Response::builder().status(status);
        if let Some(v) = retry_after {
            b = b.header(RETRY_AFTER, v);
        }
        Ok(b.body(Bytes::new()).unwrap())
    }

    #[test]
    fn classifies_like_the_platform_needs() {
        let p = DefaultRetryPolicy::default();
        let z = Duration::ZERO;
        assert!(
            p.retry_after(&req(Method::GET), &resp(500, None), 1, z)
                .is_some()
        );
        assert!(
            p.retry_after(&req(Method::POST), &resp(500, None), 1, z)
                .is_none()
        );
        assert_eq!(
            p.retry_after(&req(Method::POST), &resp(429, Some("2")), 1, z),
            Some(Duration::from_secs(2))
        );
        assert!(
            p.retry_after(&req(Method::GET), &resp(404, None), 1, z)
                .is_none()
        );
        assert!(
            p.retry_after(&req(Method::GET), &resp(500, None), 4, z)
                .is_none()
        );
        assert!(
            p.retry_after(&req(Method::GET), &resp(429, Some("120")), 1, z)
                .is_none(),
            "a wait beyond the total bound gives up"
        );
    }

    #[test]
    fn retry_after_accepts_http_dates() {
        let when = chrono::Utc::now() + chrono::Duration::seconds(30);
        let r = resp(429, Some(&when.to_rfc2822())).unwrap();
        let d = parse_retry_after(&r).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let p = DefaultRetryPolicy::default();
        assert!(p.backoff(1) <= Duration::from_millis(200));
        assert!(p.backoff(3) >= Duration::from_millis(400));
        assert!(p.backoff(30) <= Duration::from_secs(10));
    }
}
