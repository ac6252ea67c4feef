//! `installation` and `installation_repositories`: the app's installations.

use serde::{Deserialize, Serialize};

use super::de;
use super::{Account, User};

/// An installation of the app on an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Installation {
    /// The installation id (used to mint access tokens).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The app id.
    #[serde(deserialize_with = "de::id")]
    pub app_id: u64,
    /// The app slug.
    pub app_slug: Option<String>,
    /// The account the app is installed on.
    #[serde(deserialize_with = "de::or_default")]
    pub account: Account,
    /// `all`/`ALL` or `selected`.
    pub repository_selection: Option<String>,
    /// Events the installation subscribes to (the platform may send odd strings here).
    #[serde(deserialize_with = "de::or_default")]
    pub events: Vec<serde_json::Value>,
    /// Permissions granted, as sent.
    #[serde(deserialize_with = "de::or_default")]
    pub permissions: serde_json::Map<String, serde_json::Value>,
    /// Creation time as sent.
    pub created_at: Option<String>,
    /// Last update time as sent.
    pub updated_at: Option<String>,
}

/// A repository listed in an installation event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationRepository {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Short name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `owner/name`.
    #[serde(deserialize_with = "de::string")]
    pub full_name: String,
    /// Whether it is private.
    #[serde(deserialize_with = "de::or_default")]
    pub private: bool,
}

/// The `installation` payload: `created`, `deleted`, `suspend`, `unsuspend`, …
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The installation.
    #[serde(deserialize_with = "de::or_default")]
    pub installation: Installation,
    /// Repositories the installation can access (`created`), when sent.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories: Vec<InstallationRepository>,
    /// Who acted.
    #[serde(deserialize_with = "de::or_default")]
    pub sender: User,
}

/// The `installation_repositories` payload: `added` or `removed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationRepositoriesEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The installation.
    #[serde(deserialize_with = "de::or_default")]
    pub installation: Installation,
    /// `all` or `selected`, after the change.
    pub repository_selection: Option<String>,
    /// Repositories added.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories_added: Vec<InstallationRepository>,
    /// Repositories removed.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories_removed: Vec<InstallationRepository>,
    /// Who acted.
    #[serde(deserialize_with = "de::or_default")]
    pub sender: User,
}
