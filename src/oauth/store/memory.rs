//! [`MemoryUserTokenStore`]: tokens in a map, for tests and throwaway bots.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use futures_util::future::BoxFuture;

use super::{UserToken, UserTokenStore, same_secret};
use crate::error::Result;

/// Keeps tokens in memory (unencrypted, lost on exit). For tests and demos.
#[derive(Debug, Default)]
pub struct MemoryUserTokenStore {
    tokens: Mutex<HashMap<String, UserToken>>,
}

impl MemoryUserTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users have tokens.
    pub fn len(&self) -> usize {
        self.map(|m| m.len())
    }

    /// Whether no user has tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn map<T>(&self, f: impl FnOnce(&mut HashMap<String, UserToken>) -> T) -> T {
        f(&mut self.tokens.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl UserTokenStore for MemoryUserTokenStore {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<UserToken>>> {
        let token = self.map(|m| m.get(user).cloned());
        Box::pin(async move { Ok(token) })
    }

    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, Result<()>> {
        self.map(|m| m.insert(token.user.clone(), token.clone()));
        Box::pin(async { Ok(()) })
    }

    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<bool>> {
        let removed = self.map(|m| m.remove(user).is_some());
        Box::pin(async move { Ok(removed) })
    }

    fn replace<'a>(
        &'a self,
        expected: &'a UserToken,
        new: &'a UserToken,
    ) -> BoxFuture<'a, Result<bool>> {
        let done = self.map(|m| match m.get_mut(&expected.user) {
            Some(stored) if same_secret(&stored.access_token, &expected.access_token) => {
                *stored = UserToken {
                    user: expected.user.clone(),
                    ..new.clone()
                };
                true
            }
            _ => false,
        });
        Box::pin(async move { Ok(done) })
    }

    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, Result<bool>> {
        let done = self.map(|m| {
            let same = m
                .get(&expected.user)
                .is_some_and(|s| same_secret(&s.access_token, &expected.access_token));
            same && m.remove(&expected.user).is_some()
        });
        Box::pin(async move { Ok(done) })
    }
}
