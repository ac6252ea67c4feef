//! Installation resolution: which installation a delivery came from.
//!
//! From the payload's `installation.id` when present; otherwise from the repository's
//! owner namespace matched against the app's installations (`account.path`), cached and
//! refreshed (once, however many deliveries miss at the same time) on a miss.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::error::Result;
use crate::models::InstallationId;
use crate::webhook::Delivery;

/// A refresh on a miss happens at most this often, so deliveries from an owner the app is
/// not installed on do not list installations each time.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Maps account paths to installation ids through `GET /app/installations`.
#[derive(Debug)]
pub struct InstallationResolver {
    app: Client,
    by_path: RwLock<HashMap<String, InstallationId>>,
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl InstallationResolver {
    /// Resolves through `app`, a client authenticated as the app.
    pub fn new(app: Client) -> Self {
        Self {
            app,
            by_path: RwLock::new(HashMap::new()),
            last_refresh: tokio::sync::Mutex::new(None),
        }
    }

    fn cached(&self, path: &str) -> Option<InstallationId> {
        let map = self.by_path.read().unwrap_or_else(|e| e.into_inner());
        map.get(&path.to_lowercase()).copied()
    }

    /// The installation of `delivery`, or `None` when the app has none for its owner.
    ///
    /// Fails when the installations cannot be listed.
    pub async fn resolve(&self, delivery: &Delivery) -> Result<Option<InstallationId>> {
        if let Some(id) = delivery.installation_id() {
            return Ok(Some(id));
        }
        match delivery.owner_path() {
            Some(owner) => self.by_owner(owner).await,
            None => Ok(None),
        }
    }

    /// The installation on account `owner` (an organisation or user path).
    pub async fn by_owner(&self, owner: &str) -> Result<Option<InstallationId>> {
        if let Some(id) = self.cached(owner) {
            return Ok(Some(id));
        }
        let mut last = self.last_refresh.lock().await;
        if let Some(id) = self.cached(owner) {
            return Ok(Some(id)); // another delivery refreshed while this one waited
        }
        if last.is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL) {
            return Ok(None);
        }
        let installations = self.app.installations().list().await?;
        *last = Some(Instant::now());
        let map: HashMap<String, InstallationId> = installations
            .into_iter()
            .map(|i| (i.account.path.to_lowercase(), i.id))
            .collect();
        tracing::debug!(installations = map.len(), "refreshed the installation map");
        *self.by_path.write().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(self.cached(owner))
    }
}
