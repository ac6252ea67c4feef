//! Organisation membership and repository permissions, for permission checks on commands.

use serde::{Deserialize, Serialize};

use super::user::lenient as lenient_user;
use super::{User, de};

/// A user's membership of an organisation (`GET /orgs/{org}/memberships/{user}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Membership {
    /// `admin`, `member`, … (the platform's wording).
    #[serde(deserialize_with = "de::string")]
    pub role: String,
    /// `active` or `pending`, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub state: Option<String>,
    /// The member.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
}

/// A user's permission on a repository
/// (`GET /repos/{o}/{r}/collaborators/{user}/permission`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CollaboratorPermission {
    /// `admin`, `write`, `read` or `none` (the platform may use other words, kept as sent).
    #[serde(deserialize_with = "de::string")]
    pub permission: String,
    /// The user.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
}

impl CollaboratorPermission {
    /// Whether the permission allows pushing: `admin`, `maintain`, `write` or `push`.
    pub fn can_write(&self) -> bool {
        matches!(
            self.permission.to_ascii_lowercase().as_str(),
            "admin" | "maintain" | "maintainer" | "write" | "push" | "owner"
        )
    }
}
