//! Fault injection (`fail_next`) and the optional per-token sliding-window rate limit.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method};

/// Which requests a fault applies to: a method (or any) and an exact path or path prefix.
///
/// Paths are matched without the simulator's API prefix, e.g. `/orgs/atomgit-demo/repos`.
///
/// # Example
/// ```
/// use atombot::testing::Route;
/// use http::Method;
///
/// let route = Route::post("/app/installations/14/access_tokens");
/// assert!(route.matches(&Method::POST, "/app/installations/14/access_tokens"));
/// assert!(Route::prefix(Method::GET, "/repos/").matches(&Method::GET, "/repos/a/b"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    method: Option<Method>,
    path: String,
    prefix: bool,
}

impl Route {
    /// Requests with exactly this method and path.
    pub fn exact(method: Method, path: impl Into<String>) -> Self {
        Self {
            method: Some(method),
            path: path.into(),
            prefix: false,
        }
    }

    /// Requests with this method whose path starts with `prefix`.
    pub fn prefix(method: Method, prefix: impl Into<String>) -> Self {
        Self {
            method: Some(method),
            path: prefix.into(),
            prefix: true,
        }
    }

    /// `GET` on exactly `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::exact(Method::GET, path)
    }

    /// `POST` on exactly `path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::exact(Method::POST, path)
    }

    /// `PATCH` on exactly `path`.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::exact(Method::PATCH, path)
    }

    /// Matches any method (the path rule is kept).
    pub fn any_method(mut self) -> Self {
        self.method = None;
        self
    }

    /// Whether a request with `method` and `path` (API prefix removed) matches.
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self.method.as_ref().is_none_or(|m| m == method);
        let path_ok = if self.prefix {
            path.starts_with(&self.path)
        } else {
            path == self.path
        };
        method_ok && path_ok
    }
}

/// What to do to a matching request instead of (or before) answering it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and a JSON `{"message": …}` body.
    Status(u16),
    /// Answer 429 with `Retry-After: <seconds>`.
    TooManyRequests {
        /// Value of the `Retry-After` header (whole seconds, rounded up).
        retry_after: Duration,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
}

#[derive(Debug)]
struct Rule {
    route: Route,
    remaining: u32,
    fault: Fault,
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    pub(crate) fn push(&mut self, route: Route, times: u32, fault: Fault) {
        if times > 0 {
            self.rules.push(Rule {
                route,
                remaining: times,
                fault,
            });
        }
    }

    /// The fault for this request, if any; consumes one use of the first matching rule.
    pub(crate) fn take(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|r| r.route.matches(method, path))?;
        let rule = &mut self.rules[index];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }
}

/// Rate-limit figures for one request, sent as `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) used: u32,
    pub(crate) reset: u64,
}

impl RateHeaders {
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-used", u64::from(self.used)),
            ("x-ratelimit-reset", self.reset),
        ];
        for (name, value) in pairs {
            headers.insert(name, HeaderValue::from(value));
        }
    }
}

/// Outcome of a rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Unlimited,
    Allowed(RateHeaders),
    Refused(RateHeaders),
}

/// Sliding one-second window per token; refused requests do not enter the window.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    pub(crate) per_second: Option<u32>,
    pub(crate) refused: u64,
    windows: HashMap<String, VecDeque<Instant>>,
}

impl RateLimiter {
    pub(crate) fn check(&mut self, key: &str, now: Instant) -> Admission {
        let Some(limit) = self.per_second else {
            return Admission::Unlimited;
        };
        let window = self.windows.entry(key.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        let full = window.len() >= limit as usize;
        if !full {
            window.push_back(now);
        }
        let used = u32::try_from(window.len()).unwrap_or(u32::MAX);
        let frees_in = window.front().map_or(Duration::from_secs(1), |t| {
            (*t + Duration::from_secs(1)).saturating_duration_since(now)
        });
        let headers = RateHeaders {
            limit,
            remaining: limit.saturating_sub(used),
            used,
            reset: epoch_ceil(frees_in),
        };
        if full {
            self.refused += 1;
            Admission::Refused(headers)
        } else {
            Admission::Allowed(headers)
        }
    }
}

/// Epoch seconds (rounded up) at `now + after`.
fn epoch_ceil(after: Duration) -> u64 {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + after;
    at.as_secs() + u64::from(at.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_n_times_then_stop() {
        let mut f = Faults::default();
        f.push(Route::get("/a"), 2, Fault::Status(500));
        assert_eq!(f.take(&Method::POST, "/a"), None);
        assert_eq!(f.take(&Method::GET, "/a"), Some(Fault::Status(500)));
        assert_eq!(f.take(&Method::GET, "/a"), Some(Fault::Status(500)));
        assert_eq!(f.take(&Method::GET, "/a"), None);
    }

    #[test]
    fn route_prefix_and_any_method() {
        let r = Route::prefix(Method::GET, "/repos/").any_method();
        assert!(r.matches(&Method::DELETE, "/repos/x"));
        assert!(!r.matches(&Method::GET, "/orgs/x"));
    }

    #[test]
    fn sliding_window_refusals_do_not_consume() {
        let mut rl = RateLimiter {
            per_second: Some(2),
            ..Default::default()
        };
        let t0 = Instant::now();
        assert!(matches!(rl.check("k", t0), Admission::Allowed(h) if h.remaining == 1));
        assert!(matches!(rl.check("k", t0), Admission::Allowed(h) if h.remaining == 0));
        assert!(matches!(rl.check("k", t0), Admission::Refused(_)));
        assert!(matches!(rl.check("other", t0), Admission::Allowed(_)));
        assert!(matches!(
            rl.check("k", t0 + Duration::from_millis(1000)),
            Admission::Allowed(_)
        ));
        assert_eq!(rl.refused, 1);
    }
}
