//! CSRF `state` values bound to the browser by a cookie, and signed-in sessions, kept in a
//! [`LoginStore`] under digests of the values the browser holds.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use http::HeaderMap;
use subtle::ConstantTimeEq;

use super::LoginStore;
use crate::error::{Error, Result};

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

/// The key a store keeps for a browser-held value: its SHA-256, URL-safe base64.
fn digest(value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

fn random() -> Result<String> {
    random_token().ok_or_else(|| Error::config("rng", "the system RNG failed"))
}

fn after(d: Duration) -> chrono::DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC)
}

/// Pending logins and sessions over a [`LoginStore`].
#[derive(Debug, Clone)]
pub(crate) struct Logins {
    pub(crate) store: Arc<dyn LoginStore>,
    pub(crate) state_ttl: Duration,
    pub(crate) session_ttl: Duration,
    pub(crate) max_sessions_per_user: usize,
}

impl Logins {
    /// Issues a fresh state; `None` when the store is full.
    pub(crate) async fn issue(&self) -> Result<Option<String>> {
        let state = random()?;
        let now = Utc::now();
        let forget_at = after(self.state_ttl + REMEMBER_EXPIRED);
        let kept = self
            .store
            .put_state(&digest(&state), now, forget_at)
            .await?;
        Ok(kept.then_some(state))
    }

    /// Checks `query` (from the callback) against `cookie` (from the browser) and consumes it.
    pub(crate) async fn take(
        &self,
        query: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Result<(), StateRejection>> {
        let (Some(query), Some(cookie)) = (query, cookie) else {
            return Ok(Err(StateRejection::Missing));
        };
        if query.is_empty() || cookie.is_empty() {
            return Ok(Err(StateRejection::Missing));
        }
        if !bool::from(query.as_bytes().ct_eq(cookie.as_bytes())) {
            return Ok(Err(StateRejection::Foreign));
        }
        let Some(issued) = self.store.take_state(&digest(query)).await? else {
            return Ok(Err(StateRejection::Reused));
        };
        let age = (Utc::now() - issued).to_std().unwrap_or(Duration::ZERO);
        if age > self.state_ttl {
            return Ok(Err(StateRejection::Expired));
        }
        Ok(Ok(()))
    }

    /// Starts a session for `user`; returns its id (the cookie value).
    pub(crate) async fn start(&self, user: &str) -> Result<String> {
        let id = random()?;
        self.store
            .start_session(
                &digest(&id),
                user,
                after(self.session_ttl),
                self.max_sessions_per_user,
            )
            .await?;
        Ok(id)
    }

    /// The user of a live session.
    pub(crate) async fn user(&self, id: &str) -> Result<Option<String>> {
        self.store.session_user(&digest(id)).await
    }

    /// Ends a session; returns its user.
    pub(crate) async fn end(&self, id: &str) -> Result<Option<String>> {
        self.store.end_session(&digest(id)).await
    }

    /// Ends every session of `user`.
    pub(crate) async fn end_user(&self, user: &str) -> Result<()> {
        self.store.end_sessions_of(user).await
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

    fn logins(state_ttl: Duration) -> Logins {
        Logins {
            store: Arc::new(super::super::MemoryLoginStore::new(100, state_ttl)),
            state_ttl,
            session_ttl: Duration::from_secs(60),
            max_sessions_per_user: 2,
        }
    }

    #[tokio::test]
    async fn states_work_once_for_their_browser() {
        let states = logins(Duration::from_secs(60));
        let s = states.issue().await.unwrap().unwrap();
        assert!(s.len() >= 43);
        let take = |q: &str, c: Option<&str>| {
            let (q, c) = (q.to_owned(), c.map(str::to_owned));
            let states = states.clone();
            async move { states.take(Some(&q), c.as_deref()).await.unwrap() }
        };
        assert_eq!(take(&s, None).await, Err(StateRejection::Missing));
        assert_eq!(take(&s, Some("other")).await, Err(StateRejection::Foreign));
        assert_eq!(take(&s, Some(&s)).await, Ok(()));
        assert_eq!(take(&s, Some(&s)).await, Err(StateRejection::Reused));
        let expired = logins(Duration::ZERO);
        let e = expired.issue().await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            expired.take(Some(&e), Some(&e)).await.unwrap(),
            Err(StateRejection::Expired)
        );
    }

    #[tokio::test]
    async fn sessions_and_cookies() {
        let sessions = logins(Duration::from_secs(60));
        let id = sessions.start("alice").await.unwrap();
        assert_eq!(sessions.user(&id).await.unwrap().as_deref(), Some("alice"));
        assert_eq!(sessions.end(&id).await.unwrap().as_deref(), Some("alice"));
        assert_eq!(sessions.user(&id).await.unwrap(), None);
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_static("a=1; atombot_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, "atombot_session"), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
