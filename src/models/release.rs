//! Releases.

use serde::{Deserialize, Serialize};

use super::user::lenient as lenient_user;
use super::{ReleaseId, Timestamp, User, de};

/// A release of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Release {
    /// The release's id.
    pub id: ReleaseId,
    /// The tag it is built from.
    #[serde(deserialize_with = "de::string")]
    pub tag_name: String,
    /// Title.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Notes (Markdown).
    #[serde(deserialize_with = "de::opt_string")]
    pub body: Option<String>,
    /// Whether it is a draft.
    #[serde(deserialize_with = "de::bool")]
    pub draft: bool,
    /// Whether it is a pre-release.
    #[serde(deserialize_with = "de::bool")]
    pub prerelease: bool,
    /// Who published it.
    #[serde(deserialize_with = "lenient_user")]
    pub author: User,
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
}
