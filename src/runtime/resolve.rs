//! Installation resolution: which installation a delivery came from.
//!
//! From the payload's `installation.id` when present; otherwise from the repository's
//! owner namespace matched against the app's installations (`account.path`), cached and
//! refreshed on a miss — once however many deliveries miss at the same time, and without
//! holding any lock while the installations are listed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{Installation, InstallationId};
use crate::webhook::Delivery;

/// A refresh on a miss happens at most this often, so deliveries from an owner the app is
/// not installed on do not list installations each time.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

type Paths = Arc<RwLock<HashMap<String, InstallationId>>>;
/// The last listing of the app's installations (`None` before the first).
type Listed = Arc<RwLock<Option<Vec<Installation>>>>;
type Refresh = Shared<BoxFuture<'static, std::result::Result<(), Arc<Error>>>>;

/// Maps account paths to installation ids through `GET /app/installations`.
#[derive(Debug)]
pub struct InstallationResolver {
    app: Client,
    by_path: Paths,
    /// Paths of deleted or suspended installations: they resolve to the removed id (whose
    /// work then fails with "installation removed") rather than to no installation.
    removed: Paths,
    listed: Listed,
    refresh: Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    /// When the last successful refresh finished.
    last: Option<Instant>,
    /// The refresh in flight, shared by every caller that missed meanwhile.
    running: Option<Refresh>,
}

impl std::fmt::Debug for RefreshState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshState")
            .field("last", &self.last)
            .field("running", &self.running.is_some())
            .finish()
    }
}

impl InstallationResolver {
    /// Resolves through `app`, a client authenticated as the app.
    pub fn new(app: Client) -> Self {
        Self {
            app,
            by_path: Arc::default(),
            removed: Arc::default(),
            listed: Arc::default(),
            refresh: Mutex::default(),
        }
    }

    fn cached(&self, path: &str) -> Option<InstallationId> {
        let path: std::borrow::Cow<'_, str> = if path.chars().any(char::is_uppercase) {
            path.to_lowercase().into()
        } else {
            path.into()
        };
        let path = path.as_ref();
        let known = self.by_path.read().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = known.get(path) {
            return Some(*id);
        }
        drop(known);
        let removed = self.removed.read().unwrap_or_else(|e| e.into_inner());
        removed.get(path).copied()
    }

    /// The installation of `delivery`, or `None` when the app has none for its owner.
    ///
    /// Fails with [`Error::Installations`] when the installations cannot be listed.
    pub async fn resolve(&self, delivery: &Delivery) -> Result<Option<InstallationId>> {
        if let Some(id) = delivery.installation_id() {
            return Ok(Some(id));
        }
        match delivery.owner_path() {
            Some(owner) => self.by_owner(owner).await,
            None => Ok(None),
        }
    }

    /// The installation of `delivery` when it is known without a request (from the payload
    /// or the cache): `Some(None)` when the delivery names no owner, `None` when resolving
    /// it would list the installations.
    pub(crate) fn resolve_cached(&self, delivery: &Delivery) -> Option<Option<InstallationId>> {
        if let Some(id) = delivery.installation_id() {
            return Some(Some(id));
        }
        match delivery.owner_path() {
            // Not cached, but listed so recently that `by_owner` would not list again.
            Some(owner) => self
                .cached(owner)
                .map(Some)
                .or_else(|| self.recently_listed().then_some(None)),
            None => Some(None),
        }
    }

    /// Whether the installations were listed less than [`MIN_REFRESH_INTERVAL`] ago and no
    /// listing is in flight.
    fn recently_listed(&self) -> bool {
        let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        state.running.is_none()
            && state
                .last
                .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL)
    }

    /// The installation on account `owner` (an organisation or user path).
    ///
    /// Fails with [`Error::Installations`] when the installations cannot be listed.
    pub async fn by_owner(&self, owner: &str) -> Result<Option<InstallationId>> {
        if let Some(id) = self.cached(owner) {
            return Ok(Some(id));
        }
        if !self.refreshed(true).await? {
            return Ok(None);
        }
        Ok(self.cached(owner))
    }
}

