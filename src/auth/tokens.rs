//! The installation-token cache: one mint per installation at a time, reuse until a
//! margin before expiry, bounded size with least-recently-used eviction.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use moka::Expiry;
use moka::ops::compute::Op;
use secrecy::{ExposeSecret, SecretString};

use super::TokenSource;
use crate::error::{Error, Result};
use crate::models::{InstallationId, InstallationToken};

/// Mints a new access token for an installation (the platform's
/// `POST /app/installations/{id}/access_tokens`, or anything else in tests).
pub trait Mint: Send + Sync + 'static {
    /// Mints a token for `installation`.
    fn mint(&self, installation: InstallationId) -> BoxFuture<'static, Result<InstallationToken>>;
}

/// Settings of the installation-token cache.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenCacheConfig {
    /// A token is replaced this long before its `expires_at` (default 5 minutes).
    pub refresh_margin: Duration,
    /// At most this many installations are cached (default 10,000); the least recently
    /// used is evicted first.
    pub capacity: u64,
}

impl Default for TokenCacheConfig {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            capacity: 10_000,
        }
    }
}

impl TokenCacheConfig {
    /// Sets the refresh margin.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets the capacity.
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }
}

#[derive(Clone)]
struct Cached {
    token: SecretString,
    expires_at: DateTime<Utc>,
}

struct ExpireBeforeDeadline {
    margin: chrono::Duration,
}

impl Expiry<InstallationId, Cached> for ExpireBeforeDeadline {
    fn expire_after_create(&self, _: &InstallationId, v: &Cached, _: Instant) -> Option<Duration> {
        let usable_until = v.expires_at - self.margin;
        Some(
            (usable_until - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// Caches installation access tokens, minting through a [`Mint`].
///
/// Any number of concurrent callers for an installation without a usable token cause
/// exactly one mint; a failed mint is reported to all of them and is not cached.
/// Cloning is cheap and shares the cache.
#[derive(Clone)]
pub struct InstallationTokens {
    cache: moka::future::Cache<InstallationId, Cached>,
    minter: Arc<dyn Mint>,
    mints: Arc<AtomicU64>,
    /// Installations deleted or suspended: no token is handed out for them.
    removed: Arc<RwLock<HashSet<InstallationId>>>,
}

impl std::fmt::Debug for InstallationTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationTokens")
            .field("cached", &self.cache.entry_count())
            .field("mints", &self.mints())
            .field("removed", &self.removed_ids().len())
            .finish()
    }
}

impl InstallationTokens {
    /// A cache minting through `minter`.
    pub fn new(minter: impl Mint, config: TokenCacheConfig) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(config.capacity)
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .expire_after(ExpireBeforeDeadline {
                margin: chrono::Duration::from_std(config.refresh_margin)
                    .unwrap_or(chrono::Duration::MAX),
            })
            .build();
        Self {
            cache,
            minter: Arc::new(minter),
            mints: Arc::new(AtomicU64::new(0)),
            removed: Arc::default(),
        }
    }

    /// A usable token for `installation`, minting one if none is cached or the cached one
    /// is within the refresh margin of its expiry.
    ///
    /// Fails with [`Error::InstallationToken`] when the mint fails, and at once with
    /// [`Error::InstallationRemoved`] when the installation is [removed](Self::remove).
    pub async fn get(&self, installation: InstallationId) -> Result<SecretString> {
        self.check_present(installation)?;
        let token = self.get_or_mint(installation).await?;
        // Removed while the mint was in flight: do not hand out (or keep) its token.
        if self.check_present(installation).is_err() {
            self.cache.invalidate(&installation).await;
            self.check_present(installation)?;
        }
        Ok(token)
    }

    fn check_present(&self, installation: InstallationId) -> Result<()> {
        if self.is_removed(installation) {
            return Err(Error::InstallationRemoved {
                installation: installation.0,
            });
        }
        Ok(())
    }

    /// Marks `installation` deleted or suspended and drops its cached token: until
    /// [`restore`](Self::restore), [`get`](Self::get) fails at once with
    /// [`Error::InstallationRemoved`]. Returns whether it was present before.
    pub async fn remove(&self, installation: InstallationId) -> bool {
        let newly = self
            .removed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(installation);
        self.cache.invalidate(&installation).await;
        newly
    }

    /// Drops the cached token of `installation`, whatever it is: the next call mints one
    /// (after its repositories or permissions changed, say).
    pub async fn forget(&self, installation: InstallationId) {
        self.cache.invalidate(&installation).await;
    }

    /// Makes a [removed](Self::remove) installation usable again (it was installed again or
    /// unsuspended); its next call mints a fresh token. Returns whether it was removed.
    pub fn restore(&self, installation: InstallationId) -> bool {
        self.removed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&installation)
    }

    /// Whether `installation` is [removed](Self::remove).
    pub fn is_removed(&self, installation: InstallationId) -> bool {
        self.removed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&installation)
    }

    /// The [removed](Self::remove) installations.
    pub fn removed_ids(&self) -> Vec<InstallationId> {
        let mut ids: Vec<_> = self
            .removed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        ids.sort_unstable();
        ids
    }

    async fn get_or_mint(&self, installation: InstallationId) -> Result<SecretString> {
        let minter = self.minter.clone();
        let mints = self.mints.clone();
        self.cache
            .try_get_with(installation, async move {
                mints.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(installation = installation.0, "minting installation token");
                let t = minter.mint(installation).await?;
                Ok::<_, Error>(Cached {
                    token: t.token,
                    expires_at: t.expires_at.to_utc(),
                })
            })
            .await
            .map(|c| c.token)
            .map_err(|source| Error::InstallationToken {
                installation: installation.0,
                source,
            })
    }

    /// Drops the cached token of `installation` if it is still `rejected`.
    pub async fn invalidate(&self, installation: InstallationId, rejected: &SecretString) {
        self.cache
            .entry(installation)
            .and_compute_with(|entry| {
                let op = match entry {
                    Some(e) if e.value().token.expose_secret() == rejected.expose_secret() => {
                        Op::Remove
                    }
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
    }

    /// How many mints this cache has started.
    pub fn mints(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    /// A [`TokenSource`] for one installation.
    pub fn source(&self, installation: InstallationId) -> InstallationTokenSource {
        InstallationTokenSource {
            tokens: self.clone(),
            installation,
        }
    }
}

/// The `ats_` token of one installation, drawn from an [`InstallationTokens`] cache.
#[derive(Debug, Clone)]
pub struct InstallationTokenSource {
    tokens: InstallationTokens,
    installation: InstallationId,
}

impl TokenSource for InstallationTokenSource {
    fn token(&self) -> BoxFuture<'_, Result<SecretString>> {
        Box::pin(self.tokens.get(self.installation))
    }

    fn invalidate<'a>(&'a self, rejected: &'a SecretString) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.tokens.invalidate(self.installation, rejected).await;
            true
        })
    }

    fn rate_key(&self) -> String {
        format!("installation:{}", self.installation)
    }
}
