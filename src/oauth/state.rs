//! CSRF `state` values bound to the browser by a cookie, and signed-in sessions.
//!
//! Both live in this process's memory: a restart signs users out of the bot's pages (their
//! stored tokens stay) and abandons logins in progress.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use subtle::ConstantTimeEq;

/// Most pending logins kept; past this the oldest are dropped.
const MAX_PENDING: usize = 10_000;
/// How long an expired state is remembered so that its callback says "expired".
const REMEMBER_EXPIRED: Duration = Duration::from_secs(3600);

/// Why a callback's `state` was refused (before any code exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateRejection {
    /// The callback has no `state`, or the browser no state cookie.
    #[error("the sign-in request carries no state, or this browser did not start it")]
    Missing,
    /// The `state` differs from the one this browser was given.
    #[error("the sign-in state does not belong to this browser")]
    Foreign,
    /// The `state` was already used, or was never issued.
    #[error("the sign-in state was already used or is unknown")]
    Reused,
    /// The `state` is older than the allowed lifetime.
    #[error("the sign-in state has expired")]
    Expired,
}

/// 32 random bytes from the system CSPRNG (aws-lc-rs), URL-safe base64; `None` if the RNG
/// failed (then nothing guessable is ever handed out).
pub(crate) fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => Some(URL_SAFE_NO_PAD.encode(bytes)),
        Err(_) => {
            tracing::error!("the system random number generator failed");
            None
        }
    }
}

/// Pending logins: state → when it was issued.
#[derive(Debug)]
pub(crate) struct PendingStates {
    ttl: Duration,
    map: Mutex<HashMap<String, Instant>>,
}

impl PendingStates {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Issues a fresh state (`None` if the RNG failed).
    pub(crate) fn issue(&self) -> Option<String> {
        let state = random_token()?;
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = self.ttl + REMEMBER_EXPIRED;
        map.retain(|_, at| now.duration_since(*at) < keep);
        if map.len() >= MAX_PENDING
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(state.clone(), now);
        Some(state)
    }

    /// Checks `query` (from the callback) against `cookie` (from the browser) and consumes it.
    pub(crate) fn take(
        &self,
        query: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<(), StateRejection> {
        let (Some(query), Some(cookie)) = (query, cookie) else {
            return Err(StateRejection::Missing);
        };
        if query.is_empty() || cookie.is_empty() {
            return Err(StateRejection::Missing);
        }
        if !bool::from(query.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(StateRejection::Foreign);
        }
        let issued = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(query)
            .ok_or(StateRejection::Reused)?;
        if issued.elapsed() > self.ttl {
            return Err(StateRejection::Expired);
        }
        Ok(())
    }
}

/// Signed-in browsers: random session id → (user login, when it ends).
#[derive(Debug)]
pub(crate) struct Sessions {
    ttl: Duration,
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl Sessions {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `user`; returns its id (the cookie value), `None` if the RNG
    /// failed.
    pub(crate) fn start(&self, user: &str) -> Option<String> {
        let id = random_token()?;
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (_, ends)| *ends > now);
        map.insert(id.clone(), (user.to_owned(), now + self.ttl));
        Some(id)
    }

    /// The user of a live session.
    pub(crate) fn user(&self, id: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(id)
            .filter(|(_, ends)| *ends > Instant::now())
            .map(|(user, _)| user.clone())
    }

    /// Ends a session; returns its user.
    pub(crate) fn end(&self, id: &str) -> Option<String> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(id).map(|(user, _)| user)
    }

    /// Ends every session of `user`.
    pub(crate) fn end_user(&self, user: &str) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (u, _)| u != user);
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn states_work_once_for_their_browser() {
        let states = PendingStates::new(Duration::from_secs(60));
        let s = states.issue().unwrap();
        assert!(s.len() >= 43);
        assert_eq!(states.take(Some(&s), None), Err(StateRejection::Missing));
        assert_eq!(
            states.take(Some(&s), Some("other")),
            Err(StateRejection::Foreign)
        );
        assert_eq!(states.take(Some(&s), Some(&s)), Ok(()));
        assert_eq!(states.take(Some(&s), Some(&s)), Err(StateRejection::Reused));
        let expired = PendingStates::new(Duration::ZERO);
        let e = expired.issue().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            expired.take(Some(&e), Some(&e)),
            Err(StateRejection::Expired)
        );
    }

    #[test]
    fn sessions_and_cookies() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let id = sessions.start("alice").unwrap();
        assert_eq!(sessions.user(&id).as_deref(), Some("alice"));
        assert_eq!(sessions.end(&id).as_deref(), Some("alice"));
        assert_eq!(sessions.user(&id), None);
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_static("a=1; atombot_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, "atombot_session"), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
