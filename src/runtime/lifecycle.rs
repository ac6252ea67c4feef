//! Installation lifecycle: `installation` and `installation_repositories` deliveries keep
//! the token cache and the installation resolver right, whatever handlers the bot has.
//!
//! - `installation.deleted` / `installation.suspend`: the installation's token is dropped
//!   and it is marked removed in the token cache, so its calls fail at once with
//!   [`Error::InstallationRemoved`]; the resolver forgets it; its queued handler units and
//!   jobs fail with "installation removed" when they come up instead of running.
//! - `installation.created` / `installation.unsuspend` / `new_permissions_accepted`: it
//!   works again (a fresh token is minted on its next call) and the resolver learns it.
//! - `installation_repositories.added` / `.removed`: its cached token is dropped, so the
//!   next one covers the new set of repositories.
//!
//! Applied by the receiver as soon as a delivery is verified, before it is queued. The
//! registry is per process: replicas each learn from the deliveries they receive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atombot_jobs::JobError;
use chrono::{DateTime, Utc};

use super::resolve::InstallationResolver;
use crate::auth::InstallationTokens;
use crate::error::Error;
use crate::models::{Installation, InstallationId};
use crate::webhook::{Delivery, events};

/// What the install page shows about one installation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Activity {
    /// When a delivery for it was last fanned out.
    pub(crate) last_delivery: Option<DateTime<Utc>>,
    /// Handler and job runs for it that ended in an error.
    pub(crate) failures: u64,
}

/// The lifecycle registry shared by the receiver, the worker and the install page.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    tokens: Option<InstallationTokens>,
    pub(crate) resolver: Arc<InstallationResolver>,
    activity: Mutex<HashMap<InstallationId, Activity>>,
}

impl Lifecycle {
    /// A registry over the app's token cache (none without app credentials) and resolver.
    pub(crate) fn new(
        tokens: Option<InstallationTokens>,
        resolver: Arc<InstallationResolver>,
    ) -> Self {
        Self {
            tokens,
            resolver,
            activity: Mutex::default(),
        }
    }

    /// Applies what `delivery` says about an installation, if it is a lifecycle event.
    pub(crate) async fn apply(&self, delivery: &Delivery) {
        let event = delivery.event();
        if event != events::INSTALLATION && event != events::INSTALLATION_REPOSITORIES {
            return;
        }
        let Some(id) = delivery.installation_id() else {
            tracing::debug!(event, "lifecycle delivery without an installation id");
            return;
        };
        let action = delivery.action().unwrap_or("");
        match (event, action) {
            (events::INSTALLATION, "deleted" | "suspend") => {
                if let Some(tokens) = &self.tokens {
                    tokens.remove(id).await;
                }
                let installation = installation_of(delivery);
                let account = installation.as_ref().map(|i| i.account.path.as_str());
                self.resolver.forget(id, account);
                tracing::info!(
                    installation = id.0,
                    action,
                    "installation removed: its token is dropped and its queued work will fail"
                );
            }
            (events::INSTALLATION, "created" | "unsuspend" | "new_permissions_accepted") => {
                if let Some(tokens) = &self.tokens {
                    tokens.restore(id);
                    tokens.forget(id).await;
                }
                if let Some(installation) = installation_of(delivery) {
                    self.resolver.learn(&installation);
                }
                tracing::info!(installation = id.0, action, "installation usable");
            }
            (events::INSTALLATION_REPOSITORIES, _) => {
                if let Some(tokens) = &self.tokens {
                    tokens.forget(id).await;
                }
                tracing::debug!(
                    installation = id.0,
                    action,
                    "installation repositories changed"
                );
            }
            _ => {}
        }
    }

    /// Whether `installation` was deleted or suspended (and not installed again since).
    pub(crate) fn is_removed(&self, installation: InstallationId) -> bool {
        self.tokens
            .as_ref()
            .is_some_and(|t| t.is_removed(installation))
    }

    /// The failure of work that comes up for a removed installation: at once, no retry.
    /// Lifecycle deliveries themselves still reach their handlers (to clean up).
    pub(crate) fn refuse(
        &self,
        installation: Option<InstallationId>,
        delivery: Option<&Delivery>,
    ) -> Result<(), JobError> {
        let Some(id) = installation else {
            return Ok(());
        };
        let lifecycle_event = delivery.is_some_and(|d| {
            d.event() == events::INSTALLATION || d.event() == events::INSTALLATION_REPOSITORIES
        });
        if self.is_removed(id) && !lifecycle_event {
            tracing::info!(
                installation = id.0,
                "work for a removed installation fails without running"
            );
            return Err(JobError::Abort(
                Error::InstallationRemoved { installation: id.0 }.to_string(),
            ));
        }
        Ok(())
    }

