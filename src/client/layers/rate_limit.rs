//! Paces requests per token so a burst of handlers queues instead of being refused, reads
//! the platform's `x-ratelimit-*` headers, and waits out a refusal until the window resets.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use http::StatusCode;
use tower::{Layer, Service, ServiceExt};

use super::{RateKey, clone_request, take_ready};
use crate::client::layers::retry::{parse_retry_after, until};
use crate::client::{HttpRequest, HttpResponse};
use crate::error::{Error, Result};

/// Rate-limit settings (defaults: the platform's App limits, 10 requests/s and 5,000/h).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Requests per second per token; 0 disables pacing.
    pub per_second: u32,
    /// Requests per hour per token; 0 disables pacing.
    pub per_hour: u32,
    /// Extra spacing added to each one-second window, so requests still fit the server's
    /// window after network jitter (default 50 ms).
    pub margin: Duration,
    /// Longest a request waits to be sent, for pacing or for a refused window to reset;
    /// beyond it the request fails at once with [`Error::RateLimited`] saying when to try
    /// again, so no caller is parked for an hour (default 60 s).
    pub max_wait: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 10,
            per_hour: 5000,
            margin: Duration::from_millis(50),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RateLimitConfig {
    /// Sets the per-second limit.
    pub fn per_second(mut self, n: u32) -> Self {
        self.per_second = n;
        self
    }

    /// Sets the per-hour limit.
    pub fn per_hour(mut self, n: u32) -> Self {
        self.per_hour = n;
        self
    }

    /// Sets the longest wait before a request is sent (see [`max_wait`](Self::max_wait)).
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }
}

/// The budget the platform last reported for a token (`x-ratelimit-*` headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// `x-ratelimit-limit`: requests allowed per hour.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `x-ratelimit-used`: requests used in the window.
    pub used: Option<u64>,
    /// `x-ratelimit-reset`: when the window resets.
    pub reset: Option<DateTime<Utc>>,
}

impl RateLimitStatus {
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Option<Self> {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let status = Self {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            used: num("x-ratelimit-used"),
            reset: num("x-ratelimit-reset")
                .and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0)),
        };
        (status != Self::default()).then_some(status)
    }
}

#[derive(Debug)]
struct KeyState {
    /// Send times reserved in the last second (at most `per_second` are kept).
    second: VecDeque<Instant>,
    /// GCRA theoretical arrival time for the hourly budget.
    hour_tat: Option<Instant>,
    blocked_until: Option<Instant>,
    status: Option<RateLimitStatus>,
    last_used: Instant,
}

/// Shared pacing state: one budget per [`RateKey`].
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    keys: Mutex<HashMap<Arc<str>, KeyState>>,
    /// Microseconds requests have waited in all.
    waited_us: AtomicU64,
}

const IDLE_KEY_TTL: Duration = Duration::from_secs(3600);

impl RateLimiter {
    /// A limiter with these settings.
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            keys: Mutex::new(HashMap::new()),
            waited_us: AtomicU64::new(0),
        }
    }

    fn with_key<T>(&self, key: &Arc<str>, f: impl FnOnce(&mut KeyState, Instant) -> T) -> T {
        let now = Instant::now();
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() > 1024 && !keys.contains_key(key) {
            keys.retain(|_, s| now.duration_since(s.last_used) < IDLE_KEY_TTL);
        }
        let state = keys.entry(key.clone()).or_insert_with(|| KeyState {
            second: VecDeque::new(),
            hour_tat: None,
            blocked_until: None,
            status: None,
            last_used: now,
        });
        state.last_used = now;
        f(state, now)
    }

    /// Reserves the earliest send time allowed for `key` and returns it; or, when that is
    /// more than `max_wait` away, reserves nothing and returns the wait.
    fn reserve(&self, key: &Arc<str>) -> std::result::Result<Instant, Duration> {
        let c = &self.config;
        self.with_key(key, |s, now| {
            let mut at = now.max(s.blocked_until.unwrap_or(now));
            let n = c.per_second as usize;
            if n > 0 {
                while s.second.len() > n {
                    s.second.pop_front();
                }
                if s.second.len() == n {
                    at = at.max(s.second[0] + Duration::from_secs(1) + c.margin);
                }
            }
            let mut hour = None;
            if c.per_hour > 0 {
                let interval = Duration::from_secs(3600) / c.per_hour;
                let tolerance = interval * (c.per_hour - 1);
                let tat = s.hour_tat.unwrap_or(at).max(at);
                at = at.max(tat.checked_sub(tolerance).unwrap_or(at));
                hour = Some((tat, interval));
            }
            let wait = at.saturating_duration_since(now);
            if wait > c.max_wait {
                return Err(wait);
            }
            if n > 0 {
                if s.second.len() == n {
                    s.second.pop_front();
                }
                s.second.push_back(at);
            }
            if let Some((tat, interval)) = hour {
                s.hour_tat = Some(tat.max(at) + interval);
            }
            Ok(at)
        })
    }

    /// Total time requests through this limiter have waited (pacing and refusals).
    pub fn waited(&self) -> Duration {
        Duration::from_micros(self.waited_us.load(Ordering::Relaxed))
    }

    fn add_wait(&self, wait: Duration) {
        let us = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.waited_us.fetch_add(us, Ordering::Relaxed);
    }

    fn record(&self, key: &Arc<str>, resp: &HttpResponse) -> Option<Duration> {
        let status = RateLimitStatus::from_headers(resp.headers());
        // A 429 is always a refusal (AtomGit's siblings answer 429); a 403 only when the
        // budget is spent.
        let refused = match resp.status() {
            StatusCode::TOO_MANY_REQUESTS => true,
            StatusCode::FORBIDDEN => status.as_ref().and_then(|s| s.remaining) == Some(0),
            _ => false,
        };
        let wait = refused.then(|| {
            parse_retry_after(resp)
                .or_else(|| Some(until(status.as_ref()?.reset?)))
                .unwrap_or(Duration::from_secs(1))
                .max(Duration::from_millis(100))
        });
        self.with_key(key, |s, now| {
            if let Some(st) = status {
                s.status = Some(st);
            }
            if let Some(wait) = wait {
                s.blocked_until = Some(s.blocked_until.unwrap_or(now).max(now + wait));
            }
        });
        wait
    }

    /// The budget last reported for `key`.
    pub fn status(&self, key: &str) -> Option<RateLimitStatus> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(key).and_then(|s| s.status.clone())
    }
}

