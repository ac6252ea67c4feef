//! [`UserTokenSource`]: a signed-in user's `atu_` token for the client's auth layer,
//! refreshed ahead of expiry, one refresh at a time per user, and again once on a 401.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::flow::Refused;
use super::{Inner, OAuthError, UserToken};
use crate::auth::TokenSource;
use crate::error::Result;

/// Per-user refresh lock and the token the platform last refused.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    refresh: tokio::sync::Mutex<()>,
    rejected: Mutex<Option<SecretString>>,
}

impl Slot {
    fn rejected(&self, token: &SecretString) -> bool {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|r| r.expose_secret() == token.expose_secret())
    }

    fn set_rejected(&self, token: Option<SecretString>) {
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }
}

/// Per-user slots, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Slots(Mutex<HashMap<String, Arc<Slot>>>);

impl Slots {
    fn get(&self, user: &str) -> Arc<Slot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(user.to_owned()).or_default().clone()
    }
}

impl Inner {
    /// Whether `token` can be sent now: not refused and not within the refresh margin.
    fn usable(&self, token: &UserToken, slot: &Slot) -> bool {
        let margin = chrono::Duration::from_std(self.settings.refresh_margin)
            .unwrap_or(chrono::Duration::MAX);
        let deadline = token
            .expires_at
            .checked_sub_signed(margin)
            .unwrap_or(token.expires_at);
        deadline > Utc::now() && !slot.rejected(&token.access_token)
    }

    /// The user's access token, refreshed first if it is about to expire or was refused.
    pub(crate) async fn access_token(&self, user: &str) -> Result<SecretString> {
        let slot = self.slots.get(user);
        if let Some(token) = self.store.get(user).await?
            && self.usable(&token, &slot)
        {
            return Ok(token.access_token);
        }
        let _one_at_a_time = slot.refresh.lock().await;
        // Another task may have refreshed while this one waited.
        let current = self
            .store
            .get(user)
            .await?
            .ok_or_else(|| OAuthError::sign_in_again(user, "no stored authorization"))?;
        if self.usable(&current, &slot) {
            return Ok(current.access_token);
        }
        Ok(self.refresh_locked(&slot, current).await?.access_token)
    }

    /// Refreshes now, whatever the token's expiry.
    pub(crate) async fn force_refresh(&self, user: &str) -> Result<UserToken> {
        let slot = self.slots.get(user);
        let _one_at_a_time = slot.refresh.lock().await;
        let current = self
            .store
            .get(user)
            .await?
            .ok_or_else(|| OAuthError::sign_in_again(user, "no stored authorization"))?;
        self.refresh_locked(&slot, current).await
    }

    /// Refreshes `current` (the caller holds the user's refresh lock) and stores the result.
    async fn refresh_locked(&self, slot: &Slot, current: UserToken) -> Result<UserToken> {
        let user = current.user.clone();
        let now = Utc::now();
        let refresh_token = match &current.refresh_token {
            Some(r) if current.refresh_expires_at.is_none_or(|at| at > now) => r.clone(),
            Some(_) => return Err(self.forget(&user, "the refresh token has expired").await),
            None => return Err(self.forget(&user, "no refresh token was issued").await),
        };
        match self.endpoint.refresh(&refresh_token).await {
            Ok(set) => {
                // Store whichever refresh token came back; keep ours if none did.
                let (refresh_token, refresh_expires_at) = match set.refresh_token {
                    Some(new) => (Some(new), set.refresh_expires_at),
                    None => (
                        current.refresh_token,
                        set.refresh_expires_at.or(current.refresh_expires_at),
                    ),
                };
                let token = UserToken {
                    user: user.clone(),
                    access_token: set.access_token,
                    expires_at: set.expires_at,
                    refresh_token,
                    refresh_expires_at,
                };
                self.store.put(&token).await?;
                slot.set_rejected(None);
                tracing::info!(user = %user, expires_at = %token.expires_at, "refreshed a user token");
                Ok(token)
            }
            Err(Refused::Rejected { status, message }) => {
                tracing::warn!(user = %user, %status, %message, "refresh token refused");
                Err(self
                    .forget(
                        &user,
                        format!("the platform refused the refresh token ({status})"),
                    )
                    .await)
            }
            Err(Refused::Other(error)) => Err(error),
        }
    }

    /// Removes the user's record and returns the "sign in again" error.
    async fn forget(&self, user: &str, reason: impl Into<String>) -> crate::Error {
        let reason = reason.into();
        if let Err(error) = self.store.remove(user).await {
            tracing::error!(user, %error, "could not remove a dead user token");
        }
        tracing::info!(user, %reason, "user must sign in again");
        OAuthError::sign_in_again(user, reason).into()
    }
}

/// The [`TokenSource`] of a signed-in user's client (see
/// [`OAuth::user_client`](super::OAuth::user_client)).
#[derive(Clone)]
pub struct UserTokenSource {
    user: String,
    inner: Arc<Inner>,
}

impl UserTokenSource {
    pub(crate) fn new(user: String, inner: Arc<Inner>) -> Self {
        Self { user, inner }
    }

    /// The user's login.
    pub fn user(&self) -> &str {
        &self.user
    }
}

impl std::fmt::Debug for UserTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTokenSource")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl TokenSource for UserTokenSource {
    fn token(&self) -> BoxFuture<'_, Result<SecretString>> {
        Box::pin(self.inner.access_token(&self.user))
    }

    fn invalidate<'a>(&'a self, rejected: &'a SecretString) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            tracing::debug!(user = %self.user, "user token refused with 401; will refresh");
            self.inner
                .slots
                .get(&self.user)
                .set_rejected(Some(rejected.clone()));
            true
        })
    }

    fn rate_key(&self) -> String {
        format!("user:{}", self.user)
    }
}