    /// Notes a delivery for `installation` now.
    pub(crate) fn delivered(&self, installation: InstallationId) {
        let mut activity = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        activity.entry(installation).or_default().last_delivery = Some(Utc::now());
    }

    /// Counts a handler or job run for `installation` that ended as `result` (errors
    /// only; work handed back unknown or postponed for a rate limit did not fail).
    pub(crate) fn finished(
        &self,
        installation: Option<InstallationId>,
        result: &Result<(), JobError>,
    ) {
        let (Some(id), Err(error)) = (installation, result) else {
            return;
        };
        if matches!(error, JobError::Unknown | JobError::Postpone(..)) {
            return;
        }
        let mut activity = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        activity.entry(id).or_default().failures += 1;
    }

    /// What is known of `installation`'s activity.
    pub(crate) fn activity(&self, installation: InstallationId) -> Activity {
        let activity = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        activity.get(&installation).cloned().unwrap_or_default()
    }
}

/// The `installation` object of a lifecycle delivery, if it decodes.
fn installation_of(delivery: &Delivery) -> Option<Installation> {
    let object = delivery.normalized_json().get("installation")?;
    match serde_json::from_value::<Installation>(object.clone()) {
        Ok(mut installation) => {
            if installation.account.path.is_empty() {
                installation.account.path = installation.account.login.clone();
            }
            Some(installation)
        }
        Err(error) => {
            tracing::debug!(%error, "the delivery's installation object does not decode");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::auth::{Mint, TokenCacheConfig};
    use crate::models::InstallationToken;

    struct NeverMint;

    impl Mint for NeverMint {
        fn mint(&self, _: InstallationId) -> BoxFuture<'static, crate::Result<InstallationToken>> {
            Box::pin(async { Err(Error::InvalidRequest("no mint in this test".into())) })
        }
    }

    fn lifecycle() -> Lifecycle {
        let client = crate::Client::builder().build().unwrap();
        Lifecycle::new(
            Some(InstallationTokens::new(
                NeverMint,
                TokenCacheConfig::default(),
            )),
            Arc::new(InstallationResolver::new(client)),
        )
    }

    fn delivery(event: &str, action: &str) -> Delivery {
        let body = serde_json::json!({
            "action": action,
            "installation": {"id": 7, "account": {"login": "acme"}},
        });
        Delivery::restore("d1", Some(event), Bytes::from(body.to_string())).unwrap()
    }

    #[tokio::test]
    async fn removal_refuses_work_but_not_lifecycle_deliveries() {
        let lifecycle = lifecycle();
        let id = Some(InstallationId(7));
        assert_eq!(lifecycle.refuse(id, None), Ok(()));
        lifecycle.apply(&delivery("installation", "suspend")).await;
        assert!(lifecycle.is_removed(InstallationId(7)));
        assert!(matches!(
            lifecycle.refuse(id, None),
            Err(JobError::Abort(m)) if m.starts_with("installation removed")
        ));
        let deleted = delivery("installation", "deleted");
        assert_eq!(lifecycle.refuse(id, Some(&deleted)), Ok(()));
        assert_eq!(lifecycle.refuse(Some(InstallationId(8)), None), Ok(()));
        // The owner still resolves, as the removed installation.
        assert_eq!(
            lifecycle.resolver.by_owner("ACME").await.unwrap(),
            Some(InstallationId(7))
        );
        lifecycle
            .apply(&delivery("installation", "unsuspend"))
            .await;
        assert_eq!(lifecycle.refuse(id, None), Ok(()));
    }

    #[test]
    fn only_real_failures_are_counted() {
        let lifecycle = lifecycle();
        let id = Some(InstallationId(7));
        lifecycle.finished(id, &Ok(()));
        lifecycle.finished(id, &Err(JobError::Unknown));
        lifecycle.finished(
            id,
            &Err(JobError::Postpone(std::time::Duration::ZERO, "x".into())),
        );
        lifecycle.finished(None, &Err(JobError::Abort("x".into())));
        assert_eq!(lifecycle.activity(InstallationId(7)).failures, 0);
        lifecycle.finished(id, &Err(JobError::Abort("x".into())));
        lifecycle.finished(id, &Err(JobError::Retry("x".into())));
        assert_eq!(lifecycle.activity(InstallationId(7)).failures, 2);
        assert_eq!(lifecycle.activity(InstallationId(7)).last_delivery, None);
        lifecycle.delivered(InstallationId(7));
        assert!(
            lifecycle
                .activity(InstallationId(7))
                .last_delivery
                .is_some()
        );
    }
}