/// Layer for [`RateLimit`].
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<RateLimiter>,
}

impl RateLimitLayer {
    /// Paces through `limiter` (shared by every client built from one builder).
    pub fn new(limiter: Arc<RateLimiter>) -> Self {
        Self { limiter }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;
    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

/// Paces requests per [`RateKey`] and waits out rate-limit refusals.
#[derive(Debug, Clone)]
pub struct RateLimit<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
}

/// How many times one request waits out a refusal before the refusal is returned.
const MAX_REFUSALS: u32 = 3;

impl<S> Service<HttpRequest> for RateLimit<S>
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
        let limiter = self.limiter.clone();
        let key = req
            .extensions()
            .get::<RateKey>()
            .map(|k| k.0.clone())
            .unwrap_or_else(|| Arc::from("anonymous"));
        Box::pin(async move {
            let mut refusals = 0;
            loop {
                let at = match limiter.reserve(&key) {
                    Ok(at) => at,
                    Err(wait) => {
                        tracing::debug!(?wait, "rate limit: not sending, the wait is too long");
                        return Err(Error::RateLimited {
                            status: StatusCode::TOO_MANY_REQUESTS,
                            message: format!(
                                "not sent: this token may send again in {}s, longer than the \
                                 {}s the client waits (RateLimitConfig::max_wait)",
                                wait.as_secs(),
                                limiter.config.max_wait.as_secs()
                            ),
                            method: req.method().clone(),
                            path: req.uri().path().to_owned(),
                            retry_after: Some(wait),
                        });
                    }
                };
                limiter.add_wait(at.saturating_duration_since(Instant::now()));
                tokio::time::sleep_until(at.into()).await;
                let resp = inner.clone().oneshot(clone_request(&req)).await?;
                let Some(wait) = limiter.record(&key, &resp) else {
                    return Ok(resp);
                };
                refusals += 1;
                if refusals > MAX_REFUSALS || wait > limiter.config.max_wait {
                    return Ok(resp);
                }
                tracing::debug!(?wait, "rate limited by the platform; waiting for the reset");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_spread_over_seconds() {
        let limiter = RateLimiter::new(RateLimitConfig::default().per_hour(0));
        let key: Arc<str> = Arc::from("k");
        let start = Instant::now();
        let times: Vec<Instant> = (0..25).map(|_| limiter.reserve(&key).unwrap()).collect();
        for w in times.windows(11) {
            assert!(w[10] - w[0] > Duration::from_secs(1), "11 sends within 1 s");
        }
        let last = times[24] - start;
        assert!(
            last >= Duration::from_secs(2) && last < Duration::from_secs(3),
            "{last:?}"
        );
    }

    #[test]
    fn hourly_budget_allows_a_burst_then_spaces() {
        let limiter = RateLimiter::new(RateLimitConfig::default().per_second(0).per_hour(3));
        let key: Arc<str> = Arc::from("k");
        let start = Instant::now();
        let t: Vec<Instant> = (0..3).map(|_| limiter.reserve(&key).unwrap()).collect();
        assert!(t[2] - start < Duration::from_millis(10));
        // The fourth would wait 20 minutes, far past `max_wait`: refused, nothing reserved.
        let wait = limiter.reserve(&key).unwrap_err();
        assert!(wait >= Duration::from_secs(1199), "{wait:?}");
        assert!(limiter.reserve(&key).is_err());
        let patient = RateLimiter::new(
            RateLimitConfig::default()
                .per_second(0)
                .per_hour(3)
                .max_wait(Duration::from_secs(3600)),
        );
        let t: Vec<Instant> = (0..4).map(|_| patient.reserve(&key).unwrap()).collect();
        assert!(t[3] - start >= Duration::from_secs(1199));
    }

    #[test]
    fn reads_headers_and_refusals() {
        let limiter = RateLimiter::new(RateLimitConfig::default());
        let key: Arc<str> = Arc::from("k");
        let reset = Utc::now().timestamp() + 2;
        let resp = http::Response::builder()
            .status(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-reset", reset.to_string())
            .body(bytes::Bytes::new())
            .unwrap();
        let wait = limiter.record(&key, &resp).expect("a refusal");
        assert!(wait <= Duration::from_secs(2));
        let st = limiter.status("k").unwrap();
        assert_eq!((st.limit, st.remaining), (Some(5000), Some(0)));
    }
}
