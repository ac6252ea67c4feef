//! [`UserTokenSource`]: a signed-in user's `atu_` token for the client's auth layer,
//! refreshed ahead of expiry, one refresh at a time per user, and again once on a 401.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::flow::Refused;
use super::store::same_secret;
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

/// How long a replica whose refresh was refused waits before re-reading the store once
/// more, for a winner that is still writing the rotated token.
const WINNER_GRACE: Duration = Duration::from_millis(500);

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
    pub(crate) async fn access_token(self: &Arc<Self>, user: &str) -> Result<SecretString> {
        let slot = self.slots.get(user);
        if let Some(token) = self.store.get(user).await?
            && self.usable(&token, &slot)
        {
            return Ok(token.access_token);
        }
        Ok(self.refresh_detached(user, slot, false).await?.access_token)
    }

    /// Refreshes now, whatever the token's expiry.
    pub(crate) async fn force_refresh(self: &Arc<Self>, user: &str) -> Result<UserToken> {
        let slot = self.slots.get(user);
        self.refresh_detached(user, slot, true).await
    }

    /// Takes the user's refresh lock and refreshes (unless `force` is off and another task
    /// already did) in a task of its own, so that a caller who gives up midway does not
    /// lose a refresh token the platform has already rotated.
    async fn refresh_detached(
        self: &Arc<Self>,
        user: &str,
        slot: Arc<Slot>,
        force: bool,
    ) -> Result<UserToken> {
        let inner = self.clone();
        let user = user.to_owned();
        let task = tokio::spawn(async move {
            let _one_at_a_time = slot.refresh.lock().await;
            // Another task may have refreshed while this one waited.
            let current = inner
                .store
                .get(&user)
                .await?
                .ok_or_else(|| OAuthError::sign_in_again(&user, "no stored authorization"))?;
            if !force && inner.usable(&current, &slot) {
                return Ok(current);
            }
            inner.refresh_locked(&slot, current).await
        });
        match task.await {
            Ok(result) => result,
            Err(error) => Err(OAuthError::store(
                "refresh",
                format!("the refresh task failed: {error}"),
            )
            .into()),
        }
    }

    /// Refreshes `current` (the caller holds the user's refresh lock) and stores the result
    /// if the record is still `current`; otherwise another replica refreshed first and its
    /// stored tokens are returned.
    async fn refresh_locked(&self, slot: &Slot, current: UserToken) -> Result<UserToken> {
        let user = current.user.clone();
        let now = Utc::now();
        let refresh_token = match &current.refresh_token {
            Some(r) if current.refresh_expires_at.is_none_or(|at| at > now) => r.clone(),
            Some(_) => return Err(self.forget(&current, "the refresh token has expired").await),
            None => return Err(self.forget(&current, "no refresh token was issued").await),
        };
        match self.endpoint.refresh(&refresh_token).await {
            Ok(set) => {
                // Store whichever refresh token came back; keep ours if none did.
                let (refresh_token, refresh_expires_at) = match set.refresh_token {
                    Some(new) => (Some(new), set.refresh_expires_at),
                    None => (
                        current.refresh_token.clone(),
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
                slot.set_rejected(None);
                if self.store.replace(&current, &token).await? {
                    tracing::info!(user = %user, expires_at = %token.expires_at, "refreshed a user token");
                    return Ok(token);
                }
                // Another replica stored first (or the user signed out): theirs stands.
                tracing::info!(user = %user, "another replica refreshed first; using its token");
                self.store.get(&user).await?.ok_or_else(|| {
                    OAuthError::sign_in_again(&user, "signed out during a refresh").into()
                })
            }
            Err(Refused::Rejected { status, message }) => {
                // A replica that rotated the token first has stored (or is storing) a new one.
                if let Some(winner) = self.rotated_elsewhere(&current).await? {
                    tracing::info!(user = %user, "refresh lost a race with another replica; using its token");
                    return Ok(winner);
                }
                tracing::warn!(user = %user, %status, %message, "refresh token refused");
                Err(self
                    .forget(
                        &current,
                        format!("the platform refused the refresh token ({status})"),
                    )
                    .await)
            }
            Err(Refused::Other(error)) => Err(error),
        }
    }

    /// The record another replica stored in place of `current`, re-reading once more after
    /// [`WINNER_GRACE`] in case it is still being written.
    async fn rotated_elsewhere(&self, current: &UserToken) -> Result<Option<UserToken>> {
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(WINNER_GRACE).await;
            }
            match self.store.get(&current.user).await? {
                Some(stored) if !same_secret(&stored.access_token, &current.access_token) => {
                    return Ok(Some(stored));
                }
                Some(_) => {}
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Removes the user's record if it is still `current` and returns the "sign in again"
    /// error.
    async fn forget(&self, current: &UserToken, reason: impl Into<String>) -> crate::Error {
        let user = current.user.as_str();
        let reason = reason.into();
        if let Err(error) = self.store.remove_if(current).await {
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
