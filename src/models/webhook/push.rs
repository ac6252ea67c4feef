//! `push`: commits or a tag pushed to a repository.

use serde::{Deserialize, Serialize};

use super::PushCommit;
use crate::models::user::lenient as lenient_user;
use crate::models::{InstallationRef, Repository, User, de};

/// The `push` payload (GitHub-shaped, or normalised from a GitLab `Push Hook`/`Tag Push Hook`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PushEvent {
    /// The full ref pushed (`refs/heads/main`, `refs/tags/v1`).
    #[serde(rename = "ref", deserialize_with = "de::string")]
    pub git_ref: String,
    /// SHA before the push (all zeros when the ref was created).
    #[serde(deserialize_with = "de::string")]
    pub before: String,
    /// SHA after the push (all zeros when the ref was deleted).
    #[serde(deserialize_with = "de::string")]
    pub after: String,
    /// The ref was created by this push.
    #[serde(deserialize_with = "de::bool")]
    pub created: bool,
    /// The ref was deleted by this push.
    #[serde(deserialize_with = "de::bool")]
    pub deleted: bool,
    /// The push was a force push.
    #[serde(deserialize_with = "de::bool")]
    pub forced: bool,
    /// The commits pushed.
    #[serde(deserialize_with = "de::or_default")]
    pub commits: Vec<PushCommit>,
    /// The commit now at the ref, when sent.
    pub head_commit: Option<PushCommit>,
    /// Who pushed.
    #[serde(deserialize_with = "de::or_default")]
    pub pusher: Pusher,
    /// The repository (built from `project` when the body has no `repository`).
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// The user who triggered the delivery.
    #[serde(deserialize_with = "lenient_user")]
    pub sender: User,
    /// The installation, when the platform sends it.
    pub installation: Option<InstallationRef>,
}

impl PushEvent {
    /// The branch name, when the ref is `refs/heads/<branch>`.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// The tag name, when the ref is `refs/tags/<tag>`.
    pub fn tag(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/tags/")
    }
}

/// The pusher: a name and an e-mail, not a full user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Pusher {
    /// Name or login.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// E-mail, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub email: Option<String>,
}
