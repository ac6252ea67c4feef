//! Users and organisations as the API returns them.

use serde::{Deserialize, Serialize};

use super::{Timestamp, UserId};

/// A user, bot or organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct User {
    /// The 24-hex id.
    pub id: UserId,
    /// Login / namespace path.
    pub login: String,
    /// Display name.
    pub name: Option<String>,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Profile page URL.
    pub html_url: Option<String>,
    /// When the account was created.
    pub created_at: Option<Timestamp>,
}
