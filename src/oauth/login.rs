//! [`LoginStore`]: pending logins (`state` values) and signed-in browser sessions.
//!
//! With a Redis or Postgres token store they live on its server
//! ([`UserTokenStore::login_store`](super::UserTokenStore::login_store)), so a login started
//! on one replica finishes on another and a session works on every replica; otherwise in
//! this process ([`MemoryLoginStore`]), where a restart signs browsers out of the bot's pages
//! (their stored tokens stay) and abandons logins in progress.
//!
//! Keys are SHA-256 digests of what the browser holds: a store never sees a live `state`
//! or session id.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::error::Result;

/// Most sessions one [`MemoryLoginStore`] keeps (past this the one closest to its end goes).
pub const MAX_MEMORY_SESSIONS: usize = 100_000;

/// Storage for pending logins and browser sessions, shared by every replica that uses it.
///
/// Every method must be atomic on its own: two replicas taking one `state` at once must not
/// both get it.
pub trait LoginStore: fmt::Debug + Send + Sync + 'static {
    /// Records pending login `key` (issued at `issued_at`), kept until `forget_at`.
    ///
    /// Resolves to `false` when the store is full: the new login is refused and nothing
    /// already pending is evicted.
    fn put_state<'a>(
        &'a self,
        key: &'a str,
        issued_at: DateTime<Utc>,
        forget_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Removes pending login `key`; resolves to when it was issued, or `None` if it is
    /// unknown, already taken or forgotten.
    fn take_state<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<DateTime<Utc>>>>;

    /// Starts session `key` for `user`, live until `expires_at`, then ends `user`'s oldest
    /// sessions beyond `max_per_user`.
    fn start_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        expires_at: DateTime<Utc>,
        max_per_user: usize,
    ) -> BoxFuture<'a, Result<()>>;

    /// The user of session `key` if it is live.
    fn session_user<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>>;

    /// Ends session `key`; resolves to its user.
    fn end_session<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>>;

    /// Ends every session of `user`.
    fn end_sessions_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<()>>;
}

#[derive(Debug)]
struct Pending {
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    forget_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Session {
    user: String,
    started: u64,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct Maps {
    states: HashMap<String, Pending>,
    sessions: HashMap<String, Session>,
    started: u64,
    issued: u64,
}

/// Sweep forgotten logins (and ended sessions) once every this many writes, or when full.
const SWEEP_EVERY: u64 = 256;

/// Pending logins and sessions in this process's memory, bounded: at most `max_pending`
/// pending logins (a flood past that is refused, never evicting a pending one) and
/// [`MAX_MEMORY_SESSIONS`] sessions. Its `Debug` output shows counts only.
pub struct MemoryLoginStore {
    max_pending: usize,
    state_ttl: chrono::Duration,
    maps: Mutex<Maps>,
}

impl fmt::Debug for MemoryLoginStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLoginStore")
            .field("max_pending", &self.max_pending)
            .field("pending", &self.pending())
            .field("sessions", &self.sessions())
            .finish()
    }
}

impl MemoryLoginStore {
    /// A store for at most `max_pending` pending logins, each accepted for `state_ttl`.
    pub fn new(max_pending: usize, state_ttl: std::time::Duration) -> Self {
        Self {
            max_pending,
            state_ttl: chrono::Duration::from_std(state_ttl).unwrap_or(chrono::Duration::MAX),
            maps: Mutex::new(Maps::default()),
        }
    }

    /// How many logins are pending (including expired ones still remembered).
    pub fn pending(&self) -> usize {
        self.with(|m| m.states.len())
    }