impl InstallationResolver {
    /// Lists the installations again, joining a listing already in flight. With
    /// `rate_limited`, returns `false` without listing when the last listing is recent.
    ///
    /// Fails with [`Error::Installations`] when the installations cannot be listed.
    async fn refreshed(&self, rate_limited: bool) -> Result<bool> {
        let refresh = {
            let mut state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
            match &state.running {
                Some(running) => running.clone(),
                None => {
                    if rate_limited
                        && state
                            .last
                            .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL)
                    {
                        return Ok(false);
                    }
                    let running =
                        refresh(self.app.clone(), self.by_path.clone(), self.listed.clone())
                            .boxed()
                            .shared();
                    state.running = Some(running.clone());
                    running
                }
            }
        };
        // No lock is held while the installations are listed.
        let result = refresh.clone().await;
        {
            let mut state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
            if state.running.as_ref().is_some_and(|r| r.ptr_eq(&refresh)) {
                state.running = None;
                if result.is_ok() {
                    state.last = Some(Instant::now());
                }
            }
        }
        result.map_err(|source| Error::Installations { source })?;
        Ok(true)
    }

    /// The app's installations as last listed, listed again when that is older than
    /// `max_age` (or never happened); changes that deliveries announced are applied.
    ///
    /// Fails with [`Error::Installations`] when the installations cannot be listed.
    pub(crate) async fn listing(&self, max_age: Duration) -> Result<Vec<Installation>> {
        let fresh = {
            let state = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
            state.last.is_some_and(|t| t.elapsed() < max_age)
        };
        if !fresh {
            self.refreshed(false).await?;
        }
        let listed = self.listed.read().unwrap_or_else(|e| e.into_inner());
        Ok(listed.clone().unwrap_or_default())
    }

    /// Forgets `installation` (deleted or suspended), on `account` if the delivery said:
    /// its owner resolves to it only as a removed installation, and listings leave it out
    /// until the platform lists it again.
    pub(crate) fn forget(&self, installation: InstallationId, account: Option<&str>) {
        let mut gone: Vec<String> = account
            .filter(|a| !a.is_empty())
            .map(str::to_lowercase)
            .into_iter()
            .collect();
        self.by_path
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|path, id| {
                if *id == installation {
                    gone.push(path.clone());
                }
                *id != installation
            });
        let mut removed = self.removed.write().unwrap_or_else(|e| e.into_inner());
        removed.extend(gone.into_iter().map(|path| (path, installation)));
        drop(removed);
        if let Some(listed) = self
            .listed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            listed.retain(|i| i.id != installation);
        }
    }

    /// Learns `installation` (created or unsuspended) from a delivery, without a listing.
    pub(crate) fn learn(&self, installation: &Installation) {
        self.removed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, id| *id != installation.id);
        if !installation.account.path.is_empty() {
            self.by_path
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(installation.account.path.to_lowercase(), installation.id);
        }
        if let Some(listed) = self
            .listed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            match listed.iter_mut().find(|i| i.id == installation.id) {
                Some(known) => *known = installation.clone(),
                None => listed.push(installation.clone()),
            }
        }
    }
}

/// Lists the app's installations into `paths` and `listed`.
async fn refresh(app: Client, paths: Paths, listed: Listed) -> std::result::Result<(), Arc<Error>> {
    let installations = app.installations().list().await.map_err(Arc::new)?;
    let map: HashMap<String, InstallationId> = installations
        .iter()
        .map(|i| (i.account.path.to_lowercase(), i.id))
        .collect();
    tracing::debug!(installations = map.len(), "refreshed the installation map");
    *paths.write().unwrap_or_else(|e| e.into_inner()) = map;
    *listed.write().unwrap_or_else(|e| e.into_inner()) = Some(installations);
    Ok(())
}
