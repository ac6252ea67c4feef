//! Types shared by several webhook payloads.

use serde::{Deserialize, Serialize};

use super::de;

/// A user or bot that acted (`sender`, `user`, `author`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct User {
    /// Numeric id (0 when not sent or masked).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Login (`username` in GitLab-shaped bodies).
    #[serde(deserialize_with = "de::string")]
    pub login: String,
    /// Display name.
    pub name: Option<String>,
    /// E-mail, when the platform sends it.
    pub email: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Profile page.
    pub html_url: Option<String>,
}

/// The account (user or organization) owning a repository or an installation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Account {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Login (GitHub-shaped bodies).
    #[serde(deserialize_with = "de::string")]
    pub login: String,
    /// Path (AtomGit installations and normalised GitLab bodies).
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    /// `User` or `Organization`, when sent.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl Account {
    /// The path if sent, else the login: what `GET /app/installations` calls `account.path`.
    pub fn path_or_login(&self) -> &str {
        if self.path.is_empty() {
            &self.login
        } else {
            &self.path
        }
    }
}

/// A repository as webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Repository {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Short name (`app`).
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `owner/name`.
    #[serde(deserialize_with = "de::string")]
    pub full_name: String,
    /// The owner.
    #[serde(deserialize_with = "de::or_default")]
    pub owner: Account,
    /// Whether it is private.
    #[serde(deserialize_with = "de::or_default")]
    pub private: bool,
    /// Web page.
    pub html_url: Option<String>,
    /// HTTPS clone URL.
    pub clone_url: Option<String>,
    /// Default branch.
    pub default_branch: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A reference to the installation a delivery belongs to (`installation.id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationRef {
    /// The installation id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
}

/// A label on an issue or pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Label {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Colour, hex without `#`.
    pub color: Option<String>,
}

/// A commit in a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Commit {
    /// The commit SHA (masked in some captures; not validated).
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Commit message.
    #[serde(deserialize_with = "de::string")]
    pub message: String,
    /// Commit time as sent (RFC 3339 on this platform).
    pub timestamp: Option<String>,
    /// Web page.
    pub url: Option<String>,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub author: CommitAuthor,
    /// Paths added.
    #[serde(deserialize_with = "de::or_default")]
    pub added: Vec<String>,
    /// Paths removed.
    #[serde(deserialize_with = "de::or_default")]
    pub removed: Vec<String>,
    /// Paths modified.
    #[serde(deserialize_with = "de::or_default")]
    pub modified: Vec<String>,
}

/// A commit's author or committer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CommitAuthor {
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// E-mail.
    #[serde(deserialize_with = "de::string")]
    pub email: String,
    /// Login, when the platform matched one.
    pub username: Option<String>,
}