    /// How many sessions are kept (including ended ones not yet swept).
    pub fn sessions(&self) -> usize {
        self.with(|m| m.sessions.len())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Maps) -> T) -> T {
        f(&mut self.maps.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Maps {
    fn put_state(
        &mut self,
        max: usize,
        ttl: chrono::Duration,
        key: &str,
        issued_at: DateTime<Utc>,
        forget_at: DateTime<Utc>,
    ) -> bool {
        let now = Utc::now();
        self.issued += 1;
        if self.issued.is_multiple_of(SWEEP_EVERY) || self.states.len() >= max {
            self.states.retain(|_, p| p.forget_at > now);
        }
        if self.states.len() >= max {
            // Expired logins only serve a clearer "expired" page: drop them before refusing.
            self.states.retain(|_, p| p.expires_at > now);
        }
        if self.states.len() >= max {
            return false;
        }
        let expires_at = issued_at.checked_add_signed(ttl).unwrap_or(forget_at);
        self.states.insert(
            key.to_owned(),
            Pending {
                issued_at,
                expires_at,
                forget_at,
            },
        );
        true
    }

    fn start_session(&mut self, key: &str, user: &str, expires_at: DateTime<Utc>, max: usize) {
        let now = Utc::now();
        if self.started.is_multiple_of(SWEEP_EVERY) || self.sessions.len() >= MAX_MEMORY_SESSIONS {
            self.sessions.retain(|_, s| s.expires_at > now);
        }
        if self.sessions.len() >= MAX_MEMORY_SESSIONS
            && let Some(first) = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| (s.expires_at, s.started))
                .map(|(k, _)| k.clone())
        {
            self.sessions.remove(&first);
        }
        self.started += 1;
        self.sessions.insert(
            key.to_owned(),
            Session {
                user: user.to_owned(),
                started: self.started,
                expires_at,
            },
        );
        let mut mine: Vec<(u64, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.user == user)
            .map(|(k, s)| (s.started, k.clone()))
            .collect();
        if mine.len() > max {
            mine.sort_unstable();
            let excess = mine.len() - max;
            for (_, k) in mine.into_iter().take(excess) {
                self.sessions.remove(&k);
            }
        }
    }
}

impl LoginStore for MemoryLoginStore {
    fn put_state<'a>(
        &'a self,
        key: &'a str,
        issued_at: DateTime<Utc>,
        forget_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>> {
        let ok =
            self.with(|m| m.put_state(self.max_pending, self.state_ttl, key, issued_at, forget_at));
        Box::pin(async move { Ok(ok) })
    }

    fn take_state<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<DateTime<Utc>>>> {
        let now = Utc::now();
        let issued = self.with(|m| {
            m.states
                .remove(key)
                .filter(|p| p.forget_at > now)
                .map(|p| p.issued_at)
        });
        Box::pin(async move { Ok(issued) })
    }

    fn start_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        expires_at: DateTime<Utc>,
        max_per_user: usize,
    ) -> BoxFuture<'a, Result<()>> {
        self.with(|m| m.start_session(key, user, expires_at, max_per_user));
        Box::pin(async { Ok(()) })
    }

    fn session_user<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        let now = Utc::now();
        let user = self.with(|m| {
            m.sessions
                .get(key)
                .filter(|s| s.expires_at > now)
                .map(|s| s.user.clone())
        });
        Box::pin(async move { Ok(user) })
    }

    fn end_session<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        let user = self.with(|m| m.sessions.remove(key).map(|s| s.user));
        Box::pin(async move { Ok(user) })
    }

    fn end_sessions_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<()>> {
        self.with(|m| m.sessions.retain(|_, s| s.user != user));
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn block<T>(f: BoxFuture<'_, Result<T>>) -> T {
        futures_util::FutureExt::now_or_never(f).unwrap().unwrap()
    }

    #[test]
    fn a_full_store_refuses_instead_of_evicting() {
        let store = MemoryLoginStore::new(2, Duration::from_secs(60));
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        assert!(block(store.put_state("a", now, later)));
        assert!(block(store.put_state("b", now, later)));
        assert!(!block(store.put_state("c", now, later)));
        assert_eq!(block(store.take_state("a")), Some(now));
        assert_eq!(block(store.take_state("a")), None);
        assert!(block(store.put_state("c", now, later)));
        // An expired pending login gives way to a new one when the store is full.
        let old = now - chrono::Duration::minutes(5);
        let full = MemoryLoginStore::new(1, Duration::from_secs(60));
        assert!(block(full.put_state("old", old, later)));
        assert!(block(full.put_state("new", now, later)));
        assert_eq!(full.pending(), 1);
    }

    #[test]
    fn sessions_are_capped_per_user_and_expire() {
        let store = MemoryLoginStore::new(10, Duration::from_secs(60));
        let end = Utc::now() + chrono::Duration::hours(1);
        for k in ["s1", "s2", "s3"] {
            block(store.start_session(k, "alice", end, 2));
        }
        block(store.start_session("b1", "bob", end, 2));
        assert_eq!(block(store.session_user("s1")), None);
        assert_eq!(block(store.session_user("s3")).as_deref(), Some("alice"));
        assert_eq!(block(store.end_session("s2")).as_deref(), Some("alice"));
        block(store.end_sessions_of("alice"));
        assert_eq!(block(store.session_user("s3")), None);
        assert_eq!(block(store.session_user("b1")).as_deref(), Some("bob"));
        let gone = Utc::now() - chrono::Duration::seconds(1);
        block(store.start_session("x", "carol", gone, 2));
        assert_eq!(block(store.session_user("x")), None);
    }
}
